"""Keepalive on a real server: quiet chargers are pinged, a dead connection is dropped."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.integration.conftest import start_server
from tests.integration.harness import ServerProcess, metric_value, scrape_metrics
from tests.integration.test_handshake import heartbeat

PASSWORD = "correct-horse-battery"
INTERVAL_S = 0.4

sqlite_only = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)


Counts = tuple[float | None, float | None, float | None]


async def keepalive_counts(server: ServerProcess) -> Counts:
    """Pings sent, connections closed for a missing pong, and OCPP 1.6 chargers connected."""
    text = await scrape_metrics(server)
    return (
        metric_value(text, "chargegrid_keepalive_pings_total"),
        metric_value(text, "chargegrid_keepalive_timeouts_total"),
        metric_value(text, "chargegrid_connected_chargers", version="1.6"),
    )


@sqlite_only
async def test_only_quiet_chargers_are_pinged_and_one_that_never_answers_is_dropped(
    empty_database_url: str, tmp_path: Path
) -> None:
    server = start_server(
        empty_database_url,
        tmp_path,
        CHARGEGRID_OCPP_PING_INTERVAL=str(INTERVAL_S),
        CHARGEGRID_OCPP_PING_TIMEOUT=str(INTERVAL_S),
        CHARGEGRID_OCPP_CLOSE_TIMEOUT="0.5",
    )
    try:
        for charger_id in ("CP-TALK", "CP-QUIET", "CP-DEAD"):
            await server.register_charger(charger_id, PASSWORD)

        started = time.monotonic()
        async with (
            server.websocket("CP-TALK", PASSWORD) as talking,
            server.websocket("CP-QUIET", PASSWORD) as quiet,
        ):
            for _ in range(16):  # four intervals; the client answers pings by itself
                await heartbeat(talking)
                await asyncio.sleep(INTERVAL_S / 4)
            pings, timeouts, connected = await keepalive_counts(server)
            elapsed = time.monotonic() - started
            # CP-QUIET's, once every 1 to 1¼ intervals; CP-TALK would have added as many.
            assert pings is not None
            assert 1 <= pings <= elapsed / INTERVAL_S, (pings, elapsed)
            assert (timeouts, connected) == (0, 2)
            await heartbeat(quiet)  # answered pings kept it open

        async with server.websocket("CP-DEAD", PASSWORD) as dead:
            await heartbeat(dead)
            dead.transport.pause_reading()  # no pongs from now on
            deadline = time.monotonic() + 10
            while (await keepalive_counts(server))[2] != 0:
                assert time.monotonic() < deadline, "the unanswering charger was not dropped"
                await asyncio.sleep(0.1)
            _, timeouts, _ = await keepalive_counts(server)
            assert timeouts == 1
            assert "charger CP-DEAD did not answer a ping" in server.log()
    finally:
        code = server.stop()
        assert code == 0, f"server exited with {code}:\n{server.log()}"
