"""What a transaction costs: its timeline from what its charger reported, priced with
the tariff frozen onto it.

The timeline runs from the transaction's start to its end, or to now while it runs; its
charging periods come from its meter values and charging states
(``chargegrid.domain.charging_periods``). Charging states are those reported with the
transaction's events when there are any, else the statuses of its EVSE. Once the
transaction has a CDR, its cost is the CDR's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.charging_periods import charging_periods
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import MeterSample, Transaction, TransactionStatus
from chargegrid.storage.repositories import cdrs as cdr_repo
from chargegrid.storage.repositories import tariffs as tariff_repo
from chargegrid.storage.repositories import transactions as transaction_repo
from chargegrid.storage.repositories.cdrs import CdrRecord
from chargegrid.storage.repositories.recorded_activity import recorded_activity
from chargegrid.storage.repositories.tariffs import FrozenTariff
from chargegrid.tariffs import (
    OcpiDataError,
    Price,
    PricedSession,
    SessionTimeline,
    Tariff,
    parse_tariff,
    price_session,
)
from chargegrid.values import immutable

__all__ = [
    "CostNotice",
    "Pricing",
    "SessionCost",
    "cost_of",
    "current_cdr",
    "display_amount",
    "frozen_pricing",
    "note_sent",
    "pricing_of",
    "running_cost",
]


@immutable
class Pricing:
    """A transaction's timeline and, with a tariff, its price (``problem``: why not)."""

    timeline: SessionTimeline
    samples: tuple[MeterSample, ...]
    tariff: Tariff | None = None
    priced: PricedSession | None = None
    problem: str | None = None


@immutable
class SessionCost:
    """What a transaction costs: so far while it runs, or as its CDR says (``cdr_id``)."""

    currency: str
    total_cost: Price
    total_energy: Decimal
    total_time: Decimal
    total_parking_time: Decimal
    tariff_id: str | None
    cdr_id: str | None
    as_of: datetime


def display_amount(price: Price) -> Decimal:
    """The amount to show a driver: including VAT, or without when VAT is not known."""
    return price.excl_vat if price.incl_vat is None else price.incl_vat


async def pricing_of(
    conn: AsyncConnection,
    transaction: Transaction,
    now: datetime,
    *,
    tariff: Tariff | None = None,
    time_zone: str | None = None,
    strict: bool = False,
) -> Pricing:
    """The transaction's timeline priced with ``tariff`` (by default the frozen one).

    A tariff that cannot price it (not in force at its start) leaves it unpriced with the
    reason in ``problem``, or with ``strict`` raises INVALID.
    """
    if tariff is None:
        frozen = await tariff_repo.frozen(conn, transaction.id)
        return await frozen_pricing(conn, transaction, now, frozen, strict=strict)
    assert time_zone is not None, "a tariff is read in a time zone"
    samples, timeline = await _timeline(conn, transaction, now)
    try:
        priced = price_session(tariff, time_zone, timeline)
    except OcpiDataError as error:
        if strict:
            raise DomainError(ErrorKind.INVALID, str(error), field=error.path) from None
        return Pricing(timeline, samples, problem=f"not priced with tariff {tariff.id}: {error}")
    return Pricing(timeline, samples, tariff, priced)


async def frozen_pricing(
    conn: AsyncConnection,
    transaction: Transaction,
    now: datetime,
    frozen: FrozenTariff | None,
    *,
    strict: bool = False,
) -> Pricing:
    """``pricing_of`` with the transaction's ``frozen`` tariff, read already (None: it has
    none, and stays unpriced)."""
    if frozen is None:
        samples, timeline = await _timeline(conn, transaction, now)
        return Pricing(timeline, samples)
    tariff = parse_tariff(frozen.document)
    return await pricing_of(
        conn, transaction, now, tariff=tariff, time_zone=frozen.time_zone, strict=strict
    )


