"""The operator dashboard: server-rendered pages (Jinja2 + htmx) with live updates over
server-sent events, served beside the API by ``chargegrid serve`` at ``/``.

Static files (htmx, its SSE extension, uPlot, Leaflet; see ``static/vendor/VENDOR.md``)
ship inside the package: no CDN, no build step.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from chargegrid.api.sign_in_limits import FailedSignIns
from chargegrid.dashboard.access import Dashboard, signed_in
from chargegrid.dashboard.daily import DailyHistory
from chargegrid.dashboard.routes import (
    charger,
    charger_tariffs,
    chargers,
    commands,
    id_tokens,
    login,
    overview,
    tariffs,
    transaction,
    transactions,
    users,
    webhooks,
)
from chargegrid.dashboard.sessions import SessionCookies
from chargegrid.dashboard.streams import Streams
from chargegrid.platform import Platform
from chargegrid.storage.repositories import network

STATIC_DIR = Path(__file__).parent / "static"


def install(app: FastAPI, platform: Platform, failed_sign_ins: FailedSignIns) -> None:
    """Serve the dashboard's pages at ``/`` and its files at ``/static``."""
    app.state.dashboard = Dashboard(
        platform=platform,
        sessions=SessionCookies(ttl_s=platform.settings.dashboard_session_ttl),
        streams=Streams(),
        failed_sign_ins=failed_sign_ins,
        energy=DailyHistory(network.energy_by_day),
        revenue=DailyHistory(network.revenue_by_day),
    )
    app.include_router(login.router)
    for module in (
        overview,
        chargers,
        charger,
        charger_tariffs,
        commands,
        transactions,
        transaction,
        id_tokens,
        tariffs,
        users,
        webhooks,
    ):
        app.include_router(module.router, dependencies=[Depends(signed_in)])
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def close_streams(app: FastAPI) -> None:
    """End the dashboard's live streams (on shutdown: they would hold the server open)."""
    dashboard: Dashboard | None = getattr(app.state, "dashboard", None)
    if dashboard is not None:
        dashboard.streams.close_all()
