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


async def _connect(
    server: ServerProcess, stack: contextlib.AsyncExitStack, charger_ids: list[str]
) -> dict[str, ClientConnection]:
    """Register the chargers and connect each (until ``stack`` closes)."""
    for charger_id in charger_ids:
        await server.register_charger(charger_id, PASSWORD)
    return {
        charger_id: await stack.enter_async_context(server.websocket(charger_id, PASSWORD))
        for charger_id in charger_ids
    }


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
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _connect(server, stack, [*CHARGERS, "CP-GONE"])
        boot = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}
        booted = await _together(
            sockets, {c: [2, f"boot-{c}", "BootNotification", boot] for c in sockets}
        )
        assert {reply["status"] for reply in booted.values()} == {"Accepted"}
        before = await scrape_metrics(server)
        replies = await _burst(sockets, CHARGERS, "Charging")
        assert replies == {c: [3, f"Charging-{c}", {}] for c in CHARGERS}
        after = await scrape_metrics(server)
        groups = _counted(after, GROUPS) - _counted(before, GROUPS)
        grouped = _counted(after, GROUPED) - _counted(before, GROUPED)
        assert grouped == len(CHARGERS)  # every CALL committed once
        assert groups < len(CHARGERS)  # and not one by one

        # The charger's row vanishes under its live connection: its CALL cannot be stored.
        # Its writes fail with those of its whole group (on PostgreSQL a failed statement
        # spoils the transaction it runs in; the group's blind writes are one statement).
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


async def _together(
    sockets: dict[str, ClientConnection], frames: dict[str, list[Any]]
) -> dict[str, Any]:
    """Every charger sends its frame at once; their replies' payloads."""
    for charger_id, frame in frames.items():
        await sockets[charger_id].send(json.dumps(frame))
    replies = await asyncio.gather(*(asyncio.wait_for(sockets[c].recv(), 30) for c in frames))
    decoded = [json.loads(reply) for reply in replies]
    assert [reply[:2] for reply in decoded] == [[3, frame[1]] for frame in frames.values()]
    return {c: reply[2] for c, reply in zip(frames, decoded, strict=True)}


async def test_transactions_of_a_group_are_read_together_and_each_kept_right(
    one_lane_server: ServerProcess,
) -> None:
    server = one_lane_server
    chargers = CHARGERS[:12]
    at = "2026-03-04T05:06:07Z"
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _connect(server, stack, chargers)
        start = {"connectorId": 1, "idTag": "TAG", "meterStart": 1000, "timestamp": at}
        started = await _together(
            sockets, {c: [2, f"start-{c}", "StartTransaction", start] for c in chargers}
        )
        ids = {c: reply["transactionId"] for c, reply in started.items()}
        assert len(set(ids.values())) == len(chargers)
        before = await scrape_metrics(server)
        for round_ in (1, 2):
            readings = {
                c: [
                    2,
                    f"meter-{round_}-{c}",
                    "MeterValues",
                    {
                        "connectorId": 1,
                        "transactionId": ids[c],
                        "meterValue": [
                            {
                                "timestamp": f"2026-03-04T05:{10 + round_}:00Z",
                                "sampledValue": [{"value": str(1000 + 10 * i * round_)}],
                            }
                        ],
                    },
                ]
                for i, c in enumerate(chargers)
            }
            assert list((await _together(sockets, readings)).values()) == [{}] * len(chargers)
        readings_kept = await query(
            server.database_url,
            "SELECT t.charger_id, max(e.energy_last_wh) AS wh FROM transactions t "
            "JOIN transaction_events e ON e.transaction_pk = t.id GROUP BY t.charger_id",
        )
        assert sorted((r["charger_id"], r["wh"]) for r in readings_kept) == [
            (c, 1000.0 + 20 * i) for i, c in enumerate(chargers)
        ]
        stops = {
            c: [
                2,
                f"stop-{c}",
                "StopTransaction",
                {
                    "transactionId": ids[c],
                    "meterStop": 1000 + 100 * i,
                    "timestamp": at[:-3] + "59Z",
                },
            ]
            for i, c in enumerate(chargers)
        }
        await _together(sockets, stops)
        after = await scrape_metrics(server)
    groups = _counted(after, GROUPS) - _counted(before, GROUPS)
    assert groups < 3 * len(chargers)  # the readings and stops went in groups
    stored = await query(
        server.database_url,
        "SELECT charger_id, transaction_id, status, energy_wh FROM transactions",
    )
    assert sorted(
        (r["charger_id"], r["transaction_id"], r["status"], r["energy_wh"]) for r in stored
    ) == sorted((c, str(ids[c]), "completed", 100.0 * i) for i, c in enumerate(chargers))


