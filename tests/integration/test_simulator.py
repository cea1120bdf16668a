"""The charger simulator against a real server: what it reports lands in the API exactly
(energy equal to its ground truth), remote commands reach it, and transaction messages
survive a lost connection and a server restart, delivered in order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargegrid.simulator import BackOff, Fleet, FleetConfig, SessionRecord, SimulatedCharger
from tests.integration.conftest import start_server
from tests.integration.harness import ServerProcess
from tests.polling import until

PASSWORD = "simulated-chargers-pass"
TOKENS = ("SIM-TOKEN-1", "SIM-TOKEN-2", "SIM-TOKEN-3", "SIM-TOKEN-4")
FAST = BackOff(wait_minimum=0.2, random_range=0.3, repeat_times=4)

WITHIN = 20.0  # seconds for the fleet to come round


@pytest.fixture
def server(empty_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that registers any charger on its first connection."""
    process = start_server(empty_database_url, tmp_path, CHARGEGRID_AUTO_REGISTER="true")
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log()


def config(server: ServerProcess, **changes: Any) -> FleetConfig:
    settings: dict[str, Any] = {
        "url": server.ocpp_url,
        "count": 2,
        "version": "mix",
        "password": PASSWORD,
        "meter_interval": 0.4,
        "session_rate": 0.0,
        "session_duration": (1.0, 2.0),
        "id_tokens": TOKENS,
        "evses": (2, 2),
        "fault_rate": 0.0,
        "backoff": FAST,
        "seed": 11,
        **changes,
    }
    return FleetConfig(**settings)


@contextlib.asynccontextmanager
async def running(fleet: Fleet) -> AsyncIterator[Fleet]:
    stop = asyncio.Event()
    task = asyncio.create_task(fleet.run(stop))
    try:
        await until(lambda: fleet.stats.booted == len(fleet), "every charger booted", within=WITHIN)
        yield fleet
    finally:
        stop.set()
        await task


def check(
    charger: SimulatedCharger, condition: Callable[[SimulatedCharger], bool]
) -> Callable[[], bool]:
    return lambda: condition(charger)


async def add_tokens(server: ServerProcess) -> None:
    for token in TOKENS:
        await server.add_id_token(token)


async def transactions(api: httpx.AsyncClient, charger_id: str) -> dict[str, dict[str, Any]]:
    response = await api.get("/transactions", params={"charger_id": charger_id, "limit": 1000})
    assert response.status_code == 200, response.text
    return {t["transaction_id"]: t for t in response.json()["items"]}


async def events(api: httpx.AsyncClient, transaction: dict[str, Any]) -> list[dict[str, Any]]:
    response = await api.get(f"/transactions/{transaction['id']}/events", params={"limit": 1000})
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def same_as_ground_truth(transaction: dict[str, Any], record: SessionRecord) -> None:
    assert transaction["status"] == "completed"
    assert transaction["meter_start_wh"] == record.meter_start_wh
    assert transaction["meter_stop_wh"] == record.meter_stop_wh
    assert transaction["energy_wh"] == record.energy_wh
    assert transaction["id_token"] == record.id_token
    assert transaction["evse_id"] == record.evse_id


async def test_sessions_of_both_versions_match_the_ground_truth(server: ServerProcess) -> None:
    await add_tokens(server)
    fleet = Fleet(config(server, count=4, session_rate=3_600.0, evses=(1, 2)))

    def enough() -> bool:
        every = all(any(r.complete for r in c.records()) for c in fleet)
        return every and sum(r.complete for r in fleet.ground_truth()) >= 6

    async with running(fleet):
        await until(enough, "every charger completed sessions", within=WITHIN)
    records = [r for r in fleet.ground_truth() if r.complete]
    assert {r.version for r in records} == {"1.6", "2.0.1"}
    assert fleet.stats.call_errors == 0
    async with server.api() as api:
        for charger in fleet:
            found = await transactions(api, charger.charger_id)
            ended = {r.transaction_id: r for r in charger.records() if r.energy_wh is not None}
            for record in charger.records():
                if record.complete:
                    assert record.energy_wh is not None
                    assert record.energy_wh > 0
                    same_as_ground_truth(found[record.transaction_id or ""], record)
            for transaction_id, transaction in found.items():
                if transaction["status"] == "completed":  # nothing the simulator did not say
                    same_as_ground_truth(transaction, ended[transaction_id])


