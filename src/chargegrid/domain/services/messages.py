"""The OCPP message log, and answers to repeated CALLs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import MessageRecord
from chargegrid.storage.repositories import messages as repo


async def record(conn: AsyncConnection, message: MessageRecord) -> None:
    await repo.insert(conn, message)


async def stored_reply(
    conn: AsyncConnection,
    *,
    charger_id: str,
    unique_id: str,
    action: str,
    payload: str,
    now: datetime,
    window_s: int,
) -> str | None:
    """The reply given to an identical CALL (same id, action and payload) in the window.

    Message ids are only unique per connection, and many chargers restart their
    counters after a reboot, so the payload must match too, and only recent
    messages count.
    """
    if window_s <= 0:
        return None
    found = await repo.find_answered_call(
        conn,
        charger_id=charger_id,
        unique_id=unique_id,
        action=action,
        payload=payload,
        since=now - timedelta(seconds=window_s),
    )
    return None if found is None else found.response
