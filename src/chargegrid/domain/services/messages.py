"""The OCPP message log, and answers to repeated CALLs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import MessageRecord
from chargegrid.storage.repositories import messages as repo
from chargegrid.values import immutable


async def record(conn: AsyncConnection, message: MessageRecord) -> None:
    """Log the message (at the end of the group scope, if any: nothing reads it back)."""
    await repo.insert(conn, message)


async def record_answered(conn: AsyncConnection, message: MessageRecord, *, window_s: int) -> None:
    """Log an answered CALL as ``record`` does, unless it repeats one answered within the
    window before it (see ``stored_replies``): then nothing that the group scope kept is
    written, and ``GuardRefused`` is raised. Repeats are rare: looked for where the CALL
    is logged, on PostgreSQL in the same statement, they cost no round trip of their own.
    """
    if window_s <= 0:
        await repo.insert(conn, message)
    else:
        await repo.insert_unless_repeated(conn, message, window_s=window_s)


@immutable
class InboundCall:
    """A CALL as received: what makes a repeat of it identical."""

    charger_id: str
    unique_id: str
    action: str
    payload: str
    received_at: datetime


async def stored_replies(
    conn: AsyncConnection, calls: Sequence[InboundCall], *, window_s: int
) -> list[str | None]:
    """For each call, the reply given to an identical CALL (same charger, message id,
    action and payload) within the window before it, or None; one query for all.

    Message ids are only unique per connection, and many chargers restart their
    counters after a reboot, so the payload must match too, and only recent
    messages count.
    """
    if window_s <= 0:
        return [None] * len(calls)
    return await repo.replies_to_repeats(
        conn,
        [
            (call.charger_id, call.unique_id, call.action, call.payload, call.received_at)
            for call in calls
        ],
        window=timedelta(seconds=window_s),
    )
