"""/login and /logout: signing in with an operator account, and out again.

The password is checked by the users service, as for the API's tokens, and failures
count in the same limiter. The sign-in form carries its own CSRF token (a cookie and a
field that must match), so another site cannot sign a browser in to an account of its
choosing.
"""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from chargegrid.dashboard.access import DashboardDep, SessionDep, session_of
from chargegrid.dashboard.pages import DashboardRoute, page
from chargegrid.dashboard.sessions import COOKIE, same_token
from chargegrid.domain.services import users

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

FORM_COOKIE = "chargegrid_signin"
FORM_COOKIE_PATH = "/login"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never elsewhere."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or target.startswith("/login")
    ):
        return "/"
    return target


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _form(
    request: Request, *, next: str, email: str = "", error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        status=status,
        csrf_token=token,
        next=next,
        email=email,
        error=error,
        notice=None,
    )
    response.set_cookie(
        FORM_COOKIE,
        token,
        max_age=3600,
        path=FORM_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )
    return response


@router.get("/login")
async def sign_in_form(request: Request, dashboard: DashboardDep, next: str = "/") -> Response:
    if await session_of(request, dashboard) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next=safe_next(next))


@router.post("/login")
async def sign_in(
    request: Request,
    dashboard: DashboardDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    target = safe_next(next)
    if not same_token(request.cookies.get(FORM_COOKIE), csrf_token) or not csrf_token:
        return _form(
            request,
            next=target,
            email=email,
            error="The sign-in form had expired. Please try again.",
            status=403,
        )
    address = request.client.host if request.client else "unknown"
    key = f"{email.strip().lower()}|{address}"
    failures = dashboard.failed_sign_ins
    wait = failures.retry_after(key)
    if wait is not None:
        response = _form(
            request,
            next=target,
            email=email,
            error=f"Too many failed sign-ins. Try again in {max(1, math.ceil(wait))} seconds.",
            status=429,
        )
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    platform = dashboard.platform
    async with platform.db.connect() as conn:
        user = await users.authenticate(conn, email, password)
    if user is None:
        failures.fail(key)
        return _form(
            request, next=target, email=email, error="Wrong e-mail or password.", status=401
        )
    failures.clear(key)
    now = platform.clock.now()
    cookies = dashboard.sessions
    if not cookies.has_key:
        async with platform.db.begin() as conn:
            await cookies.load_key(conn, now=now)
    redirect = RedirectResponse(target, status_code=303)
    redirect.set_cookie(
        COOKIE,
        cookies.issue(user, now=now),
        max_age=cookies.ttl_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_https(request),
    )
    redirect.delete_cookie(FORM_COOKIE, path=FORM_COOKIE_PATH)
    return redirect


@router.post("/logout")
async def sign_out(request: Request, session: SessionDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=_https(request))
    return response
