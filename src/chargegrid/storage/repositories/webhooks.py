"""Webhooks and their deliveries (the outbox the delivery worker sends from)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import webhook_deliveries, webhooks
from chargegrid.values import immutable


class DeliveryState(StrEnum):
    """Where a delivery is: waiting for an attempt, or finished one way or the other."""

    PENDING = "pending"  # due at next_attempt_at (or being sent: then that is a lease)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed


PENDING = DeliveryState.PENDING.value


@immutable
class Webhook:
    """A receiver URL and the event types it is sent."""

    id: int
    url: str
    secret: str
    event_types: tuple[str, ...]
    description: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


@immutable
class Delivery:
    """One event for one webhook, and how sending it went so far."""

    id: int
    webhook_id: int
    event_id: str
    event_type: str
    payload: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    updated_at: datetime


@immutable
class Claimed:
    """A delivery a worker has taken to send: nobody else sends it until the lease ends."""

    id: int
    event_type: str
    payload: str
    attempts: int


async def insert(conn: AsyncConnection, values: Mapping[str, Any]) -> int:
    result = await conn.execute(webhooks.insert().values(**values).returning(webhooks.c.id))
    _changed(conn)
    return int(result.scalar_one())


async def get(conn: AsyncConnection, webhook_id: int) -> Webhook | None:
    row = (
        (await conn.execute(select(webhooks).where(webhooks.c.id == webhook_id))).mappings().first()
    )
    return None if row is None else _webhook(row)


async def list_page(conn: AsyncConnection, *, limit: int, offset: int) -> Page[Webhook]:
    rows, total = await fetch_page(
        conn, select(webhooks), order_by=[webhooks.c.id], limit=limit, offset=offset
    )
    return Page([_webhook(row) for row in rows], total, limit, offset)


async def update_fields(conn: AsyncConnection, webhook_id: int, **values: Any) -> bool:
    result = await conn.execute(
        update(webhooks).where(webhooks.c.id == webhook_id).values(**values)
    )
    _changed(conn)
    return bool(result.rowcount)


async def delete_webhook(conn: AsyncConnection, webhook_id: int) -> bool:
    """Delete a webhook; its deliveries go with it (the foreign key cascades)."""
    result = await conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
    _changed(conn)
    return bool(result.rowcount)


# Built once and run on the driver: every status notification and transaction start or
# end asks.
_ACTIVE_SUBSCRIPTIONS = DirectStatement(
    select(webhooks.c.id, webhooks.c.event_types).where(webhooks.c.active.is_(True))
)
# The active subscriptions are kept, per database (its connection pool), for this long
# (seconds): they change seldom, and nearly every charger message would read them.
# Changes made through this module drop what is kept (a read that races their commit may
# keep the old for that long); another node's are seen after at most that long.
SUBSCRIPTIONS_KEPT_S = 1.0
_kept: WeakKeyDictionary[object, tuple[float, list[dict[str, Any]]]] = WeakKeyDictionary()


async def subscribers(conn: AsyncConnection, event_type: str) -> list[int]:
    """The active webhooks subscribed to ``event_type``.

    The subscription lists are JSON, which the two engines query differently, so they
    are matched here.
    """
    pool = conn.sync_engine.pool
    now = time.monotonic()
    kept = _kept.get(pool)
    if kept is None or now - kept[0] >= SUBSCRIPTIONS_KEPT_S:
        kept = _kept[pool] = (now, await _ACTIVE_SUBSCRIPTIONS.rows(conn, {}))
    return [row["id"] for row in kept[1] if event_type in row["event_types"]]


def _changed(conn: AsyncConnection) -> None:
    """The webhooks changed: read the subscriptions again next time."""
    _kept.pop(conn.sync_engine.pool, None)


async def add_deliveries(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await conn.execute(webhook_deliveries.insert(), [dict(row) for row in rows])


async def get_delivery(conn: AsyncConnection, webhook_id: int, delivery_id: int) -> Delivery | None:
    row = (
        (
            await conn.execute(
                select(webhook_deliveries).where(
                    (webhook_deliveries.c.id == delivery_id)
                    & (webhook_deliveries.c.webhook_id == webhook_id)
                )
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _delivery(row)


async def deliveries_page(
    conn: AsyncConnection,
    webhook_id: int,
    *,
    limit: int,
    offset: int,
    state: str | None = None,
) -> Page[Delivery]:
    """A webhook's deliveries, newest first."""
    query = select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
    if state is not None:
        query = query.where(webhook_deliveries.c.state == state)
    rows, total = await fetch_page(
        conn, query, order_by=[webhook_deliveries.c.id.desc()], limit=limit, offset=offset
    )
    return Page([_delivery(row) for row in rows], total, limit, offset)


