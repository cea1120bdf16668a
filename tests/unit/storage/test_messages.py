"""The message log's answered CALLs: looked up by pair, and found again where a repeat
would be logged."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from chargegrid.domain.model import Direction, MessageRecord
from chargegrid.storage.engine import Database
from chargegrid.storage.group_scope import GuardRefused, group_scope
from chargegrid.storage.repositories.messages import (
    find_answered_calls,
    insert_unless_repeated,
    replies_to_repeats,
)
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


async def test_a_repeat_gets_the_reply_to_the_identical_call_answered_in_the_window(
    db: Database,
) -> None:
    await _log(
        db,
        [
            {"unique_id": "m-1", "payload": '{"a": 1}', "response": '{"r": 1}'},
            {"unique_id": "m-1", "payload": '{"a": 2}', "response": '{"r": 2}'},
            {"unique_id": "m-2", "response": '{"r": 3}', "received_at": NOW - timedelta(hours=1)},
        ],
    )
    later = NOW + timedelta(minutes=30)
    calls = [
        ("CP-1", "m-1", "MeterValues", '{"a": 2}', later),
        ("CP-1", "m-1", "MeterValues", '{"a": 3}', later),  # a reused id
        ("CP-1", "m-1", "StatusNotification", '{"a": 1}', later),
        ("CP-2", "m-1", "MeterValues", '{"a": 1}', later),
        ("CP-1", "m-2", "MeterValues", "{}", later),  # 90 minutes after: out of the window
        ("CP-1", "m-2", "MeterValues", "{}", NOW),  # exactly at its edge: in
    ]
    async with db.connect() as conn:
        replies = await replies_to_repeats(conn, calls, window=timedelta(hours=1))
        assert await replies_to_repeats(conn, [], window=timedelta(hours=1)) == []
    assert replies == ['{"r": 2}', None, None, None, None, '{"r": 3}']


def _answered(unique_id: str, **fields: Any) -> MessageRecord:
    values: dict[str, Any] = {
        "charger_id": "CP-1",
        "direction": Direction.INBOUND,
        "unique_id": unique_id,
        "action": "MeterValues",
        "payload": "{}",
        "response": "{}",
        "received_at": NOW + timedelta(hours=1),
        **fields,
    }
    return MessageRecord(**values)


async def _log_in_one_scope(db: Database, records: Sequence[MessageRecord], window_s: int) -> None:
    async with db.begin() as conn, group_scope(conn):
        for record in records:
            await insert_unless_repeated(conn, record, window_s=window_s)


async def test_an_answered_call_is_logged_unless_it_repeats_one_answered_in_the_window(
    db: Database,
) -> None:
    await _log(
        db,
        [
            {"unique_id": "m-1"},
            {"unique_id": "m-2", "direction": "out"},  # ours: never repeated by a charger
            {"unique_id": "m-3", "response": None, "error_code": "InternalError"},
            {"unique_id": "m-4", "received_at": NOW - timedelta(hours=2)},  # out of the window
        ],
    )
    different = [
        _answered("m-1", payload='{"a": 1}'),  # a reused id (a charger rebooted)
        _answered("m-1", action="StatusNotification"),
        _answered("m-1", charger_id="CP-2"),
        _answered("m-2"),
        _answered("m-3"),
        _answered("m-4"),
    ]
    window_s = 3 * 3600 - 1
    for record in different:
        await _log_in_one_scope(db, [record], window_s)
    at_the_edge = NOW + timedelta(seconds=window_s)  # the logged m-1 is just in its window
    for record in [_answered("m-1"), _answered("m-1", received_at=at_the_edge)]:
        with pytest.raises(GuardRefused) as refused:
            await _log_in_one_scope(db, [_answered("m-9"), record], window_s)
        assert refused.value.found == 1
    async with db.connect() as conn:
        rows = (await conn.execute(select(message_log.c.unique_id))).scalars().all()
    # The six different ones were logged; of the refused groups, not even m-9.
    assert Counter(rows) == {"m-1": 4, "m-2": 2, "m-3": 2, "m-4": 2}
