"""Live updates over server-sent events, correct across nodes.

Every open page holds one stream. The stream reads only what its page shows, every
``CHARGEGRID_DASHBOARD_POLL_INTERVAL`` seconds, from the database that every node writes
to; it sends htmx out-of-band fragments only for what changed. It re-checks the sign-in
on each read, ends when the client goes away (the response is cancelled; nothing runs
on beside it), and ends at once when the server shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import StreamingResponse

from chargegrid.dashboard.sessions import Session

logger = logging.getLogger(__name__)

KEEPALIVE_S = 15.0  # a comment line at least this often keeps proxies from closing an idle stream
UPDATE = "update"  # the event whose data is out-of-band fragments
ROWS = "rows"  # out-of-band table rows (parsed apart: rows cannot follow other elements)
CLOSE = "close"  # the event after which the page stops listening (signed out)

# What a page's stream reads on each tick: HTML fragments by event name ('' for none).
Tick = Callable[[AsyncConnection], Awaitable[Mapping[str, str]]]
# Opens a read connection (Database.connect).
Connect = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
# Checks the sign-in again on a connection; None when it no longer holds.
Recheck = Callable[[AsyncConnection], Awaitable[Session | None]]


@dataclass
class Streams:
    """The open streams of this process, and the switch that ends them on shutdown."""

    open: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    def close_all(self) -> None:
        """End every stream (they return at their next wait) and refuse new ones."""
        self.closing.set()


def event(name: str, data: str) -> str:
    """One server-sent event (multi-line data is sent line by line)."""
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n"


class Changes:
    """Remembers the fragments sent last and gives only those that changed."""

    def __init__(self) -> None:
        self._sent: dict[str, str] = {}

    def of(self, fragments: Mapping[str, str]) -> str:
        changed = [html for key, html in fragments.items() if self._sent.get(key) != html]
        self._sent.update(fragments)
        return "\n".join(changed)


def respond(
    streams: Streams,
    *,
    open_connection: Connect,
    recheck: Recheck,
    tick: Tick,
    interval: float,
    signed_out: str,
) -> StreamingResponse:
    """A ``text/event-stream`` response running ``tick`` every ``interval`` seconds."""
    return StreamingResponse(
        _run(streams, open_connection, recheck, tick, interval, signed_out),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _run(
    streams: Streams,
    open_connection: Connect,
    recheck: Recheck,
    tick: Tick,
    interval: float,
    signed_out: str,
) -> AsyncIterator[str]:
    if streams.closing.is_set():
        return
    streams.open += 1
    try:
        yield "retry: 2000\n\n"
        quiet_since = time.monotonic()
        while True:
            fragments = await _uninterrupted(_read(open_connection, recheck, tick))
            if fragments is None:
                yield event(UPDATE, signed_out) + event(CLOSE, "signed out")
                return
            sent = "".join(event(name, html) for name, html in fragments.items() if html)
            if sent:
                yield sent
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= KEEPALIVE_S:
                yield ": keepalive\n\n"
                quiet_since = time.monotonic()
            if await _closing_within(streams, interval):
                return
    except Exception:
        logger.exception("a dashboard stream failed")
    finally:
        streams.open -= 1


async def _read(open_connection: Connect, recheck: Recheck, tick: Tick) -> Mapping[str, str] | None:
    """One tick's fragments; None when the sign-in no longer holds."""
    async with open_connection() as conn:
        if await recheck(conn) is None:
            return None
        return await tick(conn)


async def _uninterrupted(read: Awaitable[Mapping[str, str] | None]) -> Mapping[str, str] | None:
    """``read`` run to its end even when the stream is cancelled meanwhile (the client went
    away): a query cut off halfway would leave its connection to be torn down, which on
    aiosqlite can hang. The cancellation then goes on once the read has finished."""
    task = asyncio.ensure_future(read)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


async def _closing_within(streams: Streams, seconds: float) -> bool:
    """Wait ``seconds``; True as soon as the server starts closing."""
    try:
        async with asyncio.timeout(seconds):
            await streams.closing.wait()
    except TimeoutError:
        return False
    return True