async def due_webhooks(conn: AsyncConnection, now: datetime) -> list[Webhook]:
    """Active webhooks with deliveries due at ``now``."""
    due = (
        select(webhook_deliveries.c.webhook_id)
        .where(
            (webhook_deliveries.c.state == PENDING) & (webhook_deliveries.c.next_attempt_at <= now)
        )
        .distinct()
    )
    rows = (
        await conn.execute(
            select(webhooks)
            .where(webhooks.c.active.is_(True) & webhooks.c.id.in_(due))
            .order_by(webhooks.c.id)
        )
    ).mappings()
    return [_webhook(row) for row in rows]


async def claim(
    conn: AsyncConnection, webhook_id: int, *, now: datetime, limit: int, lease_until: datetime
) -> list[Claimed]:
    """Take up to ``limit`` of a webhook's due deliveries until ``lease_until``.

    Safe with several workers: PostgreSQL skips rows another claim has locked, SQLite
    runs one writer at a time, and only rows still due are taken.
    """
    due = (webhook_deliveries.c.state == PENDING) & (webhook_deliveries.c.next_attempt_at <= now)
    # Two statements: PostgreSQL may run an IN (SELECT ... LIMIT) subquery more than once.
    candidates = list(
        await conn.scalars(
            select(webhook_deliveries.c.id)
            .where((webhook_deliveries.c.webhook_id == webhook_id) & due)
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not candidates:
        return []
    rows = await conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id.in_(candidates) & due)
        .values(next_attempt_at=lease_until, updated_at=now)
        .returning(
            webhook_deliveries.c.id,
            webhook_deliveries.c.event_type,
            webhook_deliveries.c.payload,
            webhook_deliveries.c.attempts,
        )
    )
    claimed = [Claimed(row.id, row.event_type, row.payload, row.attempts) for row in rows]
    return sorted(claimed, key=lambda c: c.id)


async def record_attempt(
    conn: AsyncConnection, delivery_id: int, *, claimed_attempts: int, **values: Any
) -> bool:
    """Store the outcome of an attempt, unless the delivery changed since it was claimed."""
    result = await conn.execute(
        update(webhook_deliveries)
        .where(
            (webhook_deliveries.c.id == delivery_id)
            & (webhook_deliveries.c.state == PENDING)
            & (webhook_deliveries.c.attempts == claimed_attempts)
        )
        .values(**values)
    )
    return bool(result.rowcount)


async def reschedule(
    conn: AsyncConnection, webhook_id: int, delivery_id: int, *, now: datetime
) -> bool:
    """Make a finished (delivered or failed) delivery pending and due now."""
    result = await conn.execute(
        update(webhook_deliveries)
        .where(
            (webhook_deliveries.c.id == delivery_id)
            & (webhook_deliveries.c.webhook_id == webhook_id)
            & (webhook_deliveries.c.state != PENDING)
        )
        .values(state=PENDING, next_attempt_at=now, delivered_at=None, updated_at=now)
    )
    return bool(result.rowcount)


def _webhook(row: RowMapping) -> Webhook:
    return Webhook(
        id=row["id"],
        url=row["url"],
        secret=row["secret"],
        event_types=tuple(row["event_types"]),
        description=row["description"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"],
        webhook_id=row["webhook_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        payload=row["payload"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
        updated_at=row["updated_at"],
    )
