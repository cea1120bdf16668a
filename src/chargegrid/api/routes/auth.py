"""/api/v1/auth: sign-in (OAuth2 password flow) and "who am I"."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request

from chargegrid.api.deps import (
    AccessTokensDep,
    CallerPrincipal,
    CallerUser,
    FailedSignInsDep,
    PlatformDep,
    ReadConn,
    caller_role,
)
from chargegrid.api.schemas import AccessTokenOut, CallerOut, UserOut
from chargegrid.domain.services import users
from chargegrid.domain.services.access import Role

router = APIRouter(prefix="/auth", tags=["auth"])

_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="chargegrid"'}


@router.post(
    "/token",
    responses={
        400: {"description": "grant_type is not 'password'."},
        401: {"description": "Unknown email, wrong password or disabled user."},
        429: {"description": "Too many failed sign-ins for this email from this address."},
    },
)
async def issue_token(
    request: Request,
    username: Annotated[str, Form(description="The user's email.")],
    password: Annotated[str, Form()],
    conn: ReadConn,
    platform: PlatformDep,
    tokens: AccessTokensDep,
    failures: FailedSignInsDep,
    grant_type: Annotated[str | None, Form(description="'password' (the default).")] = None,
) -> AccessTokenOut:
    """Sign in with an email and a password (form-encoded); returns an access token.

    Send the token as ``Authorization: Bearer <access_token>``. Errors use the API's
    error body (``{"error": {"status", "message"}}``), not OAuth2's ``invalid_grant``.
    """
    if grant_type is not None and grant_type != "password":
        raise HTTPException(400, f"unsupported grant_type {grant_type!r}: use 'password'")
    address = request.client.host if request.client else "unknown"
    key = f"{username.strip().lower()}|{address}"
    wait = failures.retry_after(key)
    if wait is not None:
        raise HTTPException(
            429,
            "too many failed sign-ins; try again later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    user = await users.authenticate(conn, username, password)
    if user is None:
        failures.fail(key)
        raise HTTPException(401, "wrong email or password", headers=_UNAUTHORIZED)
    failures.clear(key)
    now = platform.clock.now()
    if not tokens.has_key:
        async with platform.db.begin() as write:
            await tokens.load_key(write, now=now)
    issued = tokens.issue(user, now=now)
    return AccessTokenOut(access_token=issued.token, expires_in=issued.expires_in)


@router.get("/me")
async def who_am_i(
    role: Annotated[Role, Depends(caller_role)], principal: CallerPrincipal, user: CallerUser
) -> CallerOut:
    """The caller: a signed-in user or an API token, and its role."""
    return CallerOut(
        principal=principal, role=role, user=None if user is None else UserOut.of(user)
    )
