"""A charger's OCPP message log as operators watch it: the newest rows, older ones by
cursor, and the rows that arrived since they last looked.

Reads go through the (charger_id, received_at) index, never over the whole log.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Direction, MessageRecord
from chargegrid.storage.tables import message_log
from chargegrid.values import immutable

# Rows are numbered when inserted and dated when received: one written a moment after a
# later-dated row commits late. Looking back this far for unseen rows catches them.
LATE_COMMIT_MARGIN = timedelta(seconds=10)


@immutable
class LoggedMessage:
    """A logged message with its row id (the cursor of the live log)."""

    id: int
    record: MessageRecord


@immutable
class MessageFilter:
    """Which messages to show."""

    direction: Direction | None = None
    action: str | None = None


def _select(charger_id: str, filter: MessageFilter) -> Select[tuple[object, ...]]:
    query = select(message_log).where(message_log.c.charger_id == charger_id)
    if filter.direction is not None:
        query = query.where(message_log.c.direction == filter.direction.value)
    if filter.action:
        query = query.where(message_log.c.action == filter.action)
    return query


async def newest(
    conn: AsyncConnection,
    charger_id: str,
    filter: MessageFilter,
    *,
    limit: int,
    before: tuple[datetime, int] | None = None,
) -> list[LoggedMessage]:
    """The newest messages, newest first; with ``before`` (received_at, id), older ones."""
    query = _select(charger_id, filter)
    if before is not None:
        at, row_id = before
        query = query.where(
            (message_log.c.received_at < at)
            | ((message_log.c.received_at == at) & (message_log.c.id < row_id))
        )
    rows = await conn.execute(
        query.order_by(message_log.c.received_at.desc(), message_log.c.id.desc()).limit(limit)
    )
    return [_logged(row) for row in rows.mappings()]


async def since(
    conn: AsyncConnection,
    charger_id: str,
    filter: MessageFilter,
    *,
    after: datetime,
    seen: Collection[int],
    limit: int,
) -> list[LoggedMessage]:
    """The newest ``limit`` messages received from shortly before ``after`` on whose ids
    are not in ``seen``, oldest first."""
    rows = await conn.execute(
        _select(charger_id, filter)
        .where(message_log.c.received_at >= after - LATE_COMMIT_MARGIN)
        .order_by(message_log.c.received_at.desc(), message_log.c.id.desc())
        .limit(limit + len(seen))
    )
    fresh = [_logged(row) for row in rows.mappings() if row["id"] not in seen]
    return fresh[:limit][::-1]


async def actions(conn: AsyncConnection, charger_id: str, *, limit: int = 100) -> list[str]:
    """The actions of the charger's newest messages (for a filter's choices)."""
    newest_rows = (
        select(message_log.c.action)
        .where(message_log.c.charger_id == charger_id)
        .order_by(message_log.c.received_at.desc())
        .limit(1_000)
        .subquery()
    )
    rows = await conn.execute(
        select(newest_rows.c.action)
        .where(newest_rows.c.action.is_not(None))
        .distinct()
        .order_by(newest_rows.c.action)
        .limit(limit)
    )
    return [row[0] for row in rows]


def _logged(values: RowMapping) -> LoggedMessage:
    return LoggedMessage(
        id=int(values["id"]),
        record=MessageRecord(
            charger_id=values["charger_id"],
            direction=Direction(values["direction"]),
            unique_id=values["unique_id"],
            action=values["action"],
            payload=values["payload"],
            received_at=values["received_at"],
            response=values["response"],
            error_code=values["error_code"],
            error_description=values["error_description"],
            answered_at=values["answered_at"],
            latency_ms=values["latency_ms"],
        ),
    )
