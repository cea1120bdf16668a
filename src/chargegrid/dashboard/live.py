"""A page's live stream: its reads on each tick, behind the same sign-in as the page."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import StreamingResponse

from chargegrid.dashboard.access import Dashboard
from chargegrid.dashboard.sessions import COOKIE, Session
from chargegrid.dashboard.streams import ROWS, UPDATE, Changes, Tick, respond
from chargegrid.dashboard.templating import render

__all__ = ["ROWS", "UPDATE", "Changes", "stream"]


def stream(request: Request, dashboard: Dashboard, tick: Tick) -> StreamingResponse:
    """Server-sent events of ``tick``'s fragments while the session holds."""
    platform = dashboard.platform
    cookie = request.cookies.get(COOKIE)
    back = request.headers.get("Referer", "/")

    async def recheck(conn: AsyncConnection) -> Session | None:
        return await dashboard.sessions.open(conn, cookie, now=platform.clock.now())

    return respond(
        dashboard.streams,
        open_connection=platform.db.connect,
        recheck=recheck,
        tick=tick,
        interval=platform.settings.dashboard_poll_interval,
        signed_out=render("_signed_out.html", next=_path_of(back)),
    )


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") or "/"
