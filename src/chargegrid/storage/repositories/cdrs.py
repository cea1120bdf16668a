"""Charge Detail Records (written once, never changed) and transactions waiting for theirs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, exists, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.group_scope import BlindWrite, write_later
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.repositories.tariffs import FrozenTariff, frozen_from
from chargegrid.storage.tables import cdrs, chargers, commands, pending_cdrs, transaction_tariffs
from chargegrid.storage.upsert import insert_if_absent, insert_returning_row
from chargegrid.values import immutable

# Every transaction's end runs these: built once, run on the driver.
# What a CDR is made from besides the transaction and its readings, in one round trip.
_SOURCES = DirectStatement(
    select(
        chargers.c.location_id,
        chargers.c.meter_serial_number,
        exists()
        .where(
            (commands.c.transaction_pk == bindparam("transaction_pk"))
            & (commands.c.name == bindparam("command"))
        )
        .label("commanded"),
        *transaction_tariffs.columns,
    )
    .select_from(
        chargers.outerjoin(
            transaction_tariffs,
            transaction_tariffs.c.transaction_pk == bindparam("transaction_pk"),
        )
    )
    .where(chargers.c.id == bindparam("charger_id"))
)
_BY_CDR_ID = DirectStatement(select(cdrs).where(cdrs.c.cdr_id == bindparam("cdr_id")).limit(1))
_REMOVE_PENDING = DirectStatement(
    delete(pending_cdrs).where(pending_cdrs.c.transaction_pk == bindparam("transaction_pk"))
)


@immutable
class CdrRecord:
    """A stored CDR: ``document`` is its OCPI JSON, the rest repeats what lists show."""

    pk: int
    cdr_id: str
    transaction_pk: int | None
    issue: int
    credit: bool
    credit_reference_id: str | None
    charger_id: str
    evse_id: int | None
    connector_id: int | None
    session_id: str | None
    id_token: str | None
    start_date_time: datetime
    end_date_time: datetime
    currency: str
    total_cost_excl_vat: Decimal
    total_cost_incl_vat: Decimal | None
    total_energy: Decimal
    total_time: Decimal
    total_parking_time: Decimal | None
    tariff_id: str | None
    document: str
    created_at: datetime


@immutable
class CdrFilter:
    """Which CDRs a list or an export shows; ``since`` inclusive, ``until`` exclusive."""

    charger_id: str | None = None
    id_token: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def condition(self) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = true()
        if self.charger_id is not None:
            condition &= cdrs.c.charger_id == self.charger_id
        if self.id_token is not None:
            condition &= cdrs.c.id_token == self.id_token
        if self.since is not None:
            condition &= cdrs.c.created_at >= self.since
        if self.until is not None:
            condition &= cdrs.c.created_at < self.until
        return condition


@immutable
class CdrSources:
    """What a transaction's CDR is made from besides the transaction and its readings."""

    frozen: FrozenTariff | None  # the tariff copied onto it at its start
    location_id: str | None  # its charger's
    meter_id: str | None  # its charger's meter serial number
    commanded: bool  # a command by the name asked for is linked to it (a remote start)


async def sources(
    conn: AsyncConnection, transaction_pk: int, charger_id: str, command: str
) -> CdrSources:
    """The CDR sources of the transaction ``transaction_pk`` of ``charger_id``, in one
    statement; ``command`` names the command whose link ``commanded`` tells."""
    row = await _SOURCES.first(
        conn, {"transaction_pk": transaction_pk, "charger_id": charger_id, "command": command}
    )
    if row is None:  # the charger is gone
        return CdrSources(None, None, None, commanded=False)
    location_id = row["location_id"]
    return CdrSources(
        frozen=None if row["transaction_pk"] is None else frozen_from(row),
        location_id=None if location_id is None else str(location_id),
        meter_id=row["meter_serial_number"],
        commanded=bool(row["commanded"]),
    )


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> CdrRecord | None:
    """Store a CDR and return it as stored; None when its transaction has one of this
    issue (and kind) already."""
    row = await insert_returning_row(conn, cdrs, values, key=("transaction_pk", "issue", "credit"))
    return None if row is None else _record(row)


# A CDR made when a charger's message completes its transaction: nothing in the message's
# commit group reads it back.
_INSERT_LATER = BlindWrite.insert(
    cdrs, name="cdrs_made", unless_taken=("transaction_pk", "issue", "credit")
)


