"""What is known of a charger's settings: the OCPP 1.6 configuration keys it listed and
the OCPP 2.0.1 variable values it reported, as the central system last read or set them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import DeviceVariable
from chargegrid.storage.repositories import configuration as repo
from chargegrid.storage.repositories import device_model
from chargegrid.storage.repositories.configuration import ConfigurationKey
from chargegrid.storage.repositories.pages import Page


async def record_read(
    conn: AsyncConnection,
    charger_id: str,
    keys: Sequence[ConfigurationKey],
    *,
    unknown: Sequence[str],
    complete: bool,
    now: datetime,
) -> None:
    """Keep the keys a GetConfiguration returned.

    A ``complete`` read (all keys asked for) replaces what was known: keys it no longer
    lists are forgotten. Keys the charger says it does not know are forgotten too.
    """
    if complete:
        await repo.delete_all_but(conn, charger_id, {key.key for key in keys})
    await repo.delete_keys(conn, charger_id, set(unknown) - {key.key for key in keys})
    await repo.save_keys(conn, charger_id, keys, now)


async def record_change(
    conn: AsyncConnection, charger_id: str, key: str, value: str, now: datetime
) -> None:
    """A ChangeConfiguration the charger accepted."""
    await repo.set_value(conn, charger_id, key, value, now)


async def list_keys(
    conn: AsyncConnection, charger_id: str, *, limit: int, offset: int
) -> Page[ConfigurationKey]:
    return await repo.list_page(conn, charger_id, limit=limit, offset=offset)


async def record_variable_values(
    conn: AsyncConnection, charger_id: str, variables: Sequence[DeviceVariable], now: datetime
) -> None:
    """Attribute values a GetVariables read or a SetVariables set (one attribute each,
    with its value), merged into the charger's device model."""
    await device_model.save_attribute_values(conn, charger_id, variables, reported_at=now, now=now)
