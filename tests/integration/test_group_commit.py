"""CALLs of many chargers that arrive together commit together, each answered after the
commit; one charger's failing CALL does not cost the others theirs."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from tests.integration.conftest import start_server
from tests.integration.harness import (
    ServerProcess,
    delete_charger_row,
    metric_value,
    query,
    scrape_metrics,
)

PASSWORD = "correct-horse-battery"
CHARGERS = [f"CP-G{i:02d}" for i in range(24)]
GROUPS = "chargegrid_ocpp_commit_group_size_count"
GROUPED = "chargegrid_ocpp_commit_group_size_sum"


@pytest.fixture
def one_lane_server(empty_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server with a single write lane: whatever arrives while it commits, waits."""
    process = start_server(empty_database_url, tmp_path, CHARGEGRID_OCPP_WRITE_LANES="1")
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log()


def _status(unique_id: str, status: str) -> str:
    payload = {"connectorId": 1, "errorCode": "NoError", "status": status}
    return json.dumps([2, unique_id, "StatusNotification", payload])


async def _burst(
    sockets: dict[str, ClientConnection], order: list[str], status: str
) -> dict[str, list[Any]]:
    """Every charger in ``order`` sends a StatusNotification at once; their replies."""
    for charger_id in order:
        await sockets[charger_id].send(_status(f"{status}-{charger_id}", status))
    replies = await asyncio.gather(*(asyncio.wait_for(sockets[c].recv(), 30) for c in order))
    return {charger_id: json.loads(reply) for charger_id, reply in zip(order, replies, strict=True)}


def _counted(page: str, sample: str) -> float:
    return metric_value(page, sample) or 0.0


async def test_a_burst_commits_in_groups_and_a_failure_stays_its_own(
    one_lane_server: ServerProcess,
) -> None:
    server = one_lane_server
    for charger_id in [*CHARGERS, "CP-GONE"]:
        await server.register_charger(charger_id, PASSWORD)
    async with contextlib.AsyncExitStack() as stack:
        sockets = {
            charger_id: await stack.enter_async_context(server.websocket(charger_id, PASSWORD))
            for charger_id in [*CHARGERS, "CP-GONE"]
        }
        before = await scrape_metrics(server)
        replies = await _burst(sockets, CHARGERS, "Charging")
        assert replies == {c: [3, f"Charging-{c}", {}] for c in CHARGERS}
        after = await scrape_metrics(server)
        groups = _counted(after, GROUPS) - _counted(before, GROUPS)
        grouped = _counted(after, GROUPED) - _counted(before, GROUPED)
        assert grouped == len(CHARGERS)  # every CALL committed once
        assert groups < len(CHARGERS)  # and not one by one

        # The charger's row vanishes under its live connection: its CALL cannot be stored,
        # and on PostgreSQL the failed statement spoils the whole transaction it runs in.
        await delete_charger_row(server.database_url, "CP-GONE")
        replies = await _burst(sockets, [*CHARGERS[:12], "CP-GONE", *CHARGERS[12:]], "Finishing")

    assert replies.pop("CP-GONE")[:3] == [4, "Finishing-CP-GONE", "InternalError"]
    assert replies == {c: [3, f"Finishing-{c}", {}] for c in CHARGERS}
    stored = await query(server.database_url, "SELECT charger_id, status FROM connectors")
    assert sorted((row["charger_id"], row["status"]) for row in stored) == [
        (c, "Finishing") for c in CHARGERS
    ]
    logged = await query(
        server.database_url,
        "SELECT charger_id, unique_id FROM message_log WHERE action = 'StatusNotification' "
        "AND response IS NOT NULL",
    )
    assert sorted((row["charger_id"], row["unique_id"]) for row in logged) == sorted(
        (c, f"{status}-{c}") for c in CHARGERS for status in ("Charging", "Finishing")
    )