async def test_remote_start_and_stop_through_the_api(server: ServerProcess) -> None:
    await add_tokens(server)
    fleet = Fleet(config(server))
    async with running(fleet), server.api() as api:
        for charger, token in zip(fleet, TOKENS, strict=False):
            charger_id = charger.charger_id
            started = await api.post(
                f"/chargers/{charger_id}/commands/remote-start",
                json={"id_token": token, "evse_id": 2},
            )
            assert started.status_code == 200, started.text
            command = started.json()
            assert command["state"] == "accepted", command
            await until(
                check(charger, lambda c: len(c.records()) == 1),
                "the transaction started",
                within=WITHIN,
            )
            (record,) = charger.records()
            assert (record.evse_id, record.id_token) == (2, token)
            await asyncio.sleep(1.0)  # some meter values
            await until(
                check(charger, lambda c: c.records()[0].transaction_id is not None),
                "it has an id",
                within=WITHIN,
            )
            (active,) = (await transactions(api, charger_id)).values()
            assert active["status"] == "active"
            stopped = await api.post(
                f"/chargers/{charger_id}/commands/remote-stop",
                json={"transaction_id": active["id"]},
            )
            assert stopped.json()["state"] == "accepted", stopped.text
            await until(
                check(charger, lambda c: c.records()[0].complete),
                "the transaction ended",
                within=WITHIN,
            )
            (record,) = charger.records()
            assert record.stop_reason == "remote"
            ended = (await transactions(api, charger_id))[record.transaction_id or ""]
            same_as_ground_truth(ended, record)
            assert ended["stop_reason"] == "Remote"
            assert record.energy_wh is not None
            assert record.energy_wh > 0
            if record.version == "2.0.1":
                assert ended["remote_start_id"] == record.remote_start_id == command["id"]
            linked = (await api.get(f"/commands/{command['id']}")).json()
            assert linked["transaction_id"] == active["id"]


async def test_transaction_messages_survive_a_server_restart_and_a_lost_connection(
    server: ServerProcess,
) -> None:
    await add_tokens(server)
    fleet = Fleet(config(server, meter_interval=0.3))
    async with running(fleet):
        chargers = list(fleet)
        # Sessions run while the server restarts under them.
        for charger, token in zip(chargers, TOKENS, strict=False):
            assert charger.plug_in(1, id_token=token, duration=3.0)
        await asyncio.sleep(0.6)
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(server.start)
        await until(
            lambda: all(r.complete for r in fleet.ground_truth()),
            "the sessions were delivered",
            within=WITHIN,
        )
        reconnects = fleet.stats.connects
        assert reconnects >= 4

        # The connection drops; a session starts and ends while the charger is offline
        # (the token was authorized before: the cache decides).
        for charger, token in zip(chargers, TOKENS, strict=False):
            charger.go_offline(2.0)
            await until(
                check(charger, lambda c: not c.connected), "the charger is offline", within=WITHIN
            )
            assert charger.plug_in(2, id_token=token, duration=1.0)
        await until(
            lambda: all(r.stopped_at is not None for r in fleet.ground_truth()),
            "sessions ended",
            within=WITHIN,
        )
        await until(
            lambda: all(r.complete for r in fleet.ground_truth()),
            "the offline sessions arrived",
            within=WITHIN,
        )

    records = fleet.ground_truth()
    assert len(records) == 4
    assert [r.offline for r in records] == [False, True, False, True]
    assert fleet.stats.tx_dropped == 0
    async with server.api() as api:
        for record in records:
            found = await transactions(api, record.charger_id)
            transaction = found[record.transaction_id or ""]
            same_as_ground_truth(transaction, record)
            timeline = await events(api, transaction)
            assert len(timeline) == record.messages  # every transaction message, once
            # As instants: the API writes a whole second without a fraction ("...:59Z").
            received = [datetime.fromisoformat(e["received_at"]) for e in timeline]
            assert received == sorted(received)  # in the order they were sent
            occurred = [datetime.fromisoformat(e["occurred_at"]) for e in timeline]
            assert occurred == sorted(occurred)
            if record.version == "2.0.1":
                assert transaction["seq_gaps"] == 0
                assert transaction["last_seq_no"] == record.messages - 1
                # Both sessions had events queued while offline (the restart, the drop).
                assert transaction["offline"] is True
