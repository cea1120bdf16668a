"""The chargers list as operators browse it: search, filters, sort, pages, live state.

A page costs three statements whatever its size: the count, the page, and the
connectors of the chargers on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Connector
from chargegrid.storage.repositories.chargers import connector_of
from chargegrid.storage.repositories.network import faulted, online
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import chargers, connectors, locations
from chargegrid.values import immutable

SORTS: dict[str, Any] = {
    "id": chargers.c.id,
    "vendor": chargers.c.vendor,
    "model": chargers.c.model,
    "version": chargers.c.ocpp_version,
    "firmware": chargers.c.firmware_version,
    "heartbeat": chargers.c.last_heartbeat_at,
    "location": locations.c.name,
}


@immutable
class ChargerQuery:
    """What part of the list to show and in which order."""

    search: str | None = None  # in the id, vendor, model, serial number or location
    status: str | None = None  # the charger or one of its connectors last reported it
    version: str | None = None  # OCPP version
    online: bool | None = None
    location_id: str | None = None
    sort: str = "id"  # a key of SORTS
    descending: bool = False


@immutable
class LiveState:
    """What changes while an operator looks: connection, status, heartbeat, connectors."""

    charger_id: str
    online: bool
    status: str | None
    error_code: str | None
    last_heartbeat_at: datetime | None
    connectors: tuple[Connector, ...]


@immutable
class ChargerRow:
    """One line of the chargers list."""

    id: str
    vendor: str | None
    model: str | None
    firmware_version: str | None
    ocpp_version: str | None
    registration_status: str
    location_name: str | None
    live: LiveState


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(query: ChargerQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.search:
        pattern = f"%{_escaped(query.search.strip())}%"
        found.append(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        chargers.c.id,
                        chargers.c.vendor,
                        chargers.c.model,
                        chargers.c.serial_number,
                        chargers.c.charge_box_serial_number,
                        locations.c.name,
                    )
                )
            )
        )
    if query.status == "Faulted":
        found.append(faulted())
    elif query.status:
        found.append(
            or_(
                chargers.c.status == query.status,
                select(connectors.c.charger_id)
                .where(
                    (connectors.c.charger_id == chargers.c.id)
                    & (connectors.c.status == query.status)
                )
                .exists(),
            )
        )
    if query.version:
        found.append(chargers.c.ocpp_version == query.version)
    if query.online is not None:
        found.append(online() if query.online else ~online())
    if query.location_id:
        found.append(chargers.c.location_id == query.location_id)
    return found


async def list_page(
    conn: AsyncConnection, query: ChargerQuery, *, limit: int, offset: int
) -> Page[ChargerRow]:
    """One page of chargers matching ``query``, in its order (ties by id)."""
    statement = (
        select(
            chargers.c.id,
            chargers.c.vendor,
            chargers.c.model,
            chargers.c.firmware_version,
            chargers.c.ocpp_version,
            chargers.c.registration_status,
            chargers.c.status,
            chargers.c.error_code,
            chargers.c.last_heartbeat_at,
            online().label("online"),
            locations.c.name.label("location_name"),
        )
        .select_from(chargers.outerjoin(locations, locations.c.id == chargers.c.location_id))
        .where(*_conditions(query))
    )
    column = SORTS.get(query.sort, chargers.c.id)
    order = column.desc() if query.descending else column.asc()
    rows, total = await fetch_page(
        conn, statement, order_by=[order.nulls_last(), chargers.c.id], limit=limit, offset=offset
    )
    plugs = await connectors_of(conn, [row["id"] for row in rows])
    items = [
        ChargerRow(
            id=row["id"],
            vendor=row["vendor"],
            model=row["model"],
            firmware_version=row["firmware_version"],
            ocpp_version=row["ocpp_version"],
            registration_status=row["registration_status"],
            location_name=row["location_name"],
            live=LiveState(
                charger_id=row["id"],
                online=bool(row["online"]),
                status=row["status"],
                error_code=row["error_code"],
                last_heartbeat_at=row["last_heartbeat_at"],
                connectors=plugs.get(row["id"], ()),
            ),
        )
        for row in rows
    ]
    return Page(items, total, limit, offset)


async def live_states(conn: AsyncConnection, charger_ids: Sequence[str]) -> dict[str, LiveState]:
    """The live state of these chargers (two statements), by id; unknown ids are left out."""
    if not charger_ids:
        return {}
    rows = await conn.execute(
        select(
            chargers.c.id,
            chargers.c.status,
            chargers.c.error_code,
            chargers.c.last_heartbeat_at,
            online().label("online"),
        ).where(chargers.c.id.in_(list(charger_ids)))
    )
    plugs = await connectors_of(conn, charger_ids)
    return {
        row.id: LiveState(
            charger_id=row.id,
            online=bool(row.online),
            status=row.status,
            error_code=row.error_code,
            last_heartbeat_at=row.last_heartbeat_at,
            connectors=plugs.get(row.id, ()),
        )
        for row in rows
    }


async def connectors_of(
    conn: AsyncConnection, charger_ids: Sequence[str]
) -> dict[str, tuple[Connector, ...]]:
    """The connectors with a reported status of these chargers, by EVSE and connector."""
    if not charger_ids:
        return {}
    rows = await conn.execute(
        select(connectors)
        .where(connectors.c.charger_id.in_(list(charger_ids)))
        .order_by(connectors.c.charger_id, connectors.c.evse_id, connectors.c.connector_id)
    )
    found: dict[str, list[Connector]] = defaultdict(list)
    for row in rows.mappings():
        found[row["charger_id"]].append(connector_of(row))
    return {charger_id: tuple(plugs) for charger_id, plugs in found.items()}
