"""The OCPP message log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Direction, MessageRecord
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import message_log

# Every CALL of every charger runs these two: built once, run on the driver.
_INSERT = DirectStatement(message_log.insert())
_ANSWERED_CALLS = DirectStatement(
    select(message_log).where(
        (message_log.c.charger_id == bindparam("charger_id"))
        & (message_log.c.unique_id == bindparam("unique_id"))
        & (message_log.c.direction == Direction.INBOUND.value)
        & (message_log.c.action == bindparam("action"))
        & (message_log.c.received_at >= bindparam("since"))
        & message_log.c.response.is_not(None)
    )
)


async def insert(conn: AsyncConnection, record: MessageRecord) -> None:
    await _INSERT.execute(
        conn,
        {
            "charger_id": record.charger_id,
            "direction": record.direction.value,
            "unique_id": record.unique_id,
            "action": record.action,
            "payload": record.payload,
            "response": record.response,
            "error_code": record.error_code,
            "error_description": record.error_description,
            "received_at": record.received_at,
            "answered_at": record.answered_at,
            "latency_ms": record.latency_ms,
        },
    )


async def find_answered_call(
    conn: AsyncConnection,
    *,
    charger_id: str,
    unique_id: str,
    action: str,
    payload: str,
    since: datetime,
) -> MessageRecord | None:
    """An inbound CALL identical to this one, answered with a CALLRESULT since ``since``."""
    rows = await _ANSWERED_CALLS.rows(
        conn,
        {"charger_id": charger_id, "unique_id": unique_id, "action": action, "since": since},
    )
    for row in rows:
        if row["payload"] == payload:
            return _record(row)
    return None


async def list_page(
    conn: AsyncConnection,
    charger_id: str,
    *,
    limit: int,
    offset: int,
    action: str | None = None,
    direction: Direction | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[MessageRecord]:
    """A charger's messages, newest first; ``since`` inclusive, ``until`` exclusive."""
    query = select(message_log).where(message_log.c.charger_id == charger_id)
    if action is not None:
        query = query.where(message_log.c.action == action)
    if direction is not None:
        query = query.where(message_log.c.direction == direction.value)
    if since is not None:
        query = query.where(message_log.c.received_at >= since)
    if until is not None:
        query = query.where(message_log.c.received_at < until)
    rows, total = await fetch_page(
        conn,
        query,
        order_by=[message_log.c.received_at.desc(), message_log.c.id.desc()],
        limit=limit,
        offset=offset,
    )
    return Page([_record(row) for row in rows], total, limit, offset)


def _record(row: Mapping[Any, Any]) -> MessageRecord:
    return MessageRecord(
        charger_id=row["charger_id"],
        direction=Direction(row["direction"]),
        unique_id=row["unique_id"],
        action=row["action"],
        payload=row["payload"],
        received_at=row["received_at"],
        response=row["response"],
        error_code=row["error_code"],
        error_description=row["error_description"],
        answered_at=row["answered_at"],
        latency_ms=row["latency_ms"],
    )
