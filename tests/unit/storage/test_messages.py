"""The message log's lookup of answered CALLs: the pairs asked for, nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from chargegrid.storage.engine import Database
from chargegrid.storage.repositories.messages import find_answered_calls
from chargegrid.storage.tables import message_log

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


async def _log(db: Database, rows: Sequence[dict[str, Any]]) -> None:
    async with db.begin() as conn:
        await conn.execute(
            insert(message_log),
            [
                {
                    "charger_id": "CP-1",
                    "direction": "in",
                    "action": "MeterValues",
                    "payload": "{}",
                    "response": "{}",
                    "received_at": NOW,
                    "error_code": None,
                    **row,
                }
                for row in rows
            ],
        )


async def test_only_the_pairs_asked_for_that_were_answered_since_then(db: Database) -> None:
    await _log(
        db,
        [
            {"unique_id": "m-1", "payload": '{"a": 1}', "response": '{"r": 1}'},
            {"unique_id": "m-1", "payload": '{"a": 2}', "received_at": NOW + timedelta(1)},
            {"unique_id": "m-2", "charger_id": "CP-2"},
            {"unique_id": "m-2"},  # CP-1's m-2: not asked for, though both parts are
            {"unique_id": "m-1", "charger_id": "CP-2"},  # nor CP-2's m-1
            {"unique_id": "m-3", "direction": "out"},  # ours: never a repeat
            {"unique_id": "m-4", "response": None, "error_code": "InternalError"},
            {"unique_id": "m-5", "received_at": NOW - timedelta(microseconds=1)},
        ],
    )
    calls = [("CP-1", "m-1"), ("CP-2", "m-2"), ("CP-1", "m-3"), ("CP-1", "m-4")]
    calls += [("CP-1", "m-5"), ("CP-1", "m-1"), ("CP-3", "m-1")]
    async with db.connect() as conn:
        found = await find_answered_calls(conn, calls, since=NOW)
        assert await find_answered_calls(conn, [], since=NOW) == []
    assert sorted((r.charger_id, r.unique_id, r.payload, r.response) for r in found) == [
        ("CP-1", "m-1", '{"a": 1}', '{"r": 1}'),
        ("CP-1", "m-1", '{"a": 2}', "{}"),
        ("CP-2", "m-2", "{}", "{}"),
    ]
    assert {r.received_at for r in found} == {NOW, NOW + timedelta(1)}


async def test_many_calls_are_looked_up_at_once(db: Database) -> None:
    await _log(db, [{"unique_id": f"m-{i}", "charger_id": f"CP-{i}"} for i in range(70)])
    calls = [(f"CP-{i}", f"m-{i}") for i in range(0, 90, 3)]
    async with db.connect() as conn:
        found = await find_answered_calls(conn, calls, since=NOW)
    assert sorted(r.unique_id for r in found) == sorted(f"m-{i}" for i in range(0, 70, 3))
