"""A group scope keeps blind writes to its end (on PostgreSQL, one statement for all)
and makes shared reads once."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from asyncpg.exceptions import IntegrityConstraintViolationError
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    exists,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from chargegrid.storage.direct import optimistic, savepoint, spoiled
from chargegrid.storage.engine import Database
from chargegrid.storage.group_scope import (
    BlindWrite,
    Guard,
    GuardRefused,
    group_scope,
    write_kept,
    write_later,
)
from chargegrid.storage.tables import locations, status_changes
from chargegrid.storage.types import NaiveDatetimeError, UTCDateTime
from tests import dbutil

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
INSERT = BlindWrite.insert(locations, ["id", "name", "created_at"])


RENAME = BlindWrite.update("location_names", locations, key=("id", "location_id"), columns=["name"])


def _location(location_id: str) -> dict[str, object]:
    return {"id": location_id, "name": location_id, "created_at": NOW}


async def _names(conn: AsyncConnection) -> dict[str, str]:
    rows = await conn.execute(select(locations.c.id, locations.c.name))
    return {row.id: row.name for row in rows}


async def test_writes_kept_in_a_scope_run_at_its_end(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(locations.insert().values(_location("L0")))
        async with group_scope(conn):
            for location_id in ("L1", "L2", "L3"):
                await write_later(conn, INSERT, _location(location_id))
            await write_later(conn, RENAME, {"name": "renamed", "location_id": "L0"})
            assert await _names(conn) == {"L0": "L0"}
        assert await _names(conn) == {"L0": "renamed", "L1": "L1", "L2": "L2", "L3": "L3"}
    async with db.connect() as conn:
        assert await _names(conn) == {"L0": "renamed", "L1": "L1", "L2": "L2", "L3": "L3"}


async def test_a_scope_whose_transaction_had_not_begun_writes_in_one_statement(
    db: Database,
) -> None:
    async with db.begin() as conn:
        async with group_scope(conn):
            await write_later(conn, INSERT, _location("L1"))
            await write_later(conn, INSERT, _location("L2"))
        async with db.connect() as other:
            seen = await _names(other)
    # On PostgreSQL the one statement was its own transaction, committed at once; SQLite
    # began the transaction with the block and commits it at its end.
    assert seen == ({"L1": "L1", "L2": "L2"} if db.dialect_name == "postgresql" else {})


async def test_writes_kept_so_far_are_made_on_demand_and_the_scope_goes_on(
    db: Database,
) -> None:
    async with db.begin() as conn, group_scope(conn):
        await write_later(conn, INSERT, _location("L1"))
        await write_kept(conn)
        assert await _names(conn) == {"L1": "L1"}
        await write_later(conn, INSERT, _location("L2"))
        await write_later(conn, RENAME, {"name": "renamed", "location_id": "L1"})
        assert await _names(conn) == {"L1": "L1"}
    async with db.connect() as other:
        assert await _names(other) == {"L1": "renamed", "L2": "L2"}


async def _fail_after_one_write(conn: AsyncConnection) -> None:
    async with group_scope(conn):
        await write_later(conn, INSERT, _location("L1"))
        raise RuntimeError("the group failed")


async def test_a_failed_scope_writes_nothing(db: Database) -> None:
    async with db.begin() as conn:
        with pytest.raises(RuntimeError, match="the group failed"):
            await _fail_after_one_write(conn)
        assert await _names(conn) == {}
        async with group_scope(conn):  # the failed scope is closed
            await write_later(conn, INSERT, _location("L2"))
    async with db.connect() as conn:
        assert await _names(conn) == {"L2": "L2"}


async def test_outside_a_scope_writes_run_at_once(db: Database) -> None:
    async with db.begin() as conn:
        await write_later(conn, INSERT, _location("L1"))
        assert await _names(conn) == {"L1": "L1"}


async def test_within_a_savepoint_writes_run_at_once_and_are_undone_with_it(
    db: Database,
) -> None:
    async with db.begin() as conn, group_scope(conn):
        with contextlib.suppress(RuntimeError):
            async with savepoint(conn):
                await write_later(conn, INSERT, _location("L1"))
                assert await _names(conn) == {"L1": "L1"}
                raise RuntimeError("the block failed")
        await write_later(conn, INSERT, _location("L2"))
        assert await _names(conn) == {}
    async with db.connect() as conn:
        assert await _names(conn) == {"L2": "L2"}


async def test_a_write_kept_from_a_block_without_its_savepoint_spoils_if_it_fails(
    db: Database,
) -> None:
    """In an ``optimistic`` transaction (PostgreSQL) a savepoint block sets none, and its
    writes are kept with the rest: their failure spoils the transaction, which alone,
    with its savepoints, would have kept it to the block. Other writes' do not."""

    async def orphan_kept(conn: AsyncConnection, *, in_block: bool) -> None:
        async with group_scope(conn):
            if in_block:
                async with savepoint(conn):
                    await write_later(conn, _ORPHANS, _ORPHAN)
            else:
                await write_later(conn, _ORPHANS, _ORPHAN)

    for in_block, spoils in ((True, db.dialect_name == "postgresql"), (False, False)):
        async with db.connect() as conn:
            with optimistic(conn):
                with pytest.raises((sqlite3.IntegrityError, IntegrityConstraintViolationError)):
                    await orphan_kept(conn, in_block=in_block)
                assert spoiled(conn) is spoils
            await conn.rollback()