async def _timeline(
    conn: AsyncConnection, transaction: Transaction, now: datetime
) -> tuple[tuple[MeterSample, ...], SessionTimeline]:
    """The transaction's samples, and its timeline from them and its states."""
    until = transaction.stopped_at or now
    activity = await recorded_activity(
        conn,
        transaction.id,
        transaction.charger_id,
        transaction.evse_id,
        transaction.started_at,
        until,
    )
    samples = activity.samples
    start = transaction.started_at or min((s.sampled_at for s in samples), default=until)
    end = max(start, until)
    ended = transaction.status is TransactionStatus.COMPLETED
    periods = charging_periods(
        start=start,
        end=end,
        samples=samples,
        states=activity.states,
        meter_start_wh=transaction.meter_start_wh,
        meter_stop_wh=transaction.meter_stop_wh if ended else None,
    )
    timeline = SessionTimeline(start_date_time=start, end_date_time=end, charging_periods=periods)
    return samples, timeline


async def cost_of(
    conn: AsyncConnection, transaction: Transaction, now: datetime
) -> SessionCost | None:
    """The transaction's cost: its CDR's, or priced now; None without CDR and tariff."""
    current = current_cdr(await cdr_repo.of_transaction(conn, transaction.id))
    if current is not None:
        return SessionCost(
            currency=current.currency,
            total_cost=Price(
                excl_vat=current.total_cost_excl_vat, incl_vat=current.total_cost_incl_vat
            ),
            total_energy=current.total_energy,
            total_time=current.total_time,
            total_parking_time=current.total_parking_time or Decimal(0),
            tariff_id=current.tariff_id,
            cdr_id=current.cdr_id,
            as_of=current.created_at,
        )
    if transaction.tariff_id is None:
        return None
    pricing = await pricing_of(conn, transaction, now)
    priced = pricing.priced
    if priced is None:
        return None
    return SessionCost(
        currency=priced.currency,
        total_cost=priced.total_cost,
        total_energy=priced.total_energy,
        total_time=priced.total_time,
        total_parking_time=priced.total_parking_time,
        tariff_id=transaction.tariff_id,
        cdr_id=None,
        as_of=pricing.timeline.end_date_time,
    )


def current_cdr(records: list[CdrRecord]) -> CdrRecord | None:
    """The CDR in force: the last one that is neither a credit nor credited."""
    credited = {r.credit_reference_id for r in records if r.credit}
    valid = [r for r in records if not r.credit and r.cdr_id not in credited]
    return valid[-1] if valid else None


@immutable
class CostNotice:
    """A running cost to send to a charger: ``amount`` replaces ``previous`` (last sent)."""

    transaction_pk: int
    transaction_id: str
    amount: Decimal
    previous: Decimal | None


async def running_cost(
    conn: AsyncConnection, transaction_pk: int, now: datetime, *, interval_s: float
) -> CostNotice | None:
    """The running cost to tell the charger about; None when it has not changed since it
    was last sent, was sent less than ``interval_s`` seconds ago, or the transaction has
    no tariff or has ended. Only reads: ``note_sent`` records it."""
    frozen = await tariff_repo.frozen(conn, transaction_pk)
    if frozen is None:
        return None
    last = frozen.notified_at
    if last is not None and (now - last).total_seconds() < interval_s:
        return None
    transaction = await transaction_repo.get(conn, transaction_pk)
    if (
        transaction is None
        or transaction.transaction_id is None
        or transaction.status is TransactionStatus.COMPLETED
    ):
        return None
    priced = (await pricing_of(conn, transaction, now)).priced
    if priced is None:
        return None
    amount = display_amount(priced.total_cost)
    if amount == frozen.notified_cost:
        return None
    return CostNotice(transaction_pk, transaction.transaction_id, amount, frozen.notified_cost)


async def note_sent(conn: AsyncConnection, notice: CostNotice, now: datetime) -> bool:
    """Record that ``notice`` goes out; False when another sender changed it meanwhile
    (that one sends)."""
    return await tariff_repo.mark_notified(
        conn, notice.transaction_pk, cost=notice.amount, previous=notice.previous, now=now
    )
