"""``DirectStatement`` on both engines: the same rows as SQLAlchemy, in the same transaction."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from asyncpg.exceptions import IntegrityConstraintViolationError
from sqlalchemy import (
    ARRAY,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Direction
from chargegrid.storage.direct import (
    DirectStatement,
    SpoiledTransaction,
    check_unspoiled,
    optimistic,
    savepoint,
)
from chargegrid.storage.engine import Database
from chargegrid.storage.tables import chargers, message_log, transaction_events, transactions
from chargegrid.storage.types import NaiveDatetimeError, UTCDateTime
from tests import dbutil

NOW = datetime(2026, 3, 1, 12, 0, 0, 123_456, tzinfo=UTC)
KOLKATA = timezone(timedelta(hours=5, minutes=30))

BY_CHARGER_ID = select(transactions).where(
    (transactions.c.charger_id == bindparam("charger_id"))
    & (transactions.c.transaction_id == bindparam("transaction_id"))
)
INSERT = DirectStatement(transactions.insert().returning(transactions.c.id))
UPDATE = DirectStatement(update(transactions).where(transactions.c.id == bindparam("pk")))


async def _charger(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(chargers.insert(), {"id": "CP1", "created_at": NOW, "updated_at": NOW})


def _transaction(**values: Any) -> dict[str, Any]:
    return {
        "charger_id": "CP1",
        "transaction_id": "T1",
        "status": "active",
        "created_at": NOW,
        "updated_at": NOW,
        **values,
    }


async def test_rows_are_what_sqlalchemy_reads(db: Database) -> None:
    await _charger(db)
    async with db.begin() as conn:
        [inserted] = await INSERT.rows(
            conn,
            _transaction(
                meter_start_wh=1234.5,
                offline=True,
                started_at=datetime(2026, 3, 1, 17, 30, tzinfo=KOLKATA),
                evse_id=2,
            ),
        )
    params = {"charger_id": "CP1", "transaction_id": "T1"}
    async with db.connect() as conn:
        expected = dict((await conn.execute(BY_CHARGER_ID, params)).mappings().one())
        found = await DirectStatement(BY_CHARGER_ID).first(conn, params)
    assert found == expected
    assert found is not None
    assert found["id"] == inserted["id"]
    assert found["offline"] is True  # SQLite's 1 comes back a bool
    assert found["meter_start_wh"] == 1234.5
    assert found["started_at"] == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert found["started_at"].utcoffset() == timedelta(0)
    assert found["status"] == "active"
    assert found["stopped_at"] is None
    assert found["offline"] == expected["offline"]
    assert {type(v) for v in found.values()} == {type(v) for v in expected.values()}


async def test_statements_share_the_transaction_and_its_rollback(db: Database) -> None:
    await _charger(db)

    async def abandoned() -> None:
        async with db.begin() as conn:
            await INSERT.rows(conn, _transaction())  # the first statement: it begins
            assert await DirectStatement(BY_CHARGER_ID).first(
                conn, {"charger_id": "CP1", "transaction_id": "T1"}
            )
            raise RuntimeError("abandon")

    with pytest.raises(RuntimeError):
        await abandoned()
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(transactions))).scalar() == 0
    async with db.begin() as conn:
        [row] = await INSERT.rows(conn, _transaction())
        await UPDATE.execute(conn, {"pk": row["id"], "status": "completed", "energy_wh": 5.0})
        # SQLAlchemy sees the uncommitted update in the same transaction.
        seen = (await conn.execute(select(transactions.c.status, transactions.c.energy_wh))).one()
        assert tuple(seen) == ("completed", 5.0)
    async with db.connect() as conn:
        stored = (await conn.execute(select(transactions.c.status))).scalar_one()
    assert stored == "completed"


async def test_update_sets_only_the_columns_given(db: Database) -> None:
    await _charger(db)
    async with db.begin() as conn:
        [row] = await INSERT.rows(conn, _transaction(energy_wh=7.0, evse_id=1))
        await UPDATE.execute(conn, {"pk": row["id"], "evse_id": 3})
        await UPDATE.execute(conn, {"pk": row["id"], "status": "completed"})
    async with db.connect() as conn:
        found = await DirectStatement(BY_CHARGER_ID).first(
            conn, {"charger_id": "CP1", "transaction_id": "T1"}
        )
    assert found is not None
    assert (found["evse_id"], found["status"], found["energy_wh"]) == (3, "completed", 7.0)


async def test_literals_limits_and_server_defaults(db: Database) -> None:
    await _charger(db)
    insert_message = DirectStatement(message_log.insert())
    inbound = DirectStatement(
        select(message_log.c.unique_id)
        .where(
            (message_log.c.charger_id == bindparam("charger_id"))
            & (message_log.c.direction == Direction.INBOUND.value)
        )
        .order_by(message_log.c.id)
        .limit(2)
    )
    rows = [
        {
            "charger_id": "CP1",
            "direction": direction,
            "unique_id": f"m{n}",
            "payload": "{}",
            "received_at": NOW,
        }
        for n, direction in enumerate(["in", "out", "in", "in"])
    ]
    async with db.begin() as conn:
        for row in rows:
            await insert_message.execute(conn, row)
        found = await inbound.rows(conn, {"charger_id": "CP1"})
        assert found == [{"unique_id": "m0"}, {"unique_id": "m2"}]
        [transaction] = await INSERT.rows(conn, _transaction())
        events = DirectStatement(transaction_events.insert())
        await events.execute_many(
            conn,
            [
                {
                    "transaction_pk": transaction["id"],
                    "event_type": "Updated",
                    "occurred_at": NOW,
                    "received_at": NOW,
                }
                for _ in range(3)
            ],
        )
        decisive = DirectStatement(
            select(transaction_events.c.decisive, transaction_events.c.offline)
        )
        # Omitted columns took their server defaults.
        assert await decisive.rows(conn, {}) == [{"decisive": True, "offline": False}] * 3


async def test_python_side_defaults_are_refused(db: Database) -> None:
    table = Table(
        "with_default",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("kind", String(8), default="plain"),
    )
    statement = DirectStatement(table.insert())
    async with db.connect() as conn:
        with pytest.raises(ValueError, match="kind"):
            await statement.execute(conn, {"id": 1})


PID = DirectStatement(select(func.pg_backend_pid().label("pid")))
STATE = select(text("state")).select_from(text("pg_stat_activity")).where(text("pid = :pid"))


@pytest.mark.postgresql
async def test_only_a_plain_read_runs_before_the_transaction_begins(postgresql_url: str) -> None:
    await dbutil.reset_database(postgresql_url)
    db = Database(postgresql_url)
    try:
        await _charger(db)

        async def state(pid: int) -> str:
            async with db.connect() as other:
                return str(await other.scalar(STATE, {"pid": pid}))

        async with db.begin() as conn:
            found = await PID.first(conn, {})
            assert found is not None
            pid = found["pid"]
            key = {"charger_id": "CP1", "transaction_id": "T1"}
            assert await DirectStatement(BY_CHARGER_ID).rows(conn, key) == []
            assert await state(pid) == "idle"  # no BEGIN yet: each read was on its own
            await DirectStatement(select(chargers.c.id).with_for_update()).rows(conn, {})
            assert await state(pid) == "idle in transaction"  # a locking read begins it
        async with db.begin() as conn:
            assert await PID.first(conn, {}) == {"pid": pid}  # the connection kept
            await INSERT.first(conn, _transaction())
            assert await state(pid) == "idle in transaction"  # and so does a write
    finally:
        await db.dispose()


UNNESTED = DirectStatement(
    select(
        func.unnest(bindparam("names", type_=ARRAY(String, dimensions=1))).label("name"),
        func.unnest(bindparam("times", type_=ARRAY(UTCDateTime(), dimensions=1))).label("at"),
    )
)


@pytest.mark.postgresql
async def test_one_dimensional_arrays_go_as_lists_with_their_items_processed(
    postgresql_url: str,
) -> None:
    await dbutil.reset_database(postgresql_url)
    db = Database(postgresql_url)
    try:
        async with db.connect() as conn:
            rows = await UNNESTED.rows(
                conn,
                {
                    "names": ["a", None, "c"],
                    "times": [NOW, datetime(2026, 3, 1, 17, 30, tzinfo=KOLKATA), None],
                },
            )
            assert rows == [
                {"name": "a", "at": NOW},
                {"name": None, "at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC)},
                {"name": "c", "at": None},
            ]
            with pytest.raises(NaiveDatetimeError):  # each item goes through its type
                await UNNESTED.rows(conn, {"names": ["a"], "times": [datetime(2026, 3, 1)]})
            assert await UNNESTED.rows(conn, {"names": None, "times": None}) == []
    finally:
        await db.dispose()


async def _transaction_ids(db: Database) -> set[str]:
    async with db.connect() as conn:
        return set((await conn.execute(select(transactions.c.transaction_id))).scalars())


async def _insert_then_refused_insert(conn: AsyncConnection) -> None:
    async with savepoint(conn):
        await INSERT.first(conn, _transaction(transaction_id="T2"))
        await INSERT.first(conn, _transaction(transaction_id="T3", charger_id="gone"))


async def _insert_then_fail(conn: AsyncConnection) -> None:
    async with savepoint(conn):  # nested in the test's: only this block is undone
        await INSERT.first(conn, _transaction(transaction_id="T5"))
        raise RuntimeError("pricing failed")


async def test_a_savepoint_undoes_its_block_and_the_transaction_goes_on(db: Database) -> None:
    await _charger(db)
    async with db.begin() as conn:
        await INSERT.first(conn, _transaction(transaction_id="T1"))
        with pytest.raises((sqlite3.IntegrityError, IntegrityConstraintViolationError)):
            await _insert_then_refused_insert(conn)
        async with savepoint(conn):
            await INSERT.first(conn, _transaction(transaction_id="T4"))
            with pytest.raises(RuntimeError, match="pricing failed"):
                await _insert_then_fail(conn)
            await INSERT.first(conn, _transaction(transaction_id="T6"))
    assert await _transaction_ids(db) == {"T1", "T4", "T6"}


async def test_an_optimistic_transaction_sets_no_savepoint_and_a_failed_block_spoils_it(
    db: Database,
) -> None:
    await _charger(db)
    async with db.begin() as conn:
        with optimistic(conn):
            await INSERT.first(conn, _transaction(transaction_id="T1"))
            check_unspoiled(conn)  # nothing failed yet
            with pytest.raises(RuntimeError, match="pricing failed"):
                await _insert_then_fail(conn)
            if db.dialect_name == "postgresql":
                # No savepoint: the block's insert stands, and the transaction may not
                # commit.
                assert await _ids_in(conn) == {"T1", "T5"}
                with pytest.raises(SpoiledTransaction):
                    check_unspoiled(conn)
            else:  # SQLite's savepoints cost no round trip: they are kept
                assert await _ids_in(conn) == {"T1"}
                check_unspoiled(conn)
        check_unspoiled(conn)  # outside the block, nothing is spoiled
        await conn.rollback()


async def _ids_in(conn: AsyncConnection) -> set[str]:
    return set((await conn.execute(select(transactions.c.transaction_id))).scalars())
