"""Rendering pages and fragments, errors as HTML, and the headers every response carries.

Dashboard routes use ``DashboardRoute``: whatever a route raises (sign-in needed, refused,
a domain error, a bug) becomes an HTML page, or for an htmx request a fragment, never
the API's JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from chargegrid.config import Settings
from chargegrid.dashboard.access import Refused, SignInRequired, allows, dashboard_of
from chargegrid.dashboard.sessions import Session
from chargegrid.dashboard.templating import render
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.services.access import Role

logger = logging.getLogger(__name__)

# The main navigation: path, label and the least role that sees the page.
NAV = (
    ("/", "Overview", Role.VIEWER),
    ("/chargers", "Chargers", Role.VIEWER),
    ("/transactions", "Transactions", Role.VIEWER),
    ("/id-tokens", "Id tokens", Role.VIEWER),
    ("/tariffs", "Tariffs", Role.VIEWER),
    ("/webhooks", "Webhooks", Role.VIEWER),
    ("/users", "Users", Role.ADMIN),
)

_STATUS = {
    ErrorKind.NOT_FOUND: HTTPStatus.NOT_FOUND,
    ErrorKind.CONFLICT: HTTPStatus.CONFLICT,
    ErrorKind.INVALID: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorKind.FORBIDDEN: HTTPStatus.FORBIDDEN,
}


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def page(
    request: Request, template: str, *, section: str = "", status: int = 200, **context: Any
) -> HTMLResponse:
    """A whole page in the layout, for the request's signed-in user (if any)."""
    session: Session | None = getattr(request.state, "session", None)
    nav = [] if session is None else nav_of(session.user.role)
    values = {**_common(request, session), "section": section, "nav": nav, **context}
    return HTMLResponse(render(template, **values), status_code=status)


def nav_of(role: Role) -> list[tuple[str, str]]:
    """The main navigation's links a role sees."""
    return [(href, label) for href, label, minimum in NAV if allows(role, minimum)]


def fragment(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A part of a page (an htmx swap)."""
    session: Session | None = getattr(request.state, "session", None)
    return HTMLResponse(render(template, **{**_common(request, session), **context}), status)


def _common(request: Request, session: Session | None) -> dict[str, Any]:
    dashboard = dashboard_of(request)
    role = None if session is None else session.user.role
    return {
        "user": None if session is None else session.user,
        "csrf_token": "" if session is None else session.csrf_token,
        "can_command": role is not None and allows(role, Role.OPERATOR),
        "is_admin": role is not None and allows(role, Role.ADMIN),
        "now": dashboard.platform.clock.now(),
        "settings": dashboard.platform.settings,
        "path": request.url.path,
    }


def error(request: Request, status: int, message: str) -> HTMLResponse:
    """An error as a page, or as an alert fragment for htmx."""
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    if is_htmx(request):
        return fragment(request, "_error.html", status=status, title=title, message=message)
    return page(request, "error.html", status=status, title=title, message=message)


def sign_in_redirect(request: Request) -> Response:
    """Off to the sign-in page, and back here afterwards."""
    if is_htmx(request):
        current = urlsplit(request.headers.get("HX-Current-URL", "/"))
        back = current.path + (f"?{current.query}" if current.query else "")
        return Response(status_code=401, headers={"HX-Redirect": login_url(back)})
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(login_url(back), status_code=303)


def login_url(back: str) -> str:
    return "/login" if back in ("", "/") else f"/login?next={quote(back, safe='/')}"


def content_security_policy(settings: Settings) -> str:
    """Scripts and styles from this server only; map tiles from their server."""
    images = "'self' data:"
    tiles = urlsplit(settings.dashboard_tile_url.replace("{s}.", "*."))
    if tiles.scheme in ("http", "https") and tiles.netloc:
        images += f" {tiles.scheme}://{tiles.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def secure(response: Response, settings: Settings) -> None:
    response.headers.setdefault("Content-Security-Policy", content_security_policy(settings))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")


class DashboardRoute(APIRoute):
    """A route whose failures are shown as HTML and whose responses carry the headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                response = sign_in_redirect(request)
            except Refused as refused:
                response = error(request, refused.status, refused.message)
            except DomainError as failure:
                response = error(request, _STATUS[failure.kind], failure.message)
            except RequestValidationError:
                response = error(request, 400, "The address or the form has invalid values.")
            except HTTPException as failure:
                response = error(request, failure.status_code, str(failure.detail))
            except Exception:
                logger.exception("dashboard page %s failed", request.url.path)
                response = error(request, 500, "Something went wrong; the server log has details.")
            secure(response, dashboard_of(request).platform.settings)
            return response

        return route
