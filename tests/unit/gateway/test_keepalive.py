"""``Keepalive`` without a socket: who is pinged, and what a missing pong costs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest

from chargegrid.gateway.connection import ChargerConnection
from chargegrid.gateway.keepalive import Keepalive
from chargegrid.metrics import Metrics
from tests.polling import until
from tests.unit.gateway.test_connection import CLOSED, QueueTransport, SlowSink, connection

INTERVAL = 0.2


@asynccontextmanager
async def keeping_alive(
    connections: Sequence[ChargerConnection], *, pong_within: float = 0.2
) -> AsyncIterator[Metrics]:
    """The connections running, and a keepalive over them (stopped after the block)."""
    metrics = Metrics()
    keepalive = Keepalive(
        lambda: connections, interval=INTERVAL, timeout=pong_within, metrics=metrics
    )
    readers = [asyncio.create_task(c.run()) for c in connections]
    keepalive.start()
    try:
        yield metrics
    finally:
        await keepalive.stop()
        for c in connections:
            c.transport.incoming.put_nowait(CLOSED)  # type: ignore[attr-defined]
        await asyncio.wait_for(asyncio.gather(*readers), 5)


def counted(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(f"chargegrid_keepalive_{name}_total")
    assert value is not None
    return value


async def test_a_charger_that_talks_is_never_pinged_a_quiet_one_about_once_an_interval() -> None:
    talking, quiet = QueueTransport(), QueueTransport()
    connections = [connection(talking, SlowSink(0)), connection(quiet, SlowSink(0))]
    started = time.monotonic()
    async with keeping_alive(connections) as metrics:
        for n in range(24):  # 1.2 s: six intervals
            talking.incoming.put_nowait(json.dumps([2, f"hb-{n}", "Heartbeat", {}]))
            await asyncio.sleep(INTERVAL / 4)
        elapsed = time.monotonic() - started
    assert talking.pings == 0
    # Pinged once quiet for an interval, looked at four times an interval: once every
    # 1 to 1¼ intervals (up to 2 when the loop lags).
    assert elapsed / (INTERVAL * 2) - 1 <= quiet.pings <= elapsed / INTERVAL, quiet.pings
    assert counted(metrics, "pings") == quiet.pings
    assert quiet.closed_with is None
    assert counted(metrics, "timeouts") == 0


async def test_a_charger_that_does_not_answer_a_ping_is_closed_with_1011() -> None:
    deaf = QueueTransport(answers_pings=False)
    deaf_connection = connection(deaf, SlowSink(0))
    async with keeping_alive([deaf_connection], pong_within=0.3) as metrics:
        await until(lambda: deaf.pings == 1)
        pinged = time.monotonic()
        assert deaf.closed_with is None  # the pong is not due yet
        await until(lambda: deaf_connection.closed)  # the reader saw the socket close
        assert time.monotonic() - pinged >= 0.25  # it waited for the pong
        assert deaf.closed_with == (1011, "keepalive ping timeout")
        assert counted(metrics, "timeouts") == 1
        await asyncio.sleep(INTERVAL * 2)
    assert deaf.pings == 1  # a closed connection is not pinged again


async def test_stopping_cancels_the_pings_waiting_for_their_pong() -> None:
    deaf = QueueTransport(answers_pings=False)
    async with keeping_alive([connection(deaf, SlowSink(0))], pong_within=60) as metrics:
        await until(lambda: deaf.pings == 1)
    assert deaf.closed_with is None  # the ping was cancelled, not timed out
    assert counted(metrics, "timeouts") == 0


def test_an_interval_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        Keepalive(list, interval=0, timeout=1, metrics=Metrics())
