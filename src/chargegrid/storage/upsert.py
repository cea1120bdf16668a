"""Dialect-aware INSERT ... ON CONFLICT, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.prebuilt import check_columns


async def upsert(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    update: Sequence[str],
    only_if: Callable[[Any], ColumnElement[bool]] | None = None,
) -> None:
    """Insert ``values``; on a conflict on ``key`` overwrite the ``update`` columns.

    ``only_if(excluded)`` restricts the overwrite, e.g. to newer values; it is given
    the row that was to be inserted.
    """
    statement = _insert(conn.dialect.name)(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: statement.excluded[name] for name in update},
        where=None if only_if is None else only_if(statement.excluded),
    )
    await conn.execute(statement)


def upsert_statement(
    dialect_name: str,
    table: Table,
    *,
    key: Sequence[str],
    update: Sequence[str],
    only_if: Callable[[Any], ColumnElement[bool]] | None = None,
) -> Any:
    """What :func:`upsert` runs, without values: execute it with one row's params dict.

    For a hot path that builds it once per dialect instead of on every call.
    """
    statement = _insert(dialect_name)(table)
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: statement.excluded[name] for name in update},
        where=None if only_if is None else only_if(statement.excluded),
    )


async def insert_ignoring_conflict(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any], *, key: Sequence[str]
) -> int | None:
    """Insert ``values`` and return the new row's ``id``; None if ``key`` already exists.

    The unique constraint decides, so two writers racing for the same key cannot both win.
    """
    check_columns(table, values)
    statement = _ignoring_conflict(conn.dialect.name, table, tuple(key), whole=False)
    found = await statement.first(conn, values)
    return None if found is None else int(found["id"])


async def insert_returning_row(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any], *, key: Sequence[str]
) -> dict[str, Any] | None:
    """Insert ``values`` and return the row as stored; None if ``key`` already exists
    (as ``insert_ignoring_conflict``)."""
    check_columns(table, values)
    statement = _ignoring_conflict(conn.dialect.name, table, tuple(key), whole=True)
    return await statement.first(conn, values)


@cache
def _ignoring_conflict(
    dialect_name: str, table: Table, key: tuple[str, ...], *, whole: bool
) -> DirectStatement:
    # Built once per table and key, run on the driver: numbered transaction events and
    # CDRs are inserted this way.
    return DirectStatement(
        _insert(dialect_name)(table)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(*(table.c if whole else [table.c.id]))
    )


def _insert(dialect_name: str) -> Any:
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


async def insert_if_absent(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any], *, key: Sequence[str]
) -> bool:
    """Insert ``values`` unless a row with the same ``key`` exists; whether it was inserted."""
    check_columns(table, values)
    statement = _absent(conn.dialect.name, table, tuple(key))
    return await statement.first(conn, values) is not None


@cache
def _absent(dialect_name: str, table: Table, key: tuple[str, ...]) -> DirectStatement:
    # Built once per table and key, run on the driver: a transaction's end runs it.
    return DirectStatement(
        _insert(dialect_name)(table)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(table.c[key[0]])
    )
