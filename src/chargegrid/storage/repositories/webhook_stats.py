"""What the webhooks list shows of each webhook's deliveries: how many wait or failed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.repositories.webhooks import DeliveryState
from chargegrid.storage.tables import webhook_deliveries

OPEN_STATES = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)


async def open_deliveries(
    conn: AsyncConnection, webhook_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Pending and failed deliveries of these webhooks, counted by state (one statement,
    on the deliveries' state index: delivered ones, the bulk, are not read)."""
    if not webhook_ids:
        return {}
    rows = await conn.execute(
        select(webhook_deliveries.c.webhook_id, webhook_deliveries.c.state, func.count())
        .where(
            webhook_deliveries.c.state.in_(OPEN_STATES)
            & webhook_deliveries.c.webhook_id.in_(list(webhook_ids))
        )
        .group_by(webhook_deliveries.c.webhook_id, webhook_deliveries.c.state)
    )
    found: dict[int, dict[str, int]] = {}
    for webhook_id, state, count in rows:
        found.setdefault(webhook_id, {})[state] = int(count)
    return found
