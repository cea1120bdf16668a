"""The cost panel of a transaction page: its price so far or final, and its CDR.

``transaction_cost`` is the one place the panel (``transaction/transaction_cost.html``)
gets its figures from, on the page and in its live updates. An ended transaction with a
CDR shows the CDR's figures; otherwise the transaction is priced now with the tariff
frozen onto it (``chargegrid.domain.services.costs``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.cdr import Cdr as OcpiCdr
from chargegrid.domain.model import Transaction, TransactionStatus
from chargegrid.domain.services import cdrs as cdr_service
from chargegrid.domain.services import costs
from chargegrid.storage.repositories import cdrs as cdr_repo
from chargegrid.tariffs import Price, PricedSession, Tariff
from chargegrid.values import immutable


@immutable
class CostLine:
    """One part of a price: energy, time, parking, reservation or a flat fee."""

    label: str
    quantity: str  # e.g. "12.40 kWh", "1 h 05 min"
    amount: Decimal


@immutable
class Cdr:
    """The charge detail record of an ended transaction, as far as the panel shows it."""

    id: str
    issued_at: datetime
    total_excl_vat: Decimal
    total_incl_vat: Decimal | None
    credits: int  # earlier CDRs of this transaction that were credited
    document: str  # the CDR as OCPI JSON


@immutable
class TransactionCost:
    """What the panel shows. ``tariff`` None: no tariff applied (the other fields empty)."""

    final: bool  # the transaction has ended: the price will not change
    tariff: str | None = None  # the tariff's id, with its description when it has one
    currency: str | None = None
    lines: tuple[CostLine, ...] = ()
    total_excl_vat: Decimal | None = None
    total_incl_vat: Decimal | None = None
    cdr: Cdr | None = None
    problem: str | None = None  # why a tariff was frozen on but could not price it


async def transaction_cost(
    conn: AsyncConnection, transaction: Transaction, *, now: datetime
) -> TransactionCost:
    """The cost of ``transaction`` so far (active) or final (ended), and its CDR."""
    ended = transaction.status is TransactionStatus.COMPLETED
    records = await cdr_repo.of_transaction(conn, transaction.id)
    current = costs.current_cdr(records)
    if current is not None:
        document = cdr_service.decode(current)
        return TransactionCost(
            final=True,
            tariff=_tariff_label(document.tariffs[0]) if document.tariffs else None,
            currency=document.currency,
            lines=_lines(document),
            total_excl_vat=document.total_cost.excl_vat,
            total_incl_vat=document.total_cost.incl_vat,
            cdr=Cdr(
                id=current.cdr_id,
                issued_at=current.created_at,
                total_excl_vat=current.total_cost_excl_vat,
                total_incl_vat=current.total_cost_incl_vat,
                credits=sum(1 for r in records if r.credit),
                document=current.document,
            ),
        )
    if transaction.tariff_id is None:
        return TransactionCost(final=ended)
    pricing = await costs.pricing_of(conn, transaction, now)
    if pricing.priced is None or pricing.tariff is None:
        return TransactionCost(final=ended, tariff=transaction.tariff_id, problem=pricing.problem)
    priced = pricing.priced
    return TransactionCost(
        final=ended,
        tariff=_tariff_label(pricing.tariff),
        currency=priced.currency,
        lines=_lines(priced),
        total_excl_vat=priced.total_cost.excl_vat,
        total_incl_vat=priced.total_cost.incl_vat,
    )


def _tariff_label(tariff: Tariff) -> str:
    texts = [t.text for t in tariff.tariff_alt_text if t.language.lower().startswith("en")]
    texts = texts or [t.text for t in tariff.tariff_alt_text]
    return f"{tariff.id} · {texts[0]}" if texts else tariff.id


def _lines(priced: PricedSession | OcpiCdr) -> tuple[CostLine, ...]:
    """The parts of the price that apply, in the order a receipt lists them."""
    parking_hours = priced.total_parking_time or Decimal(0)
    parts: list[tuple[str, str, Price | None]] = [
        ("Energy", f"{priced.total_energy:.2f} kWh", priced.total_energy_cost),
        ("Charging time", _hours(priced.total_time - parking_hours), priced.total_time_cost),
        ("Parking time", _hours(parking_hours), priced.total_parking_cost),
        ("Flat fee", "per session", priced.total_fixed_cost),
        ("Reservation", "", priced.total_reservation_cost),
    ]
    return tuple(
        CostLine(label, quantity, costs.display_amount(price))
        for label, quantity, price in parts
        if price is not None
    )


def _hours(hours: Decimal) -> str:
    minutes = int((max(hours, Decimal(0)) * 60).to_integral_value())
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
