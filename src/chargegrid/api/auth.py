"""Bearer-token authentication of ``/api/v1``, checked before anything else is read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from chargegrid.api.errors import error_body
from chargegrid.domain.services.access import Role, role_of
from chargegrid.platform import Platform

PROTECTED_PREFIX = "/api/v1"


async def bearer_role(request: Request, platform: Platform) -> Role | Response:
    """The role of the request's bearer token, or the 401 to answer with."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        response = error_body(401, "missing bearer token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="chargegrid"'
        return response
    async with platform.db.connect() as conn:
        role = await role_of(conn, token.strip())
    if role is None:
        response = error_body(401, "invalid bearer token")
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    return role


def install(app: FastAPI, platform: Platform) -> None:
    """Refuse unauthenticated ``/api/v1`` requests before their bodies are parsed."""

    @app.middleware("http")
    async def authenticate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith(PROTECTED_PREFIX):
            outcome = await bearer_role(request, platform)
            if isinstance(outcome, Response):
                return outcome
            request.state.role = outcome
        return await call_next(request)
