"""Secrets the platform generates for itself and shares between its nodes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.tables import platform_secrets


async def get(conn: AsyncConnection, name: str) -> str | None:
    value = await conn.scalar(
        select(platform_secrets.c.value).where(platform_secrets.c.name == name)
    )
    return None if value is None else str(value)


async def insert_if_absent(conn: AsyncConnection, name: str, value: str, *, now: datetime) -> None:
    """Store ``value`` under ``name`` unless a secret of that name exists already.

    The primary key decides, so of several nodes creating the same secret at once
    exactly one value is kept; read it back with ``get``.
    """
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(
        insert(platform_secrets)
        .values(name=name, value=value, created_at=now)
        .on_conflict_do_nothing(index_elements=[platform_secrets.c.name])
    )
