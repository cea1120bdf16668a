"""OCPP 2.0.1 cost display (use cases I02, I03): what a transaction costs, told to its
charger.

Only transactions with a tariff are told about (a charger shows 0.00 as "free", which a
transaction without one is not known to be). The amount is including VAT, or without it
when the tariff states no VAT.

- The answer to the event that ends a transaction carries its final cost
  (TransactionEventResponse ``totalCost``, which the schema allows only when charging
  has ended): the CDR's when it was made with that event, otherwise the cost priced then.
- After the answer to the other events, the running cost goes out in a CostUpdated once
  it differs from the last one sent, at most every ``CHARGEGRID_COST_UPDATE_INTERVAL``
  seconds. It is worked out after the reply, never before it.
"""

from __future__ import annotations

import logging

from chargegrid.domain.model import Transaction, TransactionEventKind
from chargegrid.domain.services import costs
from chargegrid.gateway.connection import (
    CallRejected,
    CallTimeout,
    ChargerConnection,
    ChargerUnavailable,
    FollowUp,
)
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.ocpp.v201 import messages as m

__all__ = ["transaction_cost"]

logger = logging.getLogger(__name__)


async def transaction_cost(
    ctx: HandlerContext,
    kind: TransactionEventKind,
    transaction: Transaction | None,
    recorded: bool,
) -> float | None:
    """The ``totalCost`` to answer an event with; after other events, a CostUpdated."""
    if transaction is None or transaction.tariff_id is None:
        return None
    if kind is TransactionEventKind.ENDED:
        try:
            cost = await costs.cost_of(ctx.conn, transaction, ctx.now)
        except Exception:  # the end is recorded all the same: answer without the cost
            logger.exception("could not price transaction %s", transaction.id)
            return None
        return None if cost is None else float(costs.display_amount(cost.total_cost))
    if recorded:
        ctx.after_reply(_running_cost(ctx, transaction.id))
    return None


def _running_cost(ctx: HandlerContext, transaction_pk: int) -> FollowUp:
    db, clock = ctx.db, ctx.clock
    interval = ctx.settings.cost_update_interval

    async def send(connection: ChargerConnection) -> None:
        if db is None or clock is None:
            return
        now = clock.now()
        async with db.connect() as conn:
            notice = await costs.running_cost(conn, transaction_pk, now, interval_s=interval)
        if notice is None:
            return
        async with db.begin() as conn:
            if not await costs.note_sent(conn, notice, now):
                return
        request = m.CostUpdatedRequest(
            total_cost=float(notice.amount), transaction_id=notice.transaction_id
        )
        try:
            await connection.call("CostUpdated", request)
        except (CallTimeout, CallRejected, ChargerUnavailable) as error:
            logger.warning("CostUpdated to charger %s failed: %s", connection.charger_id, error)

    return send
