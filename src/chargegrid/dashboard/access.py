"""Who may see and do what on the dashboard: sign-in, CSRF tokens and roles.

Every page except the sign-in page needs a session; every unsafe request (POST, PUT,
PATCH, DELETE) also needs the session's CSRF token, in the ``X-CSRF-Token`` header
(htmx sends it) or the ``csrf_token`` form field. Roles rank as in the API: viewer <
operator < admin.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from chargegrid.api.sign_in_limits import FailedSignIns
from chargegrid.dashboard.daily import DailyHistory
from chargegrid.dashboard.sessions import COOKIE, Session, SessionCookies, same_token
from chargegrid.dashboard.streams import Streams
from chargegrid.domain.services.access import Role
from chargegrid.platform import Platform
from chargegrid.storage.repositories.network import Revenue
from chargegrid.values import immutable

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@immutable
class Dashboard:
    """What the dashboard's routes share: the platform, sessions, open streams and the
    failed sign-in counter (the API's, so both front ends count together)."""

    platform: Platform
    sessions: SessionCookies
    streams: Streams
    failed_sign_ins: FailedSignIns
    energy: DailyHistory[float]  # Wh of the transactions that ended each day
    revenue: DailyHistory[Revenue]  # of the CDRs issued each day


def dashboard_of(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


DashboardDep = Annotated[Dashboard, Depends(dashboard_of)]


class SignInRequired(Exception):
    """The request needs a session it does not have."""


class Refused(Exception):
    """The request is understood but not allowed or not possible (shown as an error)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def allows(role: Role, minimum: Role) -> bool:
    """Whether ``role`` ranks at least as high as ``minimum``."""
    return RANK[role] >= RANK[minimum]


async def session_of(request: Request, dashboard: Dashboard) -> Session | None:
    """The request's valid session, or None."""
    platform = dashboard.platform
    async with platform.db.connect() as conn:
        return await dashboard.sessions.open(
            conn, request.cookies.get(COOKIE), now=platform.clock.now()
        )


async def signed_in(request: Request, dashboard: DashboardDep) -> Session:
    """The session of the request; on unsafe methods its CSRF token must come along."""
    session = await session_of(request, dashboard)
    if session is None:
        raise SignInRequired()
    if request.method not in SAFE_METHODS:
        token = request.headers.get(CSRF_HEADER)
        if token is None:
            field: Any = (await request.form()).get(CSRF_FIELD)
            token = field if isinstance(field, str) else None
        if not same_token(token, session.csrf_token):
            raise Refused(
                403,
                "The form has expired or did not come from this dashboard. "
                "Reload the page and try again.",
            )
    request.state.session = session
    return session


SessionDep = Annotated[Session, Depends(signed_in)]


def require(minimum: Role) -> Any:
    """A dependency that lets only sessions of at least the ``minimum`` role through."""

    async def check(session: SessionDep) -> Session:
        if not allows(session.user.role, minimum):
            raise Refused(403, f"This needs the {minimum.value} role.")
        return session

    return Depends(check)
