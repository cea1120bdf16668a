"""The FastAPI application: ``/api/v1``, ``/health``, ``/metrics``, ``/openapi.json``, and
the operator dashboard at ``/``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from chargegrid import __version__, dashboard
from chargegrid.api import auth, errors, openapi
from chargegrid.api.routes import auth as auth_routes
from chargegrid.api.routes import (
    cdrs,
    chargers,
    commands,
    configuration,
    id_tokens,
    local_lists,
    system,
    tariffs,
    transactions,
    users,
    webhooks,
)
from chargegrid.platform import Platform


def create_app(platform: Platform) -> FastAPI:
    """Build the HTTP application around a running platform."""
    app = FastAPI(
        title="chargegrid",
        version=__version__,
        description="Operator API of the chargegrid EV charging platform.",
    )
    app.state.platform = platform
    errors.install(app)
    auth.install(app, platform)
    api = APIRouter(prefix="/api/v1")
    for module in (
        auth_routes,
        chargers,
        commands,
        configuration,
        id_tokens,
        local_lists,
        tariffs,
        cdrs,
        transactions,
        users,
        webhooks,
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(system.router)
    openapi.install(app)
    dashboard.install(app, platform, app.state.failed_sign_ins)
    return app
