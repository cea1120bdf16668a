"""The cost panel of a transaction page: its price so far or final, and its CDR.

``transaction_cost`` is the one place the panel (``transaction/transaction_cost.html``)
gets its figures from, on the page and in its live updates. Tariffs do not price
sessions yet, so it answers that no tariff applies; once they do, it reads the tariff
that applies and the CDR, and the template shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Transaction, TransactionStatus


@dataclass(frozen=True, slots=True)
class CostLine:
    """One part of a price: energy, time, parking or a flat fee."""

    label: str
    quantity: str  # e.g. "12.40 kWh", "1 h 05 min"
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Cdr:
    """The charge detail record of an ended transaction, as far as the panel shows it."""

    id: str
    issued_at: datetime
    total_excl_vat: Decimal
    total_incl_vat: Decimal | None


@dataclass(frozen=True, slots=True)
class TransactionCost:
    """What the panel shows. ``tariff`` None: no tariff applied (the other fields empty)."""

    final: bool  # the transaction has ended: the price will not change
    tariff: str | None = None  # the tariff's name or id
    currency: str | None = None
    lines: tuple[CostLine, ...] = ()
    total_excl_vat: Decimal | None = None
    total_incl_vat: Decimal | None = None
    cdr: Cdr | None = None


async def transaction_cost(
    conn: AsyncConnection, transaction: Transaction, *, energy_wh: float | None, now: datetime
) -> TransactionCost:
    """The cost of ``transaction`` so far (active) or final (ended), and its CDR.

    ``energy_wh`` is the energy delivered up to ``now`` (the final energy once ended).
    """
    return TransactionCost(final=transaction.status is TransactionStatus.COMPLETED)
