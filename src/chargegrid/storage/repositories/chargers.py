"""Chargers, their connectors and status history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import (
    Charger,
    Connector,
    Evse,
    RegistrationStatus,
    StatusReport,
)
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.group_scope import DIALECTS, BlindWrite, write_later
from chargegrid.storage.prebuilt import check_columns
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import (
    chargers,
    connectors,
    device_variables,
    locations,
    status_changes,
)
from chargegrid.storage.upsert import upsert_statement
from chargegrid.values import immutable

_CHARGER_FIELDS = [c.name for c in chargers.columns if c.name != "password_hash"]

# Built once and run on the driver: heartbeats, status notifications and the dispatcher's
# registration check run these on every call.
_REGISTRATION_STATUS = DirectStatement(
    select(chargers.c.registration_status).where(chargers.c.id == bindparam("charger_id"))
)
_TIME_ZONE = DirectStatement(
    select(locations.c.time_zone)
    .select_from(chargers.join(locations, locations.c.id == chargers.c.location_id))
    .where(chargers.c.id == bindparam("charger_id"))
)
# SET: the params
_UPDATE = DirectStatement(update(chargers).where(chargers.c.id == bindparam("charger_id")))
_STATUS_CHANGE = BlindWrite.insert(status_changes)
_CREDENTIALS = DirectStatement(  # every connection attempt
    select(chargers.c.id, chargers.c.password_hash, chargers.c.security_profile).where(
        chargers.c.id == bindparam("charger_id")
    )
)
_CONNECTOR_KEY = ("charger_id", "evse_id", "connector_id")
_CONNECTOR_STATUS = (
    "status",
    "error_code",
    "info",
    "vendor_id",
    "vendor_error_code",
    "status_at",
    "updated_at",
)


def _connector_status_upsert(dialect: str) -> Any:
    """The connector status upsert; it keeps a newer status than the one reported."""
    return upsert_statement(
        dialect,
        connectors,
        key=_CONNECTOR_KEY,
        update=_CONNECTOR_STATUS,
        only_if=lambda new: connectors.c.status_at <= new.status_at,
    )


_CONNECTOR_STATUS_WRITE = BlindWrite(
    "connector_status",
    {name: connectors.c[name].type for name in (*_CONNECTOR_KEY, *_CONNECTOR_STATUS)},
    {dialect: DirectStatement(_connector_status_upsert(dialect)) for dialect in DIALECTS},
    lambda rows: _connector_status_upsert("postgresql").from_select(
        [*_CONNECTOR_KEY, *_CONNECTOR_STATUS], rows
    ),
)


_HEARTBEAT = BlindWrite.update(
    "charger_heartbeat", chargers, key=("id", "charger_id"), columns=["last_heartbeat_at"]
)
_CHARGER_STATUS = BlindWrite.update(
    "charger_status",
    chargers,
    key=("id", "charger_id"),
    columns=["status", "error_code", "updated_at"],
)


@immutable
class Credentials:
    """What the gateway needs to admit a charger."""

    charger_id: str
    password_hash: str | None
    security_profile: int


async def get_credentials(conn: AsyncConnection, charger_id: str) -> Credentials | None:
    row = await _CREDENTIALS.first(conn, {"charger_id": charger_id})
    if row is None:
        return None
    return Credentials(row["id"], row["password_hash"], row["security_profile"])


async def registration_status(conn: AsyncConnection, charger_id: str) -> RegistrationStatus | None:
    found = await _REGISTRATION_STATUS.first(conn, {"charger_id": charger_id})
    return None if found is None else RegistrationStatus(found["registration_status"])


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(chargers.insert().values(**values))


async def exists(conn: AsyncConnection, charger_id: str) -> bool:
    found = await conn.scalar(select(chargers.c.id).where(chargers.c.id == charger_id))
    return found is not None


async def time_zone_of(conn: AsyncConnection, charger_id: str) -> str | None:
    """The time zone of the charger's location, if it has one (None for an unknown
    charger); in one round trip."""
    row = await _TIME_ZONE.first(conn, {"charger_id": charger_id})
    return None if row is None else str(row["time_zone"])


async def update_fields(conn: AsyncConnection, charger_id: str, **values: Any) -> None:
    check_columns(chargers, values)
    await _UPDATE.execute(conn, {**values, "charger_id": charger_id})


async def record_heartbeat(conn: AsyncConnection, charger_id: str, at: datetime) -> None:
    """Note the charger's heartbeat (at the end of the group scope, if any)."""
    await write_later(conn, _HEARTBEAT, {"last_heartbeat_at": at, "charger_id": charger_id})


async def save_charger_status(
    conn: AsyncConnection, charger_id: str, report: StatusReport, now: datetime
) -> None:
    """Set the charger's own status (at the end of the group scope, if any)."""
    values = {"status": report.status, "error_code": report.error_code, "updated_at": now}
    await write_later(conn, _CHARGER_STATUS, {**values, "charger_id": charger_id})


async def set_disconnected(
    conn: AsyncConnection, charger_ids: Sequence[str], now: datetime
) -> None:
    await _UPDATE.execute_many(
        conn, [{"charger_id": charger_id, "disconnected_at": now} for charger_id in charger_ids]
    )


def connector_of(row: Mapping[Any, Any]) -> Connector:
    """A ``connectors`` row as the domain's Connector."""
    return Connector(
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        status=row["status"],
        status_at=row["status_at"],
        error_code=row["error_code"],
        info=row["info"],
        vendor_id=row["vendor_id"],
        vendor_error_code=row["vendor_error_code"],
    )


