"""The network at a glance: counts, energy and revenue per day, locations on a map, recent
alerts.

Read queries of the operator dashboard's overview; each is one statement whatever the
size of the network (no query per charger).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import RegistrationStatus, TransactionStatus
from chargegrid.storage.tables import (
    ACTIVE_TRANSACTION,
    cdrs,
    chargers,
    connectors,
    locations,
    security_events,
    transactions,
)
from chargegrid.values import immutable

FAULTED = "Faulted"

CENT_HUNDREDTH = Decimal("0.0001")  # money is kept to 4 decimals (SQLite sums in floats)
Revenue = dict[str, Decimal]  # a day's net revenue excluding VAT, by currency


def online() -> Any:
    """Whether a charger's latest connection is open, as every node records it."""
    return and_(
        chargers.c.connected_at.is_not(None),
        or_(
            chargers.c.disconnected_at.is_(None),
            chargers.c.disconnected_at < chargers.c.connected_at,
        ),
    )


def faulted() -> Any:
    """Whether a charger, or any of its connectors, last reported Faulted."""
    return or_(
        chargers.c.status == FAULTED,
        select(literal(1))
        .where((connectors.c.charger_id == chargers.c.id) & (connectors.c.status == FAULTED))
        .exists(),
    )


@immutable
class ChargerCounts:
    """How many chargers there are, are connected, and report a fault."""

    total: int
    online: int
    faulted: int

    @property
    def offline(self) -> int:
        return self.total - self.online


async def charger_counts(conn: AsyncConnection) -> ChargerCounts:
    row = (
        await conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((online(), 1), else_=0)), 0),
                func.coalesce(func.sum(case((faulted(), 1), else_=0)), 0),
            ).select_from(chargers)
        )
    ).one()
    return ChargerCounts(int(row[0]), int(row[1]), int(row[2]))


async def connectors_by_status(conn: AsyncConnection) -> dict[str, int]:
    """How many connectors last reported each status."""
    rows = await conn.execute(
        select(connectors.c.status, func.count()).group_by(connectors.c.status)
    )
    return {status: int(count) for status, count in rows}


async def active_transactions(conn: AsyncConnection) -> int:
    found = await conn.scalar(
        select(func.count()).select_from(transactions).where(ACTIVE_TRANSACTION)
    )
    return int(found or 0)


async def energy_by_day(conn: AsyncConnection, day_starts: Sequence[datetime]) -> list[float]:
    """Energy (Wh) of the transactions that ended on each day; ``day_starts`` are the
    consecutive days' starts followed by the end of the last day."""
    if len(day_starts) < 2:
        return []
    stopped = transactions.c.stopped_at
    sums = [
        func.coalesce(
            func.sum(case(((stopped >= start) & (stopped < end), transactions.c.energy_wh))), 0.0
        )
        for start, end in itertools.pairwise(day_starts)
    ]
    row = (
        await conn.execute(
            select(*sums).where(
                (transactions.c.status == TransactionStatus.COMPLETED.value)
                & (stopped >= day_starts[0])
                & (stopped < day_starts[-1])
            )
        )
    ).one()
    return [float(value) for value in row]


async def revenue_by_day(conn: AsyncConnection, day_starts: Sequence[datetime]) -> list[Revenue]:
    """Net revenue excluding VAT of the CDRs issued each day, by currency.

    A credit CDR carries the negated total of the CDR it cancels, so a day's figure is
    what was billed that day less what was credited. ``day_starts`` as ``energy_by_day``.
    """
    days: list[Revenue] = [{} for _ in day_starts[1:]]
    if not days:
        return days
    issued = cdrs.c.created_at
    sums = [
        func.sum(case(((issued >= start) & (issued < end), cdrs.c.total_cost_excl_vat)))
        for start, end in itertools.pairwise(day_starts)
    ]
    rows = await conn.execute(
        select(cdrs.c.currency, *sums)
        .where((issued >= day_starts[0]) & (issued < day_starts[-1]))
        .group_by(cdrs.c.currency)
    )
    for currency, *amounts in rows:
        for day, amount in zip(days, amounts, strict=True):
            if amount is not None:
                day[currency] = Decimal(str(amount)).quantize(CENT_HUNDREDTH)
    return days


@immutable
class MapLocation:
    """A location with coordinates, and how many of its chargers are connected."""

    id: str
    name: str
    latitude: float
    longitude: float
    city: str | None
    chargers: int
    online: int


async def mapped_locations(conn: AsyncConnection, limit: int = 5_000) -> list[MapLocation]:
    """Locations that have coordinates, with their chargers counted (one query)."""
    rows = await conn.execute(
        select(
            locations.c.id,
            locations.c.name,
            locations.c.latitude,
            locations.c.longitude,
            locations.c.city,
            func.count(chargers.c.id),
            func.coalesce(func.sum(case((online(), 1), else_=0)), 0),
        )
        .select_from(locations.outerjoin(chargers, chargers.c.location_id == locations.c.id))
        .where(locations.c.latitude.is_not(None) & locations.c.longitude.is_not(None))
        .group_by(locations.c.id)
        .order_by(locations.c.name, locations.c.id)
        .limit(limit)
    )
    return [
        MapLocation(
            id=row[0],
            name=row[1],
            latitude=float(row[2]),
            longitude=float(row[3]),
            city=row[4],
            chargers=int(row[5]),
            online=int(row[6]),
        )
        for row in rows
    ]


@immutable
class Alert:
    """Something an operator should look at: a fault, a security event, a refused boot."""

    kind: str  # "fault", "security", "boot"
    charger_id: str
    at: datetime
    title: str
    detail: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None


async def recent_alerts(conn: AsyncConnection, limit: int = 10) -> list[Alert]:
    """The newest alerts of each kind, newest first (three queries, each ``limit`` rows)."""
    faults = await conn.execute(
        select(
            connectors.c.charger_id,
            connectors.c.evse_id,
            connectors.c.connector_id,
            connectors.c.status_at,
            connectors.c.error_code,
            connectors.c.vendor_error_code,
            connectors.c.info,
        )
        .where(connectors.c.status == FAULTED)
        .order_by(connectors.c.status_at.desc())
        .limit(limit)
    )
    alerts = [
        Alert(
            kind="fault",
            charger_id=row.charger_id,
            at=row.status_at,
            title=row.error_code or FAULTED,
            detail=" ".join(part for part in (row.vendor_error_code, row.info) if part) or None,
            evse_id=row.evse_id,
            connector_id=row.connector_id,
        )
        for row in faults
    ]
    events = await conn.execute(
        select(
            security_events.c.charger_id,
            security_events.c.type,
            security_events.c.occurred_at,
            security_events.c.tech_info,
        )
        .order_by(security_events.c.id.desc())
        .limit(limit)
    )
    alerts += [
        Alert("security", row.charger_id, row.occurred_at, row.type, row.tech_info)
        for row in events
    ]
    boots = await conn.execute(
        select(chargers.c.id, chargers.c.registration_status, chargers.c.last_boot_at)
        .where(
            chargers.c.last_boot_at.is_not(None)
            & (chargers.c.registration_status != RegistrationStatus.ACCEPTED.value)
        )
        .order_by(chargers.c.last_boot_at.desc())
        .limit(limit)
    )
    alerts += [
        Alert("boot", row.id, row.last_boot_at, f"Boot {row.registration_status.lower()}")
        for row in boots
    ]
    alerts.sort(key=lambda alert: alert.at, reverse=True)
    return alerts[:limit]