async def test_writes_left_to_the_end_of_a_group_are_each_stored(
    one_lane_server: ServerProcess,
) -> None:
    server = one_lane_server
    chargers = CHARGERS[:12]
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _connect(server, stack, chargers)
        before = await scrape_metrics(server)
        beats = await _together(sockets, {c: [2, f"beat-{c}", "Heartbeat", {}] for c in chargers})
        assert all("currentTime" in reply for reply in beats.values())
        faults = {
            c: [
                2,
                f"fault-{c}",
                "StatusNotification",
                {"connectorId": 0, "errorCode": "GroundFailure", "status": "Faulted"},
            ]
            for c in chargers
        }
        assert list((await _together(sockets, faults)).values()) == [{}] * len(chargers)
        after = await scrape_metrics(server)
    assert _counted(after, GROUPS) - _counted(before, GROUPS) < 2 * len(chargers)
    stored = await query(
        server.database_url,
        "SELECT id, status, error_code, last_heartbeat_at IS NOT NULL AS beat FROM chargers",
    )
    assert sorted((r["id"], r["status"], r["error_code"], r["beat"]) for r in stored) == [
        (c, "Faulted", "GroundFailure", True) for c in chargers
    ]
    history = await query(
        server.database_url, "SELECT charger_id, status FROM status_changes WHERE evse_id IS NULL"
    )
    assert sorted((r["charger_id"], r["status"]) for r in history) == [
        (c, "Faulted") for c in chargers
    ]
    logged = await query(
        server.database_url,
        "SELECT count(*) AS n FROM message_log WHERE action IN ('Heartbeat', 'StatusNotification')",
    )
    assert logged[0]["n"] == 2 * len(chargers)


