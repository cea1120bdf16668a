"""Graceful shutdown of a real server on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import UTC, datetime

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.integration.harness import ServerProcess, exchange, query

PASSWORD = "shutdown-password-1"

sqlite_only = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)


def as_utc(value: object) -> datetime:
    """A datetime column read with plain SQL (SQLite gives text in UTC, PostgreSQL aware)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime), value
    return value.astimezone(UTC)


async def stops_gracefully(server: ServerProcess, signum: signal.Signals) -> None:
    """With chargers connected, ``signum`` closes them with 1001 and exits 0 promptly."""
    assert server.process is not None
    for charger_id in ("CP-1", "CP-2"):
        await server.register_charger(charger_id, PASSWORD)
    async with (
        server.websocket("CP-1", PASSWORD) as first,
        server.websocket("CP-2", PASSWORD) as second,
    ):
        for ws in (first, second):
            reply = await exchange(ws, json.dumps([2, "hb-1", "Heartbeat", {}]))
            assert reply[:2] == [3, "hb-1"], reply

        signalled_at = datetime.now(UTC)
        started = time.monotonic()
        server.process.send_signal(signum)
        for ws in (first, second):
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None, "the server did not send a close frame"
            assert closed.value.rcvd.code == 1001
        code = await asyncio.to_thread(server.process.wait, 10)
        elapsed = time.monotonic() - started

    assert code == 0, server.log()
    assert elapsed < 5, f"shutting down took {elapsed:.1f}s"
    log = server.log()
    assert "shutting down" in log
    assert log.rstrip().endswith("chargegrid: stopped"), log[-2000:]
    assert "Traceback" not in log

    # Both listeners are gone.
    async with httpx.AsyncClient(timeout=2) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{server.http_url}/health")
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", server.ocpp_port)

    # The disconnections were recorded before the database was closed.
    rows = await query(
        server.database_url,
        "SELECT id, connected_at, disconnected_at FROM chargers ORDER BY id",
    )
    assert [row["id"] for row in rows] == ["CP-1", "CP-2"]
    for row in rows:
        assert row["disconnected_at"] is not None, row
        assert as_utc(row["connected_at"]) < signalled_at <= as_utc(row["disconnected_at"]), row


async def test_sigterm_closes_chargers_and_exits_0(server: ServerProcess) -> None:
    await stops_gracefully(server, signal.SIGTERM)


@sqlite_only
async def test_sigint_closes_chargers_and_exits_0(server: ServerProcess) -> None:
    await stops_gracefully(server, signal.SIGINT)
