"""Transactions and their meter samples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import MeterSample, Transaction, TransactionStatus
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import meter_samples, transactions


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(transactions.insert().values(**values).returning(transactions.c.id))
    return int(result.scalar_one())


async def update_fields(conn: AsyncConnection, pk: int, **values: Any) -> None:
    await conn.execute(update(transactions).where(transactions.c.id == pk).values(**values))


async def get(conn: AsyncConnection, pk: int) -> Transaction | None:
    return await _one(conn, transactions.c.id == pk)


async def get_by_charger_id(
    conn: AsyncConnection, charger_id: str, transaction_id: str
) -> Transaction | None:
    return await _one(
        conn,
        (transactions.c.charger_id == charger_id)
        & (transactions.c.transaction_id == transaction_id),
    )


async def find_start(
    conn: AsyncConnection,
    *,
    charger_id: str,
    evse_id: int,
    id_token: str,
    started_at: datetime,
    meter_start_wh: float,
) -> Transaction | None:
    """The transaction an identical start message created before, if any."""
    return await _one(
        conn,
        (transactions.c.charger_id == charger_id)
        & (transactions.c.evse_id == evse_id)
        & (transactions.c.id_token == id_token)
        & (transactions.c.started_at == started_at)
        & (transactions.c.meter_start_wh == meter_start_wh),
    )


async def active_for_token(
    conn: AsyncConnection, id_token: str, *, exclude: int | None = None
) -> Transaction | None:
    condition = (transactions.c.id_token == id_token) & (
        transactions.c.status == TransactionStatus.ACTIVE.value
    )
    if exclude is not None:
        condition = condition & (transactions.c.id != exclude)
    return await _one(conn, condition)


async def active_on_evse(
    conn: AsyncConnection, charger_id: str, evse_id: int
) -> Transaction | None:
    return await _one(
        conn,
        (transactions.c.charger_id == charger_id)
        & (transactions.c.evse_id == evse_id)
        & (transactions.c.status == TransactionStatus.ACTIVE.value),
    )


async def list_page(
    conn: AsyncConnection,
    *,
    limit: int,
    offset: int,
    charger_id: str | None = None,
    status: str | None = None,
    id_token: str | None = None,
) -> Page[Transaction]:
    query = select(transactions)
    if charger_id is not None:
        query = query.where(transactions.c.charger_id == charger_id)
    if status is not None:
        query = query.where(transactions.c.status == status)
    if id_token is not None:
        query = query.where(transactions.c.id_token == id_token)
    rows, total = await fetch_page(
        conn, query, order_by=[transactions.c.id.desc()], limit=limit, offset=offset
    )
    return Page([_transaction(row) for row in rows], total, limit, offset)


async def add_samples(
    conn: AsyncConnection,
    *,
    charger_id: str,
    evse_id: int,
    connector_id: int | None,
    transaction_pk: int | None,
    samples: Sequence[MeterSample],
) -> None:
    if not samples:
        return
    await conn.execute(
        meter_samples.insert(),
        [
            {
                "charger_id": charger_id,
                "transaction_pk": transaction_pk,
                "evse_id": evse_id,
                "connector_id": connector_id,
                "sampled_at": sample.sampled_at,
                "measurand": sample.measurand,
                "phase": sample.phase,
                "unit": sample.unit,
                "context": sample.context,
                "location": sample.location,
                "value": sample.value,
                "signed_data": sample.signed_data,
            }
            for sample in samples
        ],
    )


async def samples_of(conn: AsyncConnection, transaction_pk: int) -> list[MeterSample]:
    rows = (
        await conn.execute(
            select(meter_samples)
            .where(meter_samples.c.transaction_pk == transaction_pk)
            .order_by(meter_samples.c.sampled_at, meter_samples.c.id)
        )
    ).mappings()
    return [
        MeterSample(
            sampled_at=row["sampled_at"],
            measurand=row["measurand"],
            value=row["value"],
            unit=row["unit"],
            phase=row["phase"],
            context=row["context"],
            location=row["location"],
            signed_data=row["signed_data"],
        )
        for row in rows
    ]


async def _one(conn: AsyncConnection, condition: Any) -> Transaction | None:
    row = (await conn.execute(select(transactions).where(condition).limit(1))).mappings().first()
    return None if row is None else _transaction(row)


def _transaction(row: RowMapping) -> Transaction:
    return Transaction(
        id=row["id"],
        charger_id=row["charger_id"],
        status=TransactionStatus(row["status"]),
        transaction_id=row["transaction_id"],
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        id_token=row["id_token"],
        authorization_status=row["authorization_status"],
        started_at=row["started_at"],
        stopped_at=row["stopped_at"],
        meter_start_wh=row["meter_start_wh"],
        meter_stop_wh=row["meter_stop_wh"],
        energy_wh=row["energy_wh"],
        stop_reason=row["stop_reason"],
        stop_id_token=row["stop_id_token"],
        reservation_id=row["reservation_id"],
    )