async def insert_later(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Store a CDR with the commit group's other writes, unless its transaction has one
    of this issue (and kind) already."""
    await write_later(conn, _INSERT_LATER, values)


async def get(conn: AsyncConnection, cdr_id: str) -> CdrRecord | None:
    row = await _BY_CDR_ID.first(conn, {"cdr_id": cdr_id})
    return None if row is None else _record(row)


async def of_transaction(conn: AsyncConnection, transaction_pk: int) -> list[CdrRecord]:
    """A transaction's CDRs, credits included, in the order they were made."""
    rows = (
        await conn.execute(
            select(cdrs).where(cdrs.c.transaction_pk == transaction_pk).order_by(cdrs.c.id)
        )
    ).mappings()
    return [_record(row) for row in rows]


async def latest_issue(conn: AsyncConnection, transaction_pk: int) -> int:
    found = await conn.scalar(
        select(func.max(cdrs.c.issue)).where(cdrs.c.transaction_pk == transaction_pk)
    )
    return int(found or 0)


async def list_page(
    conn: AsyncConnection, where: CdrFilter, *, limit: int, offset: int
) -> Page[CdrRecord]:
    """CDRs, newest first."""
    rows, total = await fetch_page(
        conn,
        select(cdrs).where(where.condition()),
        order_by=[cdrs.c.id.desc()],
        limit=limit,
        offset=offset,
    )
    return Page([_record(row) for row in rows], total, limit, offset)


async def batches(
    conn: AsyncConnection, where: CdrFilter, *, size: int = 500
) -> AsyncIterator[list[CdrRecord]]:
    """Every CDR the filter shows, oldest first, ``size`` at a time."""
    after = 0
    while True:
        rows = (
            await conn.execute(
                select(cdrs)
                .where(where.condition() & (cdrs.c.id > after))
                .order_by(cdrs.c.id)
                .limit(size)
            )
        ).mappings()
        batch = [_record(row) for row in rows]
        if not batch:
            return
        yield batch
        after = batch[-1].pk


async def add_pending(conn: AsyncConnection, transaction_pk: int, due_at: datetime) -> None:
    """Note that a transaction waits for its CDR (once: a later call keeps the first due time)."""
    await insert_if_absent(
        conn,
        pending_cdrs,
        {"transaction_pk": transaction_pk, "due_at": due_at},
        key=["transaction_pk"],
    )


async def remove_pending(conn: AsyncConnection, transaction_pk: int) -> None:
    await _REMOVE_PENDING.execute(conn, {"transaction_pk": transaction_pk})


async def postpone(conn: AsyncConnection, transaction_pk: int, due_at: datetime) -> None:
    await conn.execute(
        update(pending_cdrs)
        .where(pending_cdrs.c.transaction_pk == transaction_pk)
        .values(due_at=due_at)
    )


async def due(conn: AsyncConnection, now: datetime, *, limit: int) -> list[int]:
    """Transactions whose wait for their CDR is over, longest waiting first."""
    rows = await conn.execute(
        select(pending_cdrs.c.transaction_pk)
        .where(pending_cdrs.c.due_at <= now)
        .order_by(pending_cdrs.c.due_at, pending_cdrs.c.transaction_pk)
        .limit(limit)
    )
    return [int(pk) for pk in rows.scalars()]


async def pending(conn: AsyncConnection, transaction_pks: Sequence[int]) -> set[int]:
    """Which of these transactions still wait for their CDR."""
    rows = await conn.execute(
        select(pending_cdrs.c.transaction_pk).where(
            pending_cdrs.c.transaction_pk.in_(list(transaction_pks))
        )
    )
    return {int(pk) for pk in rows.scalars()}


def _record(row: Mapping[Any, Any]) -> CdrRecord:
    return CdrRecord(
        pk=row["id"],
        cdr_id=row["cdr_id"],
        transaction_pk=row["transaction_pk"],
        issue=row["issue"],
        credit=bool(row["credit"]),
        credit_reference_id=row["credit_reference_id"],
        charger_id=row["charger_id"],
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        session_id=row["session_id"],
        id_token=row["id_token"],
        start_date_time=row["start_date_time"],
        end_date_time=row["end_date_time"],
        currency=row["currency"],
        total_cost_excl_vat=row["total_cost_excl_vat"],
        total_cost_incl_vat=row["total_cost_incl_vat"],
        total_energy=row["total_energy"],
        total_time=row["total_time"],
        total_parking_time=row["total_parking_time"],
        tariff_id=row["tariff_id"],
        document=row["document"],
        created_at=row["created_at"],
    )
