"""Recording a transaction event: the event, the events it outdates, and its meter samples.

Most charger messages about a transaction (every meter reading) write exactly these
three things. On PostgreSQL they go in one statement, a round trip instead of three
(data-modifying CTEs); SQLite, in the process, runs them one after another, and so does
PostgreSQL for an event with more samples than a statement is built for.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import BigInteger, bindparam, exists, false, select, union_all, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import MeterSample
from chargegrid.domain.transaction_state import EventFacts
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.repositories import transactions as repo
from chargegrid.storage.tables import meter_samples, transaction_events
from chargegrid.storage.upsert import insert_ignoring_conflict

# Columns of a sample row that differ from sample to sample; the others are the event's.
_PER_SAMPLE = (
    "sampled_at",
    "measurand",
    "phase",
    "unit",
    "context",
    "location",
    "value",
    "signed_data",
)
_PER_EVENT = ("charger_id", "evse_id", "connector_id")
# Up to these counts an event is recorded in one statement (one built for each count).
_MAX_SAMPLES = 32
_MAX_OUTDATED = 4


@cache
def _statement(samples: int, outdated: int) -> DirectStatement:
    """The one statement for an event with this many samples and outdated events.

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


async def record_event(
    conn: AsyncConnection,
    transaction_pk: int,
    facts: EventFacts,
    *,
    decisive: bool,
    outdated: Sequence[int],
    point: repo.MeterPoint,
    samples: Sequence[MeterSample],
) -> int | None:
    """Record an event of a transaction with its samples, and mark the ``outdated`` events
    no longer decisive; the event's id (its arrival order), or None when its sequence
    number is already recorded (a repeat: then nothing is written)."""
    values = repo.event_values(facts)
    values["transaction_pk"] = transaction_pk
    values["decisive"] = decisive
    if (
        conn.dialect.name != "postgresql"
        or len(samples) > _MAX_SAMPLES
        or len(outdated) > _MAX_OUTDATED
    ):
        arrival = await insert_ignoring_conflict(
            conn, transaction_events, values, key=("transaction_pk", "seq_no")
        )
        if arrival is not None:
            await repo.forget_events(conn, outdated)
            await repo.add_samples(conn, point, transaction_pk, samples)
        return arrival
    for i, event_id in enumerate(outdated):
        values[f"outdated_{i}"] = event_id
    for name in _PER_EVENT:
        values[f"sample_{name}"] = getattr(point, name)
    for i, sample in enumerate(samples):
        for name in _PER_SAMPLE:
            values[f"sample_{i}_{name}"] = getattr(sample, name)
    found = await _statement(len(samples), len(outdated)).first(conn, values)
    return None if found is None else int(found["id"])
