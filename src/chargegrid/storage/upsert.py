"""Dialect-aware INSERT ... ON CONFLICT, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


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
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: statement.excluded[name] for name in update},
        where=None if only_if is None else only_if(statement.excluded),
    )
    await conn.execute(statement)


async def insert_ignoring_conflict(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any], *, key: Sequence[str]
) -> int | None:
    """Insert ``values`` and return the new row's ``id``; None if ``key`` already exists.

    The unique constraint decides, so two writers racing for the same key cannot both win.
    """
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(table.c.id)
    )
    found = (await conn.execute(statement)).scalar_one_or_none()
    return None if found is None else int(found)
