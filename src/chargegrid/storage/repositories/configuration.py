"""OCPP 1.6 configuration keys of each charger, as last read (GetConfiguration) or set
(ChangeConfiguration accepted)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import configuration_keys
from chargegrid.storage.upsert import upsert
from chargegrid.values import immutable


@immutable
class ConfigurationKey:
    """One configuration key of an OCPP 1.6 charger."""

    key: str
    value: str | None
    readonly: bool | None
    updated_at: datetime | None = None


async def save_keys(
    conn: AsyncConnection, charger_id: str, keys: Sequence[ConfigurationKey], now: datetime
) -> None:
    """Insert or overwrite the keys (value and read-only flag)."""
    if not keys:
        return
    rows = {
        key.key: {
            "charger_id": charger_id,
            "key": key.key,
            "value": key.value,
            "readonly": key.readonly,
            "updated_at": now,
        }
        for key in keys
    }
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(configuration_keys)
    statement = statement.on_conflict_do_update(
        index_elements=["charger_id", "key"],
        set_={name: statement.excluded[name] for name in ("value", "readonly", "updated_at")},
    )
    await conn.execute(statement, list(rows.values()))


async def set_value(
    conn: AsyncConnection, charger_id: str, key: str, value: str, now: datetime
) -> None:
    """Note a key's new value; the charger took it, so the key is not read-only."""
    await upsert(
        conn,
        configuration_keys,
        {
            "charger_id": charger_id,
            "key": key,
            "value": value,
            "readonly": False,
            "updated_at": now,
        },
        key=("charger_id", "key"),
        update=("value", "readonly", "updated_at"),
    )


async def delete_keys(conn: AsyncConnection, charger_id: str, keys: Collection[str]) -> None:
    if keys:
        await conn.execute(
            delete(configuration_keys).where(
                (configuration_keys.c.charger_id == charger_id)
                & configuration_keys.c.key.in_(list(keys))
            )
        )


async def delete_all_but(conn: AsyncConnection, charger_id: str, keep: Collection[str]) -> None:
    """Forget every key of the charger not in ``keep``."""
    condition = configuration_keys.c.charger_id == charger_id
    if keep:
        condition &= configuration_keys.c.key.not_in(list(keep))
    await conn.execute(delete(configuration_keys).where(condition))


async def list_page(
    conn: AsyncConnection, charger_id: str, *, limit: int, offset: int
) -> Page[ConfigurationKey]:
    """The charger's keys by name."""
    query = select(configuration_keys).where(configuration_keys.c.charger_id == charger_id)
    rows, total = await fetch_page(
        conn, query, order_by=[configuration_keys.c.key], limit=limit, offset=offset
    )
    items = [
        ConfigurationKey(
            key=row["key"],
            value=row["value"],
            readonly=row["readonly"],
            updated_at=row["updated_at"],
        )
        for row in rows
    ]
    return Page(items, total, limit, offset)
