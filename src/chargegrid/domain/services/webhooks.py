"""Webhooks: operators subscribe a URL to platform events.

``publish`` is called inside the database transaction that caused an event and writes
one delivery per subscribed webhook (an outbox: an event is recorded if and only if what
caused it is). The delivery worker (``chargegrid.webhooks``) then posts and retries them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from types import EllipsisType
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.clock import as_utc
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.ids import new_id, new_secret
from chargegrid.storage.repositories import webhooks as repo
from chargegrid.storage.repositories.pages import Page
from chargegrid.storage.repositories.webhooks import Delivery, DeliveryState, Webhook

__all__ = [
    "Delivery",
    "DeliveryState",
    "EventType",
    "Webhook",
    "create",
    "delete",
    "deliveries",
    "get",
    "publish",
    "retry",
    "subscribed",
    "update",
]

MAX_URL_LENGTH = 2000
SECRET_LENGTH = range(16, 129)


class EventType(StrEnum):
    """What a webhook can be sent."""

    CHARGER_CONNECTED = "charger.connected"
    CHARGER_DISCONNECTED = "charger.disconnected"
    CHARGER_STATUS_CHANGED = "charger.status_changed"
    TRANSACTION_STARTED = "transaction.started"
    TRANSACTION_ENDED = "transaction.ended"
    COMMAND_FINISHED = "command.finished"


async def subscribed(conn: AsyncConnection, event_type: EventType) -> list[int]:
    """The active webhooks that want ``event_type`` (empty: skip the work of the event)."""
    return await repo.subscribers(conn, event_type.value)


async def publish(
    conn: AsyncConnection,
    event_type: EventType,
    data: Mapping[str, Any],
    now: datetime,
    *,
    to: Sequence[int] | None = None,
) -> None:
    """Queue the event for every active webhook subscribed to its type (or for ``to``,
    what ``subscribed`` answered in the same transaction).

    Call it in the transaction that caused the event. ``data`` must be JSON-serialisable;
    datetimes in it become ISO 8601 UTC. With no subscriber this costs one small query.
    """
    webhook_ids = await repo.subscribers(conn, event_type.value) if to is None else to
    if not webhook_ids:
        return
    event_id = new_id()
    payload = json.dumps(
        {
            "id": event_id,
            "type": event_type.value,
            "occurred_at": _iso(now),
            "data": dict(data),
        },
        default=_json_value,
        separators=(",", ":"),
    )
    await repo.add_deliveries(
        conn,
        [
            {
                "webhook_id": webhook_id,
                "event_id": event_id,
                "event_type": event_type.value,
                "payload": payload,
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for webhook_id in webhook_ids
        ],
    )


async def create(
    conn: AsyncConnection,
    *,
    url: str,
    event_types: Sequence[str],
    now: datetime,
    secret: str | None = None,
    description: str | None = None,
    active: bool = True,
) -> Webhook:
    """Register a webhook; without a ``secret`` one is generated (read it from the result)."""
    if secret is not None:
        _check_secret(secret)
    webhook_id = await repo.insert(
        conn,
        {
            "url": _checked_url(url),
            "secret": new_secret() if secret is None else secret,
            "event_types": _checked_event_types(event_types),
            "description": description or None,
            "active": active,
            "created_at": now,
            "updated_at": now,
        },
    )
    return await get(conn, webhook_id)


async def get(conn: AsyncConnection, webhook_id: int) -> Webhook:
    webhook = await repo.get(conn, webhook_id)
    if webhook is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"webhook {webhook_id} not found")
    return webhook


async def update(
    conn: AsyncConnection,
    webhook_id: int,
    *,
    now: datetime,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | EllipsisType | None = ...,
    active: bool | None = None,
    secret: str | None = None,
) -> Webhook:
    """Change what is given (``description=None`` clears it; ``...`` leaves it)."""
    changes: dict[str, Any] = {}
    if url is not None:
        changes["url"] = _checked_url(url)
    if event_types is not None:
        changes["event_types"] = _checked_event_types(event_types)
    if description is not ...:
        changes["description"] = description or None
    if active is not None:
        changes["active"] = active
    if secret is not None:
        _check_secret(secret)
        changes["secret"] = secret
    if not await repo.update_fields(conn, webhook_id, **changes, updated_at=now):
        raise DomainError(ErrorKind.NOT_FOUND, f"webhook {webhook_id} not found")
    return await get(conn, webhook_id)


async def delete(conn: AsyncConnection, webhook_id: int) -> None:
    """Delete a webhook with its delivery history; pending deliveries are dropped."""
    if not await repo.delete_webhook(conn, webhook_id):
        raise DomainError(ErrorKind.NOT_FOUND, f"webhook {webhook_id} not found")


async def deliveries(
    conn: AsyncConnection,
    webhook_id: int,
    *,
    limit: int,
    offset: int,
    state: DeliveryState | None = None,
) -> Page[Delivery]:
    """A webhook's delivery history, newest first."""
    await get(conn, webhook_id)
    return await repo.deliveries_page(
        conn,
        webhook_id,
        limit=limit,
        offset=offset,
        state=None if state is None else state.value,
    )


async def retry(
    conn: AsyncConnection, webhook_id: int, delivery_id: int, now: datetime
) -> Delivery:
    """Send a delivered or failed delivery once more, as soon as the worker comes by."""
    delivery = await repo.get_delivery(conn, webhook_id, delivery_id)
    if delivery is None:
        raise DomainError(
            ErrorKind.NOT_FOUND, f"delivery {delivery_id} of webhook {webhook_id} not found"
        )
    if not await repo.reschedule(conn, webhook_id, delivery_id, now=now):
        raise DomainError(ErrorKind.CONFLICT, f"delivery {delivery_id} is already pending")
    found = await repo.get_delivery(conn, webhook_id, delivery_id)
    assert found is not None
    return found


def _checked_url(url: str) -> str:
    url = url.strip()
    problem = "webhook url must be an absolute http or https URL"
    if len(url) > MAX_URL_LENGTH:
        raise DomainError(ErrorKind.INVALID, f"webhook url is longer than {MAX_URL_LENGTH}")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a malformed port
    except ValueError:
        raise DomainError(ErrorKind.INVALID, problem) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise DomainError(ErrorKind.INVALID, problem)
    return url


def _checked_event_types(event_types: Sequence[str]) -> list[str]:
    known = {e.value for e in EventType}
    unknown = [e for e in event_types if e not in known]
    if unknown:
        raise DomainError(
            ErrorKind.INVALID,
            f"unknown event types {unknown}; known: {', '.join(e.value for e in EventType)}",
        )
    if not event_types:
        raise DomainError(ErrorKind.INVALID, "a webhook needs at least one event type")
    return list(dict.fromkeys(event_types))


def _check_secret(secret: str) -> None:
    if len(secret) not in SECRET_LENGTH:
        raise DomainError(ErrorKind.INVALID, "webhook secret must be 16-128 characters")


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
