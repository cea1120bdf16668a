"""Bearer authentication of ``/api/v1``, checked before anything else is read.

A bearer is either an API token (machines; ``chargegrid token create``) or a user's
access token (a JWT from ``POST /api/v1/auth/token``). The caller's role, principal
(``user:<email>`` or ``token:<name>``) and user (None for API tokens) go to
``request.state``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from chargegrid.api.errors import error_body
from chargegrid.api.sign_in_limits import FailedSignIns
from chargegrid.domain.services.access import Role, client_of
from chargegrid.domain.services.access_tokens import AccessTokens, looks_like_access_token
from chargegrid.domain.users import User
from chargegrid.platform import Platform
from chargegrid.values import immutable

PROTECTED_PREFIX = "/api/v1"
TOKEN_PATH = "/api/v1/auth/token"
PUBLIC_PATHS = frozenset({TOKEN_PATH})


@immutable
class Caller:
    """Who is calling: their role, how actions are recorded, and the user if one."""

    role: Role
    principal: str
    user: User | None = None


async def identify(request: Request, platform: Platform, tokens: AccessTokens) -> Caller | Response:
    """The caller named by the request's bearer token, or the 401 to answer with."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        response = error_body(401, "missing bearer token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="chargegrid"'
        return response
    caller: Caller | None = None
    async with platform.db.connect() as conn:
        if looks_like_access_token(token):
            user = await tokens.verify(conn, token, now=platform.clock.now())
            if user is not None:
                caller = Caller(user.role, user.principal, user)
        else:
            client = await client_of(conn, token)
            if client is not None:
                caller = Caller(client.role, client.principal)
    if caller is None:
        response = error_body(401, "invalid bearer token")
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    return caller


def install(app: FastAPI, platform: Platform) -> None:
    """Refuse unauthenticated ``/api/v1`` requests before their bodies are parsed."""
    settings = platform.settings
    tokens = AccessTokens(ttl_s=settings.access_token_ttl)
    app.state.access_tokens = tokens
    app.state.failed_sign_ins = FailedSignIns(
        settings.auth_failure_limit, settings.auth_failure_window
    )

    @app.middleware("http")
    async def authenticate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path.startswith(PROTECTED_PREFIX) and path not in PUBLIC_PATHS:
            outcome = await identify(request, platform, tokens)
            if isinstance(outcome, Response):
                return outcome
            request.state.role = outcome.role
            request.state.principal = outcome.principal
            request.state.user = outcome.user
        return await call_next(request)