async def get(conn: AsyncConnection, charger_id: str) -> Charger | None:
    row = (
        (await conn.execute(_select_chargers().where(chargers.c.id == charger_id)))
        .mappings()
        .first()
    )
    if row is None:
        return None
    evses = await _evses_by_charger(conn, [charger_id])
    return _charger(row, evses.get(charger_id, ()))


async def list_page(
    conn: AsyncConnection, *, limit: int, offset: int, ocpp_version: str | None = None
) -> Page[Charger]:
    query = _select_chargers()
    if ocpp_version is not None:
        query = query.where(chargers.c.ocpp_version == ocpp_version)
    rows, total = await fetch_page(
        conn, query, order_by=[chargers.c.id], limit=limit, offset=offset
    )
    evses = await _evses_by_charger(conn, [row["id"] for row in rows])
    items = [_charger(row, evses.get(row["id"], ())) for row in rows]
    return Page(items, total, limit, offset)


async def save_connector_status(
    conn: AsyncConnection, charger_id: str, report: StatusReport, now: datetime
) -> None:
    """Upsert the connector's current status, unless it already holds a newer one (at the
    end of the group scope, if any)."""
    assert report.evse_id is not None
    assert report.connector_id is not None
    values = {
        "charger_id": charger_id,
        "evse_id": report.evse_id,
        "connector_id": report.connector_id,
        "status": report.status,
        "error_code": report.error_code,
        "info": report.info,
        "vendor_id": report.vendor_id,
        "vendor_error_code": report.vendor_error_code,
        "status_at": report.occurred_at,
        "updated_at": now,
    }
    await write_later(conn, _CONNECTOR_STATUS_WRITE, values)


async def add_status_change(
    conn: AsyncConnection, charger_id: str, report: StatusReport, now: datetime
) -> None:
    """Add the report to the status history (at the end of the group scope, if any)."""
    await write_later(
        conn,
        _STATUS_CHANGE,
        {
            "charger_id": charger_id,
            "evse_id": report.evse_id,
            "connector_id": report.connector_id,
            "status": report.status,
            "error_code": report.error_code,
            "info": report.info,
            "vendor_id": report.vendor_id,
            "vendor_error_code": report.vendor_error_code,
            "occurred_at": report.occurred_at,
            "received_at": now,
        },
    )


async def status_history(
    conn: AsyncConnection,
    charger_id: str,
    *,
    limit: int,
    offset: int,
    evse_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[StatusReport]:
    """Status changes, newest first; ``since`` inclusive, ``until`` exclusive."""
    query = select(status_changes).where(status_changes.c.charger_id == charger_id)
    if evse_id is not None:
        query = query.where(status_changes.c.evse_id == evse_id)
    if since is not None:
        query = query.where(status_changes.c.occurred_at >= since)
    if until is not None:
        query = query.where(status_changes.c.occurred_at < until)
    rows, total = await fetch_page(
        conn,
        query,
        order_by=[status_changes.c.occurred_at.desc(), status_changes.c.id.desc()],
        limit=limit,
        offset=offset,
    )
    items = [
        StatusReport(
            status=row["status"],
            occurred_at=row["occurred_at"],
            evse_id=row["evse_id"],
            connector_id=row["connector_id"],
            error_code=row["error_code"],
            info=row["info"],
            vendor_id=row["vendor_id"],
            vendor_error_code=row["vendor_error_code"],
        )
        for row in rows
    ]
    return Page(items, total, limit, offset)


def _select_chargers() -> Any:
    return select(
        *[chargers.c[name] for name in _CHARGER_FIELDS],
        chargers.c.password_hash.is_not(None).label("has_password"),
    )


async def _evses_by_charger(
    conn: AsyncConnection, charger_ids: Sequence[str]
) -> dict[str, tuple[Evse, ...]]:
    """EVSEs and connectors: those with a reported status, and those the device model names."""
    if not charger_ids:
        return {}
    rows = (
        await conn.execute(select(connectors).where(connectors.c.charger_id.in_(charger_ids)))
    ).mappings()
    found: dict[str, dict[int, dict[int, Connector]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        found[row["charger_id"]][row["evse_id"]][row["connector_id"]] = connector_of(row)
    # In the device model, 0 stands for "no EVSE" / "no connector" (real ids are > 0).
    modelled = await conn.execute(
        select(
            device_variables.c.charger_id,
            device_variables.c.evse_id,
            device_variables.c.connector_id,
        )
        .where(device_variables.c.charger_id.in_(charger_ids) & (device_variables.c.evse_id > 0))
        .distinct()
    )
    for charger_id, evse_id, connector_id in modelled:
        evse = found[charger_id][evse_id]
        if connector_id > 0 and connector_id not in evse:
            evse[connector_id] = Connector(evse_id=evse_id, connector_id=connector_id)
    return {
        charger_id: tuple(
            Evse(evse_id, tuple(evse[c] for c in sorted(evse)))
            for evse_id, evse in sorted(evses.items())
        )
        for charger_id, evses in found.items()
    }


def _charger(row: RowMapping, evses: Iterable[Evse]) -> Charger:
    values = {name: row[name] for name in _CHARGER_FIELDS}
    values["registration_status"] = RegistrationStatus(values["registration_status"])
    return Charger(**values, has_password=bool(row["has_password"]), evses=tuple(evses))
