"""A live stream ends when its page goes away and leaves nothing running behind it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from chargegrid.dashboard.access import Dashboard
from chargegrid.domain.clock import SystemClock
from chargegrid.domain.services import users
from chargegrid.storage.engine import Database
from tests.integration.dashboard.client import PASSWORD, sign_in
from tests.integration.dashboard.inprocess import application
from tests.integration.harness import free_port
from tests.polling import until

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """``app`` on uvicorn in this process; its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        await until(lambda: server.started, within=10)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def ours(tasks: set[asyncio.Task[object]]) -> set[asyncio.Task[object]]:
    """Tasks left running, but for SQLAlchemy's own: when a query of aiosqlite is cut off
    as its connection is invalidated, SQLAlchemy closes the connection by force and may
    leave its shielded graceful close pending (its thread was stopped under it)."""
    return {t for t in tasks if "_terminate_graceful_close" not in repr(t.get_coro())}


@sqlite_only
async def test_a_stream_ends_with_its_client_and_leaves_no_task(db: Database) -> None:
    async with db.begin() as conn:
        await users.create(
            conn,
            email="op@example.com",
            password=PASSWORD,
            role="operator",
            now=SystemClock().now(),
        )
    app = application(db, dashboard_poll_interval=0.05)
    streams = app.state.dashboard.streams
    assert isinstance(app.state.dashboard, Dashboard)
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        await sign_in(client, "op@example.com")
        before = asyncio.all_tasks()
        for path in ("/live/overview", "/live/chargers?id=CP-1", "/live/chargers/CP-1"):
            async with client.stream("GET", path) as response:
                assert response.status_code == 200
                lines = response.aiter_lines()
                assert await anext(lines) == "retry: 2000"
                await until(lambda: streams.open == 1)
                await asyncio.sleep(0.2)  # several ticks
            await until(lambda: streams.open == 0)
        await until(lambda: not ours(asyncio.all_tasks() - before))