async def test_an_insert_unless_taken_leaves_rows_whose_key_is_taken(db: Database) -> None:
    insert_new = BlindWrite.insert(
        locations, ["id", "name", "created_at"], name="new_locations", unless_taken=["id"]
    )
    async with db.begin() as conn:
        await write_later(conn, insert_new, _location("L1"))
    async with db.begin() as conn, group_scope(conn):
        for location_id in ("L1", "L2"):
            await write_later(conn, insert_new, {**_location(location_id), "name": "again"})
    async with db.connect() as conn:
        assert await _names(conn) == {"L1": "L1", "L2": "again"}


def _named_already(rows: Select[Any]) -> Select[Any]:
    given = rows.subquery()
    return select(given.c.name).where(exists().where(locations.c.name == given.c.name))


async def _count_named_already(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> int:
    names = set((await conn.execute(select(locations.c.name))).scalars())
    return sum(row["name"] in names for row in rows)


# A location whose name is taken is refused.
GUARDED_INSERT = BlindWrite.insert(
    locations,
    ["id", "name", "created_at"],
    name="named_locations",
    guard=Guard(_named_already, _count_named_already),
)


async def _write_two_taken_names(db: Database) -> None:
    async with db.begin() as conn, group_scope(conn):
        await write_later(conn, INSERT, _location("L2"))
        await write_later(conn, GUARDED_INSERT, _location("L3"))
        await write_later(conn, GUARDED_INSERT, {**_location("L4"), "name": "L1"})
        await write_later(conn, GUARDED_INSERT, {**_location("L5"), "name": "renamed"})
        await write_later(conn, RENAME, {"name": "again", "location_id": "L0"})


async def test_a_guard_that_refuses_a_row_keeps_every_write_of_the_scope_out(
    db: Database,
) -> None:
    async with db.begin() as conn:
        await conn.execute(locations.insert().values(_location("L0")))
        async with group_scope(conn):
            await write_later(conn, GUARDED_INSERT, _location("L1"))
            await write_later(conn, RENAME, {"name": "renamed", "location_id": "L0"})
    with pytest.raises(GuardRefused) as refused:
        await _write_two_taken_names(db)
    assert (refused.value.write, refused.value.found) == ("named_locations", 2)
    with pytest.raises(GuardRefused):  # outside a scope, the guard is asked first
        async with db.begin() as conn:
            await write_later(conn, GUARDED_INSERT, {**_location("L6"), "name": "L1"})
    async with db.connect() as conn:
        assert await _names(conn) == {"L0": "renamed", "L1": "L1"}


async def test_scopes_do_not_nest(db: Database) -> None:
    async with db.begin() as conn, group_scope(conn):
        with pytest.raises(RuntimeError, match="already open"):
            async with group_scope(conn):
                pass


async def test_a_failing_write_keeps_every_write_of_the_scope_out(db: Database) -> None:
    # Written on the driver, the driver's own error reaches the caller.
    with pytest.raises((sqlite3.IntegrityError, IntegrityConstraintViolationError)):
        await _write_a_location_and_an_orphan(db)
    async with db.connect() as conn:
        assert await _names(conn) == {}


_ORPHANS = BlindWrite.insert(status_changes)  # its charger must exist
_ORPHAN = {
    "charger_id": "NO-SUCH-CHARGER",
    **dict.fromkeys(("evse_id", "connector_id", "error_code", "info")),
    **dict.fromkeys(("vendor_id", "vendor_error_code")),
    "status": "Available",
    "occurred_at": NOW,
    "received_at": NOW,
}


async def _write_a_location_and_an_orphan(db: Database) -> None:
    async with db.begin() as conn, group_scope(conn):
        await write_later(conn, INSERT, _location("L1"))
        await write_later(conn, _ORPHANS, _ORPHAN)


KINDS = Table(
    "blind_write_kinds",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", String(80)),
    Column("number", Float),
    Column("big", BigInteger),
    Column("flag", Boolean),
    Column("money", Numeric(18, 4)),
    Column("at", UTCDateTime),
)
KINDS_INSERT = BlindWrite.insert(KINDS)
KOLKATA = timezone(timedelta(hours=5, minutes=30))
ODD_VALUES: list[dict[str, Any]] = [
    {
        "text": 'quotes " and \\ backslash, ünïcødé ⚡, a\nnewline',
        "number": 0.1 + 0.2,
        "big": 2**53 + 1,
        "flag": True,
        "money": Decimal("1234.5678"),
        "at": datetime(2026, 3, 1, 17, 30, 0, 123_456, tzinfo=KOLKATA),
    },
    {"text": None, "number": None, "big": None, "flag": None, "money": None, "at": None},
    {
        "text": "",
        "number": -1.5e-300,
        "big": -(2**62),
        "flag": False,
        "money": Decimal("0.0001"),
        "at": NOW,
    },
]


async def _odd_values(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(select(KINDS).order_by(KINDS.c.id))
    return [{k: v for k, v in row._mapping.items() if k != "id"} for row in rows]


async def test_every_kind_of_value_arrives_as_it_was_given(db: Database) -> None:
    async with db.begin() as conn:
        await conn.run_sync(KINDS.metadata.create_all)
    async with db.begin() as conn, group_scope(conn):
        for values in ODD_VALUES:
            await write_later(conn, KINDS_INSERT, values)
    async with db.connect() as conn:
        stored = await _odd_values(conn)
    assert stored == ODD_VALUES
    assert stored[0]["at"] == datetime(2026, 3, 1, 12, 0, 0, 123_456, tzinfo=UTC)


async def test_a_naive_time_fails_its_scope(db: Database) -> None:
    async with db.begin() as conn:
        await conn.run_sync(KINDS.metadata.create_all)
    with pytest.raises(NaiveDatetimeError):
        async with db.begin() as conn, group_scope(conn):
            await write_later(conn, KINDS_INSERT, {**ODD_VALUES[2], "at": datetime(2026, 3, 1)})
    async with db.connect() as conn:
        assert await _odd_values(conn) == []


def test_columns_whose_values_json_would_change_are_refused() -> None:
    documents = Table("blind_documents", MetaData(), Column("document", JSON))
    with pytest.raises(TypeError, match="not written through JSON"):
        BlindWrite.insert(documents).rows()


def test_the_rows_parameter_is_parsed_once_on_postgresql() -> None:
    """As ``jsonb``: each field taken from ``json`` text parses its whole row again (for
    a logged frame, measured here, about 2.5 times PostgreSQL's work for the whole
    write)."""
    dialect = create_async_engine("postgresql+asyncpg://").dialect  # connects to nothing
    rows = str(INSERT.rows().compile(dialect=dialect))
    assert "FROM jsonb_array_elements(CAST($1::VARCHAR AS JSONB))" in rows
    assert "json_array_elements" not in rows


@pytest.mark.postgresql
async def test_a_groups_statement_is_planned_once_whatever_its_row_counts(
    postgresql_url: str,
) -> None:
    """Updates by key included: a plan that never sees how many rows come is kept. (With
    one array per column, whose length the planner sees, a table of some size was
    planned for at every run.)"""
    await dbutil.reset_database(postgresql_url)
    db = Database(postgresql_url)
    expected = {f"L{i}": f"L{i}" for i in range(3000)}
    try:
        async with db.connect() as conn:
            async with conn.begin():
                await conn.execute(locations.insert(), [_location(key) for key in expected])
                await conn.execute(text("ANALYZE locations"))
            for run, count in enumerate((1, 5, 2, 9, 3, 12, 4, 7, 1, 6)):
                async with conn.begin(), group_scope(conn):
                    for i in range(count):
                        await write_later(conn, INSERT, _location(f"N{run}-{i}"))
                        rename = {"name": f"run {run}", "location_id": f"L{i}"}
                        await write_later(conn, RENAME, rename)
                        expected[f"N{run}-{i}"] = f"N{run}-{i}"
                        expected[f"L{i}"] = f"run {run}"
            plans = (
                await conn.execute(
                    text(
                        "SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements "
                        "WHERE statement LIKE 'WITH location_names%'"
                    )
                )
            ).all()
            assert await _names(conn) == expected
    finally:
        await db.dispose()
    # PostgreSQL makes five plans with the parameters before it weighs keeping one.
    assert [(generic, custom) for generic, custom, _ in plans] == [(5, 5)], plans
