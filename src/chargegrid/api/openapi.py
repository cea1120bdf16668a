"""The OpenAPI document: FastAPI's, plus how callers authenticate."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from chargegrid.api import ocpi_schemas
from chargegrid.api.auth import PROTECTED_PREFIX, PUBLIC_PATHS

BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key (`chargegrid token create`) or an access token (a JWT) "
    "from `POST /api/v1/auth/token`.",
}


def install(app: FastAPI) -> None:
    """Document the bearer scheme on every protected operation, and the OCPI objects."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {})
            components["securitySchemes"] = {"bearer": BEARER}
            components.setdefault("schemas", {}).update(ocpi_schemas.components())
            for path, operations in schema["paths"].items():
                if path.startswith(PROTECTED_PREFIX) and path not in PUBLIC_PATHS:
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