@pytest.fixture
def waiting_lane_server(empty_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """One write lane whose groups wait the longest window allowed (0.1 s) for company."""
    process = start_server(
        empty_database_url,
        tmp_path,
        CHARGEGRID_OCPP_WRITE_LANES="1",
        CHARGEGRID_OCPP_COMMIT_WINDOW="0.1",
    )
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log()


def _readings(count: int) -> list[dict[str, Any]]:
    """A long session's readings, one a minute from 05:00, as a StopTransaction's data."""
    return [
        {
            "timestamp": f"2026-03-04T{5 + minute // 60:02d}:{minute % 60:02d}:00Z",
            "sampledValue": [
                {"value": str(1000 + 10 * minute), "measurand": "Energy.Active.Import.Register"},
                {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
            ],
        }
        for minute in range(count)
    ]


async def _long_session(
    sockets: dict[str, ClientConnection], charger_id: str, *, minutes: int
) -> dict[str, Any]:
    """Start a transaction on ``charger_id`` at 05:00; the StopTransaction payload that
    ends it ``minutes`` later, with a reading a minute."""
    start = {"connectorId": 1, "idTag": "TAG", "meterStart": 1000, "timestamp": ""}
    start["timestamp"] = "2026-03-04T05:00:00Z"
    started = await _together(sockets, {charger_id: [2, "start", "StartTransaction", start]})
    return {
        "transactionId": started[charger_id]["transactionId"],
        "meterStop": 1000 + 10 * minutes,
        "timestamp": f"2026-03-04T{5 + minutes // 60:02d}:{minutes % 60:02d}:00Z",
        "transactionData": _readings(minutes),
    }


async def test_quick_calls_of_a_group_are_answered_before_its_transaction_ends(
    waiting_lane_server: ServerProcess,
) -> None:
    server = waiting_lane_server
    ender, beater = CHARGERS[:2]
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _connect(server, stack, [ender, beater])
        stop = await _long_session(sockets, ender, minutes=300)
        before = await scrape_metrics(server)
        await sockets[ender].send(json.dumps([2, "stop", "StopTransaction", stop]))
        await sockets[beater].send(json.dumps([2, "beat", "Heartbeat", {}]))
        stopped = asyncio.create_task(sockets[ender].recv())
        beaten = asyncio.create_task(sockets[beater].recv())
        done, _ = await asyncio.wait({stopped, beaten}, return_when=asyncio.FIRST_COMPLETED)
        assert done == {beaten}  # the transaction's end was still being handled
        assert json.loads(await beaten)[:2] == [3, "beat"]
        assert json.loads(await asyncio.wait_for(stopped, 30))[:2] == [3, "stop"]
        after = await scrape_metrics(server)
    # Both came within the window of the first: they were one group.
    assert _counted(after, GROUPS) - _counted(before, GROUPS) == 1
    assert _counted(after, GROUPED) - _counted(before, GROUPED) == 2
    ended = await query(server.database_url, "SELECT status, energy_wh FROM transactions")
    assert [(r["status"], r["energy_wh"]) for r in ended] == [("completed", 3000.0)]


async def test_starts_and_ends_of_a_group_wait_for_each_other_only_on_sqlite(
    waiting_lane_server: ServerProcess,
) -> None:
    """A long session's end and two starts arrive in one group. On PostgreSQL the first
    start is handed back to run beside the end, on a connection of its own, and is
    answered first; the second runs after the end (one at most is handed back). On
    SQLite, which writes one transaction at a time, both run after the end, and all
    three are answered when their group commits."""
    server = waiting_lane_server
    ender, starter, third = CHARGERS[:3]
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _connect(server, stack, [ender, starter, third])
        stop = await _long_session(sockets, ender, minutes=600)
        before = await scrape_metrics(server)
        await sockets[ender].send(json.dumps([2, "stop", "StopTransaction", stop]))
        for charger_id in (starter, third):
            start = {"connectorId": 1, "idTag": charger_id, "meterStart": 1000}
            start["timestamp"] = "2026-03-04T15:00:01Z"
            await sockets[charger_id].send(json.dumps([2, "start", "StartTransaction", start]))
        replies = {c: asyncio.create_task(sockets[c].recv()) for c in (ender, starter, third)}
        done, _ = await asyncio.wait(replies.values(), return_when=asyncio.FIRST_COMPLETED)
        side_by_side = server.database_url.startswith("postgresql")
        if side_by_side:
            assert done == {replies[starter]}  # the end was still being handled
        else:
            assert replies[ender] in done  # all answered at the group's one commit
        for charger_id, action in ((ender, "stop"), (starter, "start"), (third, "start")):
            reply = json.loads(await asyncio.wait_for(replies[charger_id], 30))
            assert reply[:2] == [3, action]
        after = await scrape_metrics(server)
    # One group of the three, or (one handed back) a group of two and one alone.
    assert _counted(after, GROUPS) - _counted(before, GROUPS) == (2 if side_by_side else 1)
    assert _counted(after, GROUPED) - _counted(before, GROUPED) == 3
    rows = await query(
        server.database_url, "SELECT charger_id, status FROM transactions ORDER BY charger_id"
    )
    assert [(r["charger_id"], r["status"]) for r in rows] == [
        (ender, "completed"),
        (starter, "active"),
        (third, "active"),
    ]


async def test_a_token_read_ahead_serves_one_call_of_its_group(
    waiting_lane_server: ServerProcess,
) -> None:
    """Three chargers start with one token, in one group. The token is read ahead with
    the group, for the first start; the last, run after the first in the group's
    transaction, reads it again and finds it in use. (On PostgreSQL the second is handed
    back, and runs beside the first on a connection of its own; on SQLite it runs after
    the first too.)"""
    server = waiting_lane_server
    chargers = CHARGERS[:3]
    await server.add_id_token("SHARED")
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _connect(server, stack, chargers)
        start = {"connectorId": 1, "idTag": "SHARED", "meterStart": 0}
        start["timestamp"] = "2026-03-04T05:00:00Z"
        before = await scrape_metrics(server)
        started = await _together(
            sockets, {c: [2, f"start-{c}", "StartTransaction", start] for c in chargers}
        )
        after = await scrape_metrics(server)
    assert _counted(after, GROUPED) - _counted(before, GROUPED) == 3
    statuses = [started[c]["idTagInfo"]["status"] for c in chargers]
    assert statuses[0] == "Accepted"
    assert statuses[2] == "ConcurrentTx"
    if not server.database_url.startswith("postgresql"):
        assert statuses[1] == "ConcurrentTx"


async def test_a_repeat_in_a_group_is_answered_from_the_log_and_the_rest_once(
    waiting_lane_server: ServerProcess,
) -> None:
    server = waiting_lane_server
    starter, other = CHARGERS[:2]
    start = {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": ""}
    start["timestamp"] = "2026-03-04T05:00:00Z"
    starting = [2, "start", "StartTransaction", start]
    async with contextlib.AsyncExitStack() as stack:
        sockets = await _connect(server, stack, [starter, other])
        status = json.loads(_status("st", "Charging"))
        first = await _together(sockets, {starter: starting, other: status})
        before = await scrape_metrics(server)
        # A quick CALL repeated beside another charger's: the group is answered again,
        # the repeat from the log.
        fresh = json.loads(_status("st-s", "Charging"))
        beside = await _together(sockets, {starter: fresh, other: status})
        # A transaction's start repeated beside a quick CALL, which is answered (and
        # committed) first: then only the start is answered again.
        quick = json.loads(_status("st-3", "Available"))
        again = await _together(sockets, {starter: starting, other: quick})
        after = await scrape_metrics(server)
    assert again[starter] == first[starter]
    assert beside == {starter: {}, other: {}}
    assert _counted(after, GROUPS) - _counted(before, GROUPS) == 2  # each pair one group
    assert _counted(after, GROUPED) - _counted(before, GROUPED) == 4
    for action in ("StartTransaction", "StatusNotification"):
        replayed = metric_value(
            after, "chargegrid_ocpp_calls_total", action=action, result="replayed"
        )
        assert replayed == 1, action
    transactions = await query(server.database_url, "SELECT charger_id FROM transactions")
    assert transactions == [{"charger_id": starter}]
    logged = await query(
        server.database_url,
        "SELECT charger_id, unique_id, count(*) AS n FROM message_log "
        "GROUP BY charger_id, unique_id",
    )
    assert sorted((r["charger_id"], r["unique_id"], r["n"]) for r in logged) == [
        (starter, "st-s", 1),
        (starter, "start", 1),
        (other, "st", 1),
        (other, "st-3", 1),
    ]
