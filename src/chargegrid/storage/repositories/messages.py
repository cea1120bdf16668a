"""The OCPP message log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, String, bindparam, func, literal_column, select, true, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Direction, MessageRecord
from chargegrid.storage.direct import DirectStatement, padded
from chargegrid.storage.group_scope import BlindWrite, Guard, write_later
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import message_log

# Every CALL of every charger runs these two: built once, run on the driver.
_INSERT = BlindWrite.insert(message_log)
_ANSWERED_CALLS: dict[int, DirectStatement] = {}  # SQLite's, by the number of calls looked up

# A CALL as received, what makes a repeat of it identical: (charger id, message id,
# action, payload, when it was received).
ReceivedCall = tuple[str, str, str | None, str, datetime]


async def insert(conn: AsyncConnection, record: MessageRecord) -> None:
    """Insert the record (at the end of the group scope, if any)."""
    await write_later(conn, _INSERT, _values(record))


async def insert_unless_repeated(
    conn: AsyncConnection, record: MessageRecord, *, window_s: int
) -> None:
    """Insert an answered inbound CALL (at the end of the group scope, if any) unless it
    repeats one answered at most ``window_s`` seconds before it (the same charger,
    message id, action and payload): then nothing that the scope kept is written, and
    ``GuardRefused`` is raised."""
    await write_later(conn, _answered_insert(window_s), _values(record))


@cache
def _answered_insert(window_s: int) -> BlindWrite:
    window = timedelta(seconds=window_s)

    def refused(rows: Select[Any]) -> Select[Any]:
        # A lateral subquery with a LIMIT is never turned into a join: each row looks up
        # its own pair in the index, however many rows the planner expects.
        given = rows.subquery("given")
        found = (
            select(literal_column("1"))
            .select_from(message_log)
            .where(
                (message_log.c.charger_id == given.c.charger_id)
                & (message_log.c.unique_id == given.c.unique_id)
                & (message_log.c.action == given.c.action)
                & (message_log.c.payload == given.c.payload)
                & (message_log.c.direction == Direction.INBOUND.value)
                & message_log.c.response.is_not(None)
                & (
                    message_log.c.received_at
                    >= given.c.received_at - literal_column(f"interval '{window_s} seconds'")
                )
            )
            .limit(1)
            .lateral("found")
        )
        return select(given.c.unique_id).select_from(given.join(found, true()))

    async def count(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> int:
        calls = [
            (row["charger_id"], row["unique_id"], row["action"], row["payload"], row["received_at"])
            for row in rows
        ]
        replies = await replies_to_repeats(conn, calls, window=window)
        return sum(reply is not None for reply in replies)

    return BlindWrite.insert(message_log, name="message_log_answered", guard=Guard(refused, count))


def _values(record: MessageRecord) -> dict[str, Any]:
    return {
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
    }


async def replies_to_repeats(
    conn: AsyncConnection, calls: Sequence[ReceivedCall], *, window: timedelta
) -> list[str | None]:
    """For each call, the reply given to an identical CALL (the same charger, message id,
    action and payload) received at most ``window`` before it, or None; one query for all."""
    if not calls:
        return []
    found = await find_answered_calls(
        conn,
        [(charger_id, unique_id) for charger_id, unique_id, *_ in calls],
        since=min(received_at for *_, received_at in calls) - window,
    )
    answered: dict[tuple[str, str, str | None, str], list[MessageRecord]] = {}
    for record in found:
        key = (record.charger_id, record.unique_id, record.action, record.payload)
        answered.setdefault(key, []).append(record)
    return [
        next(
            (
                record.response
                for record in answered.get(call[:4], ())
                if record.received_at >= call[4] - window
            ),
            None,
        )
        for call in calls
    ]


async def find_answered_calls(
    conn: AsyncConnection, calls: Sequence[tuple[str, str]], *, since: datetime
) -> list[MessageRecord]:
    """Inbound CALLs answered with a CALLRESULT since ``since`` whose (charger id, message
    id) is one of ``calls``, in one round trip."""
    if not calls:
        return []
    if conn.dialect.name == "postgresql":
        pairs = dict.fromkeys(calls)  # each row once, as a list of pairs finds it
        statement = _ANSWERED_CALLS_JOINED
        values: dict[str, Any] = {
            "charger_ids": [charger_id for charger_id, _ in pairs],
            "unique_ids": [unique_id for _, unique_id in pairs],
            "since": since,
        }
    else:
        lookup = padded(calls)
        statement = _answered_calls(len(lookup))
        values = {"since": since}
        for i, (charger_id, unique_id) in enumerate(lookup):
            values[f"charger_id_{i}"] = charger_id
            values[f"unique_id_{i}"] = unique_id
    return [_record(row) for row in await statement.rows(conn, values)]


_ANSWERED = (
    (message_log.c.direction == Direction.INBOUND.value)
    & (message_log.c.received_at >= bindparam("since"))
    & message_log.c.response.is_not(None)
)


def _answered_calls(count: int) -> DirectStatement:
    """The lookup of ``count`` calls as a list of pairs (SQLite's)."""
    statement = _ANSWERED_CALLS.get(count)
    if statement is None:
        keys = [
            tuple_(bindparam(f"charger_id_{i}"), bindparam(f"unique_id_{i}")) for i in range(count)
        ]
        statement = _ANSWERED_CALLS[count] = DirectStatement(
            select(message_log).where(
                tuple_(message_log.c.charger_id, message_log.c.unique_id).in_(keys) & _ANSWERED
            )
        )
    return statement


def _answered_calls_joined() -> DirectStatement:
    """The lookup of any number of calls as two arrays joined to the log (PostgreSQL's).

    PostgreSQL plans a statement with a list of pairs again each time it runs: for a
    commit group's lookup that took several times as long as running it. The same
    lookup as a join to the arrays' rows is one statement for every count, planned in
    a fraction of the time, and its rows are found by the same index.
    """
    keys = select(
        func.unnest(bindparam("charger_ids", type_=ARRAY(String, dimensions=1))).label(
            "charger_id"
        ),
        func.unnest(bindparam("unique_ids", type_=ARRAY(String, dimensions=1))).label("unique_id"),
    ).subquery("calls")
    return DirectStatement(
        select(message_log)
        .join(
            keys,
            (message_log.c.charger_id == keys.c.charger_id)
            & (message_log.c.unique_id == keys.c.unique_id),
        )
        .where(_ANSWERED)
    )


_ANSWERED_CALLS_JOINED = _answered_calls_joined()


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
