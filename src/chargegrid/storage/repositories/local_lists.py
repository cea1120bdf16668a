"""What the platform knows of each charger's local authorization list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.tables import local_list_entries, local_lists
from chargegrid.storage.upsert import upsert
from chargegrid.values import immutable


@immutable
class LocalListEntry:
    """One id token on a charger's list, as it was sent to the charger."""

    id_token: str
    status: str
    type: str | None = None
    expires_at: datetime | None = None
    group_id: str | None = None
    updated_at: datetime | None = None


@immutable
class LocalList:
    """A charger's list: its version (None if never known) and its entries."""

    version: int | None
    updated_at: datetime | None
    entries: Sequence[LocalListEntry]


async def version_of(conn: AsyncConnection, charger_id: str) -> int | None:
    found = await conn.scalar(
        select(local_lists.c.version).where(local_lists.c.charger_id == charger_id)
    )
    return None if found is None else int(found)


async def get(conn: AsyncConnection, charger_id: str) -> LocalList:
    head = (
        (await conn.execute(select(local_lists).where(local_lists.c.charger_id == charger_id)))
        .mappings()
        .first()
    )
    rows = (
        await conn.execute(
            select(local_list_entries)
            .where(local_list_entries.c.charger_id == charger_id)
            .order_by(local_list_entries.c.id_token)
        )
    ).mappings()
    return LocalList(
        version=None if head is None else head["version"],
        updated_at=None if head is None else head["updated_at"],
        entries=[_entry(row) for row in rows],
    )


async def entry_of(conn: AsyncConnection, charger_id: str, id_token: str) -> LocalListEntry | None:
    row = (
        (
            await conn.execute(
                select(local_list_entries).where(
                    local_list_entries.c.charger_id == charger_id,
                    local_list_entries.c.id_token == id_token,
                )
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _entry(row)


async def set_version(conn: AsyncConnection, charger_id: str, version: int, now: datetime) -> None:
    await upsert(
        conn,
        local_lists,
        {"charger_id": charger_id, "version": version, "updated_at": now},
        key=["charger_id"],
        update=["version", "updated_at"],
    )


async def clear_entries(conn: AsyncConnection, charger_id: str) -> None:
    await conn.execute(
        delete(local_list_entries).where(local_list_entries.c.charger_id == charger_id)
    )


async def remove_entries(conn: AsyncConnection, charger_id: str, id_tokens: Iterable[str]) -> None:
    tokens = list(id_tokens)
    if tokens:
        await conn.execute(
            delete(local_list_entries).where(
                local_list_entries.c.charger_id == charger_id,
                local_list_entries.c.id_token.in_(tokens),
            )
        )


async def put_entries(
    conn: AsyncConnection, charger_id: str, entries: Iterable[LocalListEntry], now: datetime
) -> None:
    """Add the entries, or overwrite those the charger's list already has."""
    for entry in entries:
        await upsert(
            conn,
            local_list_entries,
            {
                "charger_id": charger_id,
                "id_token": entry.id_token,
                "type": entry.type,
                "status": entry.status,
                "expires_at": entry.expires_at,
                "group_id": entry.group_id,
                "updated_at": now,
            },
            key=["charger_id", "id_token"],
            update=["type", "status", "expires_at", "group_id", "updated_at"],
        )


async def chargers_listing(conn: AsyncConnection, id_token: str) -> list[str]:
    """The chargers whose list holds ``id_token``, by id."""
    rows = await conn.execute(
        select(local_list_entries.c.charger_id)
        .where(local_list_entries.c.id_token == id_token)
        .order_by(local_list_entries.c.charger_id)
    )
    return [row[0] for row in rows]


def _entry(row: RowMapping) -> LocalListEntry:
    return LocalListEntry(
        id_token=row["id_token"],
        status=row["status"],
        type=row["type"],
        expires_at=row["expires_at"],
        group_id=row["group_id"],
        updated_at=row["updated_at"],
    )
