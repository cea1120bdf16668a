"""Recording a transaction event: the event, the events it outdates, its meter samples,
and the transaction's new state when the event changes it.

Most charger messages about a transaction (every meter reading) write exactly the first
three things, a start or an end the fourth too. On PostgreSQL they go in one statement,
a round trip instead of three or four (data-modifying CTEs); SQLite, in the process,
runs them one after another, and so does PostgreSQL for an event with more samples than
a statement is built for.

An event that cannot be a repeat (it has no sequence number) and that nothing reads back
before the end of a commit group can be left to that end (``record_event_later`` in a
``group_scope``), with the other blind writes of the group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, bindparam, exists, false, select, union_all, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import MeterSample
from chargegrid.domain.transaction_state import EventFacts
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.group_scope import BlindWrite, write_later
from chargegrid.storage.repositories import transactions as repo
from chargegrid.storage.tables import meter_samples, transaction_events, transactions
from chargegrid.storage.upsert import insert_ignoring_conflict
from chargegrid.values import immutable

# Columns of a sample row that the event's samples share; the others (but the ids)
# differ from sample to sample.
_PER_EVENT = ("charger_id", "evse_id", "connector_id")
_PER_SAMPLE = tuple(
    column.name
    for column in meter_samples.c
    if column.name not in {"id", "transaction_pk", *_PER_EVENT}
)
# Up to these counts an event is recorded in one statement (one built for each count).
_MAX_SAMPLES = 32
_MAX_OUTDATED = 4
_EVENT = BlindWrite.insert(transaction_events)  # an event without a sequence number


@cache
def _statement(samples: int, outdated: int, state: tuple[str, ...]) -> DirectStatement:
    """The one statement for an event with this many samples and outdated events, and
    the transaction's ``state`` columns to set (none: it keeps its state).

    Every row and id is a parameter of its own (not an array): PostgreSQL then plans
    the statement once for all its executions, where for arrays of unknown length it
    would plan every execution again.
    """
    event = (
        postgresql.insert(transaction_events)
        .values({c.name: bindparam(c.name, type_=c.type) for c in transaction_events.c[1:]})
        .on_conflict_do_nothing(index_elements=["transaction_pk", "seq_no"])
        .returning(transaction_events.c.id)
        .cte("event")
    )
    recorded = exists(select(event.c.id))  # nothing else is written for a repeat
    statement = select(event.c.id)
    if outdated:
        ids = [bindparam(f"outdated_{i}", type_=BigInteger) for i in range(outdated)]
        statement = statement.add_cte(
            update(transaction_events)
            .where(transaction_events.c.id.in_(ids) & recorded)
            .values(decisive=false())
            .cte("outdated")
        )
    if state:
        statement = statement.add_cte(
            update(transactions)
            .where((transactions.c.id == bindparam("transaction_pk")) & recorded)
            .values(
                {
                    name: bindparam(f"state_{name}", type_=transactions.c[name].type)
                    for name in state
                }
            )
            .cte("state")
        )
    if samples:
        shared = [
            bindparam(f"sample_{name}", type_=meter_samples.c[name].type) for name in _PER_EVENT
        ]
        rows = [
            select(
                *shared,
                bindparam("transaction_pk", type_=BigInteger),
                *(
                    bindparam(f"sample_{i}_{name}", type_=meter_samples.c[name].type)
                    for name in _PER_SAMPLE
                ),
            ).where(recorded)
            for i in range(samples)
        ]
        statement = statement.add_cte(
            postgresql.insert(meter_samples)
            .from_select([*_PER_EVENT, "transaction_pk", *_PER_SAMPLE], union_all(*rows))
            .cte("samples")
        )
    return DirectStatement(statement)


@immutable
class EventRecording:
    """What recording one event of a transaction writes: the event (``decisive`` or
    not), its samples at ``point``, and the ``outdated`` events (ids) it makes no longer
    decisive."""

    transaction_pk: int
    facts: EventFacts
    decisive: bool
    outdated: Sequence[int]
    point: repo.MeterPoint
    samples: Sequence[MeterSample]


async def record_event(
    conn: AsyncConnection, recording: EventRecording, state: Mapping[str, Any] | None = None
) -> int | None:
    """Record an event, and set the transaction's columns ``state`` with it; its id (its
    arrival order), or None when its sequence number is already recorded (a repeat: then
    nothing is written)."""
    state = state or {}
    values = _event_values(recording)
    if not _in_one_statement(conn, recording):
        arrival = await insert_ignoring_conflict(
            conn, transaction_events, values, key=("transaction_pk", "seq_no")
        )
        if arrival is not None:
            await repo.forget_events(conn, recording.outdated)
            await repo.add_samples(
                conn, recording.point, recording.transaction_pk, recording.samples
            )
            if state:
                await repo.update_fields(conn, recording.transaction_pk, **state)
        return arrival
    statement = _statement(len(recording.samples), len(recording.outdated), tuple(state))
    values = _with_statement_values(values, recording)
    for name, value in state.items():
        values[f"state_{name}"] = value
    found = await statement.first(conn, values)
    return None if found is None else int(found["id"])


async def record_event_later(conn: AsyncConnection, recording: EventRecording) -> None:
    """``record_event`` for an event without a sequence number (never a repeat), left to
    the end of the group scope it runs in, if any: nothing may read it back before then."""
    if recording.facts.seq_no is not None:
        raise ValueError("an event with a sequence number may be a repeat: record it now")
    await write_later(conn, _EVENT, _event_values(recording))
    for row in repo.sample_rows(recording.point, recording.transaction_pk, recording.samples):
        await write_later(conn, repo.SAMPLES, row)
    for event_id in recording.outdated:
        await write_later(conn, repo.OUTDATED, {"event_id": event_id})


def _in_one_statement(conn: AsyncConnection, recording: EventRecording) -> bool:
    return (
        conn.dialect.name == "postgresql"
        and len(recording.samples) <= _MAX_SAMPLES
        and len(recording.outdated) <= _MAX_OUTDATED
    )


def _event_values(recording: EventRecording) -> dict[str, Any]:
    values = repo.event_values(recording.facts)
    values["transaction_pk"] = recording.transaction_pk
    values["decisive"] = recording.decisive
    return values


def _with_statement_values(values: dict[str, Any], recording: EventRecording) -> dict[str, Any]:
    """``values`` with the parameters the one statement takes besides the event's columns."""
    for i, event_id in enumerate(recording.outdated):
        values[f"outdated_{i}"] = event_id
    for name in _PER_EVENT:
        values[f"sample_{name}"] = getattr(recording.point, name)
    rows = repo.sample_rows(recording.point, recording.transaction_pk, recording.samples)
    for i, row in enumerate(rows):
        for name in _PER_SAMPLE:
            values[f"sample_{i}_{name}"] = row[name]
    return values
