"""The transactions list as operators browse and export it: filters, sort, pages.

A page costs two statements (the count and the page), plus one for the energy so far of
the active transactions on it. Every sort follows an index (``started_at``, ``stopped_at``
and ``energy_wh`` each have one, ties broken by id), so a page of a million transactions
reads only its own rows, and the count stops at ``COUNT_LIMIT``. Sorted by end or by energy, the
list holds the transactions that have ended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import ENERGY_IMPORT, TransactionStatus
from chargegrid.storage.repositories.pages import Page
from chargegrid.storage.tables import ACTIVE_TRANSACTION, meter_samples, transactions
from chargegrid.values import immutable

SORTS: dict[str, Any] = {
    "started": transactions.c.started_at,
    "stopped": transactions.c.stopped_at,
    "energy": transactions.c.energy_wh,
    "id": transactions.c.id,
}
# Counting a million rows takes longer than showing a page (PostgreSQL reads them all):
# the list counts this far, and says "more" beyond.
COUNT_LIMIT = 10_000
# Only ended transactions have an end and a final energy: sorted by those, the list
# holds the ended ones (the same on both engines, which place NULLs differently).
_ENDED_SORTS = frozenset({"stopped", "energy"})
_WH_PER_UNIT = {None: 1.0, "Wh": 1.0, "kWh": 1000.0}

# The columns a list row (and an exported line) shows.
_COLUMNS = (
    transactions.c.id,
    transactions.c.charger_id,
    transactions.c.transaction_id,
    transactions.c.evse_id,
    transactions.c.connector_id,
    transactions.c.id_token,
    transactions.c.status,
    transactions.c.started_at,
    transactions.c.stopped_at,
    transactions.c.meter_start_wh,
    transactions.c.meter_stop_wh,
    transactions.c.energy_wh,
    transactions.c.stop_reason,
)


@immutable
class TransactionQuery:
    """Which transactions to list, and in which order."""

    charger_id: str | None = None
    id_token: str | None = None
    status: TransactionStatus | None = None
    started_from: datetime | None = None  # started at or after
    started_before: datetime | None = None  # started before
    sort: str = "started"  # a key of SORTS
    descending: bool = True


@immutable
class TransactionRow:
    """One line of the transactions list."""

    id: int
    charger_id: str
    transaction_id: str | None
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    status: TransactionStatus
    started_at: datetime | None
    stopped_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float | None  # final; for an active one, the energy so far (if metered)
    stop_reason: str | None


def _conditions(query: TransactionQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.charger_id:
        found.append(transactions.c.charger_id == query.charger_id)
    if query.id_token:
        found.append(transactions.c.id_token == query.id_token)
    if query.status is TransactionStatus.ACTIVE:
        found.append(ACTIVE_TRANSACTION)
    elif query.status is TransactionStatus.COMPLETED:
        # Nearly every row: read along the sort's index and skip the few active ones.
        found.append(transactions.c.status == query.status.value)
    if query.started_from is not None:
        found.append(transactions.c.started_at >= query.started_from)
    if query.started_before is not None:
        found.append(transactions.c.started_at < query.started_before)
    if query.sort in _ENDED_SORTS:
        found.append(SORTS[query.sort].is_not(None))
    return found


def _statement(query: TransactionQuery) -> Select[Any]:
    return select(*_COLUMNS).where(*_conditions(query))


def _order(query: TransactionQuery) -> list[ColumnElement[Any]]:
    column = SORTS.get(query.sort, transactions.c.started_at)
    if query.descending:
        return [column.desc(), transactions.c.id.desc()]
    return [column.asc(), transactions.c.id.asc()]


def _row(row: Mapping[Any, Any], energy_wh: float | None = None) -> TransactionRow:
    return TransactionRow(
        id=row["id"],
        charger_id=row["charger_id"],
        transaction_id=row["transaction_id"],
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        id_token=row["id_token"],
        status=TransactionStatus(row["status"]),
        started_at=row["started_at"],
        stopped_at=row["stopped_at"],
        meter_start_wh=row["meter_start_wh"],
        meter_stop_wh=row["meter_stop_wh"],
        energy_wh=row["energy_wh"] if energy_wh is None else energy_wh,
        stop_reason=row["stop_reason"],
    )


async def list_page(
    conn: AsyncConnection, query: TransactionQuery, *, limit: int, offset: int
) -> Page[TransactionRow]:
    """One page of the transactions matching ``query``, in its order (ties by id).

    The total is exact up to ``COUNT_LIMIT``; above, it is ``COUNT_LIMIT + 1`` ("more").
    """
    statement = _statement(query)
    total = await conn.scalar(
        select(func.count()).select_from(statement.limit(COUNT_LIMIT + 1).subquery())
    )
    rows = (
        (await conn.execute(statement.order_by(*_order(query)).limit(limit).offset(offset)))
        .mappings()
        .all()
    )
    active = [row for row in rows if row["status"] == TransactionStatus.ACTIVE.value]
    so_far = await energy_so_far(conn, active)
    items = [_row(row, so_far.get(row["id"])) for row in rows]
    return Page(items, int(total or 0), limit, offset)


async def energy_so_far(
    conn: AsyncConnection, active: Sequence[Mapping[Any, Any]]
) -> dict[int, float]:
    """The energy (Wh) the given active transactions have delivered so far: their latest
    energy register reading less their start (one statement for all of them)."""
    starts = {row["id"]: row["meter_start_wh"] for row in active}
    if not starts:
        return {}
    rows = await conn.execute(
        select(
            meter_samples.c.transaction_pk, meter_samples.c.unit, func.max(meter_samples.c.value)
        )
        .where(
            meter_samples.c.transaction_pk.in_(list(starts))
            & (meter_samples.c.measurand == ENERGY_IMPORT)
            & meter_samples.c.phase.is_(None)
        )
        .group_by(meter_samples.c.transaction_pk, meter_samples.c.unit)
    )
    found: dict[int, float] = {}
    for pk, unit, value in rows:
        factor = _WH_PER_UNIT.get(unit)
        if factor is None or value is None:
            continue
        reading = value * factor
        found[pk] = max(found.get(pk, reading), reading)
    return {
        pk: reading - start
        for pk, reading in found.items()
        if (start := starts.get(pk)) is not None and reading >= start
    }


async def export(
    conn: AsyncConnection, query: TransactionQuery, *, batch: int = 1000
) -> AsyncIterator[list[TransactionRow]]:
    """Every transaction matching ``query``, in its order, ``batch`` rows at a time (one
    statement, read as it is sent on: a server-side cursor on PostgreSQL)."""
    result = await conn.stream(
        _statement(query).order_by(*_order(query)).execution_options(yield_per=batch)
    )
    async for rows in result.partitions():
        yield [_row(row._mapping) for row in rows]
