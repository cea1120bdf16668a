"""Nothing acknowledged is lost, and nothing is done twice."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from ocpp.v16 import call

from tests import dbutil
from tests.integration.conftest import start_server
from tests.integration.harness import ServerProcess, exchange, query

PASSWORD = "correct-horse-battery"
START = (
    '{"connectorId": 1, "idTag": "TAG-R", "meterStart": 500, "timestamp": "2026-03-01T08:00:00Z"}'
)


async def test_repeated_calls_and_retries_have_one_effect(server: ServerProcess) -> None:
    await server.register_charger("CP-R", PASSWORD)
    await server.add_id_token("TAG-R")
    async with server.websocket("CP-R", PASSWORD) as ws:
        first = await exchange(ws, f'[2, "start-1", "StartTransaction", {START}]')
        assert first[0] == 3, server.log()
        transaction_id = first[2]["transactionId"]
        # Committed before the answer was sent: another connection sees it at once.
        committed = await query(
            server.database_url,
            "SELECT id, status FROM transactions WHERE transaction_id = :t",
            t=str(transaction_id),
        )
        assert committed == [{"id": transaction_id, "status": "active"}]

        # The same CALL again (same message id): the same reply, nothing processed twice.
        again = await exchange(ws, f'[2, "start-1", "StartTransaction", {START}]')
        assert again == first
        # A retry with a new message id: the same transactionId.
        retried = await exchange(ws, f'[2, "start-2", "StartTransaction", {START}]')
        assert retried[2]["transactionId"] == transaction_id
        assert retried[2]["idTagInfo"] == {"status": "Accepted"}

        status = (
            '{"connectorId": 1, "errorCode": "NoError", "status": "Charging", '
            '"timestamp": "2026-03-01T08:00:01Z"}'
        )
        for _ in range(3):
            assert await exchange(ws, f'[2, "st-1", "StatusNotification", {status}]') == [
                3,
                "st-1",
                {},
            ]
        # A charger that reuses a message id after a reboot is not answered from the past.
        other_status = status.replace("Charging", "SuspendedEV")
        await exchange(ws, f'[2, "st-1", "StatusNotification", {other_status}]')

        stop = (
            f'{{"transactionId": {transaction_id}, "meterStop": 2500, '
            '"timestamp": "2026-03-01T09:00:00Z", "reason": "Local"}'
        )
        stopped = await exchange(ws, f'[2, "stop-1", "StopTransaction", {stop}]')
        assert stopped == [3, "stop-1", {}]
        # A retried stop (new id, later meter reading) changes nothing already recorded.
        later = stop.replace("2500", "2600")
        assert (await exchange(ws, f'[2, "stop-2", "StopTransaction", {later}]'))[0] == 3

        first_beat = await exchange(ws, '[2, "hb", "Heartbeat", {}]')
        second_beat = await exchange(ws, '[2, "hb", "Heartbeat", {}]')
        assert second_beat[2]["currentTime"] > first_beat[2]["currentTime"]

    transactions = await query(
        server.database_url,
        "SELECT transaction_id, status, energy_wh, meter_stop_wh FROM transactions "
        "WHERE charger_id = 'CP-R'",
    )
    assert transactions == [
        {
            "transaction_id": str(transaction_id),
            "status": "completed",
            "energy_wh": 2000.0,
            "meter_stop_wh": 2500.0,
        }
    ]
    ends = await query(
        server.database_url,
        "SELECT count(*) AS n FROM transaction_events JOIN transactions "
        "ON transactions.id = transaction_events.transaction_pk "
        "WHERE transactions.charger_id = 'CP-R' AND transaction_events.event_type = 'Ended'",
    )
    assert ends == [{"n": 1}]  # the retried stop is not recorded again
    history = await query(
        server.database_url,
        "SELECT status FROM status_changes WHERE charger_id = 'CP-R' ORDER BY id",
    )
    assert [row["status"] for row in history] == ["Charging", "SuspendedEV"]
    processed = await query(
        server.database_url,
        "SELECT unique_id, count(*) AS n FROM message_log WHERE charger_id = 'CP-R' "
        "GROUP BY unique_id ORDER BY unique_id",
    )
    assert {row["unique_id"]: row["n"] for row in processed} == {
        "hb": 2,
        "st-1": 2,
        "start-1": 1,
        "start-2": 1,
        "stop-1": 1,
        "stop-2": 1,
    }


async def test_stop_for_an_unknown_transaction_is_accepted_and_recorded(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-U", PASSWORD)
    await server.add_id_token("TAG-U")
    async with server.charger16("CP-U", PASSWORD) as charger:
        for _ in range(2):  # retried with a new message id: still one record
            answer = await charger.call(
                call.StopTransaction(
                    meter_stop=7300,
                    timestamp="2026-03-02T10:00:00Z",
                    transaction_id=4242,
                    id_tag="TAG-U",
                    reason="PowerLoss",
                )
            )
            assert answer.id_tag_info == {"status": "Accepted"}
    async with server.api() as api:
        listed = (await api.get("/transactions", params={"charger_id": "CP-U"})).json()
    assert listed["total"] == 1
    recorded = listed["items"][0]
    assert recorded["status"] == "completed"
    assert recorded["transaction_id"].startswith("unmatched:4242:")
    assert recorded["meter_stop_wh"] == 7300
    assert recorded["stop_reason"] == "PowerLoss"
    assert recorded["stop_id_token"] == "TAG-U"
    assert recorded["energy_wh"] is None


@pytest.fixture
def postgresql_server(postgresql_admin_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A running server on a fresh PostgreSQL database (a test below holds its locks)."""
    name = f"chargegrid_it_{secrets.token_hex(6)}"
    url = dbutil.create_database(postgresql_admin_url, name)
    process = start_server(url.replace("postgresql://", "postgresql+asyncpg://", 1), tmp_path)
    try:
        yield process
    finally:
        code = process.stop()
        dbutil.drop_database(postgresql_admin_url, name)
        assert code == 0, f"server exited with {code}:\n{process.log()}"


