"""Transactions: start, meter values and stop, idempotent against retries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import (
    Authorization,
    MeterSample,
    Transaction,
    TransactionStart,
    TransactionStatus,
    TransactionStop,
)
from chargegrid.domain.services.authorization import authorize
from chargegrid.storage.repositories import transactions as repo

SUPERSEDED = "Superseded"


async def start(
    conn: AsyncConnection,
    request: TransactionStart,
    now: datetime,
    *,
    transaction_id: str | None = None,
) -> tuple[Transaction, Authorization]:
    """Record a started transaction; a retried identical start returns the same one.

    ``transaction_id`` is the charger's id for it (OCPP 2.0.1); when None the platform
    assigns one (OCPP 1.6 takes it from the answer). A transaction still active on the
    same EVSE is closed as superseded: its stop can no longer be coming.
    """
    existing = await repo.find_start(
        conn,
        charger_id=request.charger_id,
        evse_id=request.evse_id,
        id_token=request.id_token,
        started_at=request.started_at,
        meter_start_wh=request.meter_start_wh,
    )
    if existing is not None:
        return existing, await authorize(conn, request.id_token, now, transaction_pk=existing.id)
    authorization = await authorize(conn, request.id_token, now)
    stale = await repo.active_on_evse(conn, request.charger_id, request.evse_id)
    if stale is not None:
        await repo.update_fields(
            conn,
            stale.id,
            status=TransactionStatus.COMPLETED.value,
            stopped_at=request.started_at,
            stop_reason=SUPERSEDED,
            updated_at=now,
        )
    pk = await repo.insert(
        conn,
        {
            "charger_id": request.charger_id,
            "transaction_id": transaction_id,
            "evse_id": request.evse_id,
            "connector_id": request.connector_id,
            "id_token": request.id_token,
            "authorization_status": authorization.status.value,
            "status": TransactionStatus.ACTIVE.value,
            "started_at": request.started_at,
            "meter_start_wh": request.meter_start_wh,
            "reservation_id": request.reservation_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    if transaction_id is None:
        await repo.update_fields(conn, pk, transaction_id=str(pk))
    transaction = await repo.get(conn, pk)
    assert transaction is not None
    return transaction, authorization


async def stop(
    conn: AsyncConnection, request: TransactionStop, now: datetime
) -> tuple[Transaction, Authorization | None]:
    """Record a stop. A stop for an unknown transaction is kept as a transaction of its own."""
    transaction = await repo.get_by_charger_id(
        conn, request.charger_id, request.transaction_id
    ) or await repo.get_by_charger_id(conn, request.charger_id, _unmatched_id(request))
    if transaction is None:
        pk = await repo.insert(
            conn,
            {
                "charger_id": request.charger_id,
                "transaction_id": _unmatched_id(request),
                "status": TransactionStatus.COMPLETED.value,
                "stopped_at": request.stopped_at,
                "meter_stop_wh": request.meter_stop_wh,
                "stop_reason": request.reason,
                "stop_id_token": request.id_token,
                "created_at": now,
                "updated_at": now,
            },
        )
    else:
        pk = transaction.id
        if transaction.status is TransactionStatus.ACTIVE or transaction.stop_reason == SUPERSEDED:
            energy = None
            if transaction.meter_start_wh is not None:
                energy = request.meter_stop_wh - transaction.meter_start_wh
            await repo.update_fields(
                conn,
                pk,
                status=TransactionStatus.COMPLETED.value,
                stopped_at=request.stopped_at,
                meter_stop_wh=request.meter_stop_wh,
                energy_wh=energy,
                stop_reason=request.reason,
                stop_id_token=request.id_token,
                updated_at=now,
            )
    stored = await repo.get(conn, pk)
    assert stored is not None
    if request.samples and (transaction is None or transaction.status is TransactionStatus.ACTIVE):
        await repo.add_samples(
            conn,
            charger_id=request.charger_id,
            evse_id=stored.evse_id or 0,
            connector_id=stored.connector_id,
            transaction_pk=pk,
            samples=request.samples,
        )
    authorization = None
    if request.id_token is not None:
        authorization = await authorize(conn, request.id_token, now, transaction_pk=pk)
    return stored, authorization


async def record_meter_values(
    conn: AsyncConnection,
    *,
    charger_id: str,
    evse_id: int,
    connector_id: int | None,
    transaction_id: str | None,
    samples: Sequence[MeterSample],
) -> None:
    """Store sampled values, linked to their transaction when the charger names one."""
    transaction_pk = None
    if transaction_id is not None:
        transaction = await repo.get_by_charger_id(conn, charger_id, transaction_id)
        transaction_pk = None if transaction is None else transaction.id
    await repo.add_samples(
        conn,
        charger_id=charger_id,
        evse_id=evse_id,
        connector_id=connector_id,
        transaction_pk=transaction_pk,
        samples=samples,
    )


def _unmatched_id(request: TransactionStop) -> str:
    """Stable id under which a stop without a known start is recorded."""
    return f"unmatched:{request.transaction_id}:{request.stopped_at.isoformat()}"