async def _waiting_on_message_log(database_url: str) -> int:
    """How many of the server's statements wait for a lock on the message log."""
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation "
            "WHERE pg_class.relname = 'message_log' AND NOT pg_locks.granted"
        )
        return count
    finally:
        await conn.close()


@pytest.mark.postgresql
async def test_a_repeat_on_a_new_connection_waits_for_the_original_to_commit(
    postgresql_server: ServerProcess,
) -> None:
    server = postgresql_server
    await server.register_charger("CP-H", PASSWORD)
    await server.add_id_token("TAG-R")
    frame = f'[2, "start-1", "StartTransaction", {START}]'
    holder = await asyncpg.connect(server.database_url.replace("+asyncpg", ""))
    try:
        # Nothing can be logged for now: the start is handled, and its commit waits.
        lock = holder.transaction()
        await lock.start()
        await holder.execute("LOCK TABLE message_log IN EXCLUSIVE MODE")
        async with server.websocket("CP-H", PASSWORD) as first:
            await first.send(frame)
            for _ in range(200):  # up to 10 s on a loaded machine
                if await _waiting_on_message_log(server.database_url):
                    break
                await asyncio.sleep(0.05)
            assert await _waiting_on_message_log(server.database_url) == 1
            # The connection drops unanswered; the charger connects again and repeats
            # the CALL while the first is still uncommitted.
        async with server.websocket("CP-H", PASSWORD) as second:
            await second.send(frame)
            await asyncio.sleep(1.0)  # time enough to handle it a second time
            await lock.commit()
            reply = json.loads(await asyncio.wait_for(second.recv(), 10))
    finally:
        await holder.close()
    started = await query(
        server.database_url,
        "SELECT id FROM transactions WHERE charger_id = 'CP-H'",
    )
    assert len(started) == 1
    assert reply == [
        3,
        "start-1",
        {"transactionId": started[0]["id"], "idTagInfo": {"status": "Accepted"}},
    ]
    logged = await query(
        server.database_url,
        "SELECT count(*) AS n FROM message_log WHERE charger_id = 'CP-H' AND unique_id = 'start-1'",
    )
    assert logged == [{"n": 1}]  # the repeat was answered from the stored reply
