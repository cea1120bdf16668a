"""Transactions, the events they are derived from, and their meter samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import (
    MeterSample,
    Transaction,
    TransactionEventKind,
    TransactionStatus,
)
from chargegrid.domain.transaction_state import EventFacts
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.group_scope import BlindWrite
from chargegrid.storage.prebuilt import check_columns
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import (
    ACTIVE_TRANSACTION,
    meter_samples,
    transaction_events,
    transactions,
)
from chargegrid.storage.upsert import insert_ignoring_conflict
from chargegrid.values import immutable

# Built once and run on the driver: every transaction message runs some of these. Each
# is executed with a params dict.
_INSERT = DirectStatement(transactions.insert().returning(*transactions.c))
# SET: the params
_UPDATE = DirectStatement(update(transactions).where(transactions.c.id == bindparam("pk")))
_SELECT_BY_PK = select(transactions).where(transactions.c.id == bindparam("pk")).limit(1)
_BY_PK = DirectStatement(_SELECT_BY_PK)
_BY_CHARGER_ID = DirectStatement(
    select(transactions)
    .where(
        (transactions.c.charger_id == bindparam("charger_id"))
        & (transactions.c.transaction_id == bindparam("transaction_id"))
    )
    .limit(1)
)
_ACTIVE_ON_EVSE_EXCEPT = DirectStatement(
    select(transactions).where(
        (transactions.c.charger_id == bindparam("charger_id"))
        & (transactions.c.evse_id == bindparam("evse_id"))
        & ACTIVE_TRANSACTION
        & (transactions.c.id != bindparam("pk"))
    )
)
_DECISIVE_EVENTS = DirectStatement(
    select(transaction_events)
    .where(
        (transaction_events.c.transaction_pk == bindparam("transaction_pk"))
        & transaction_events.c.decisive.is_(True)
    )
    .order_by(transaction_events.c.id)
)
SAMPLES = BlindWrite.insert(meter_samples)

# Events no longer decisive, by ``event_id``.
OUTDATED = BlindWrite.update(
    "events_outdated",
    transaction_events,
    key=("id", "event_id"),
    constants={"decisive": False},
)


# A start's EVSE: the transactions open on it, and any that started at the same time.
_ON_EVSE = (transactions.c.charger_id == bindparam("charger_id")) & (
    transactions.c.evse_id == bindparam("evse_id")
)
# Two parts, each an index's: with the two conditions in one, a plan made before the
# table had statistics read the EVSE's whole history.
_ON_EVSE_OPEN_OR_STARTED_AT = DirectStatement(
    union_all(
        select(transactions).where(_ON_EVSE & ACTIVE_TRANSACTION),
        select(transactions).where(
            _ON_EVSE & ~ACTIVE_TRANSACTION & (transactions.c.started_at == bindparam("started_at"))
        ),
    )
)


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> Transaction:
    """Insert a transaction; it as stored."""
    check_columns(transactions, values)
    rows = await _INSERT.rows(conn, values)
    return transaction_of(rows[0])


async def update_fields(conn: AsyncConnection, pk: int, **values: Any) -> None:
    check_columns(transactions, values)
    await _UPDATE.execute(conn, {**values, "pk": pk})


async def insert_named(conn: AsyncConnection, values: dict[str, Any]) -> int | None:
    """Insert a transaction under its charger's id; None if that id is already taken."""
    return await insert_ignoring_conflict(
        conn, transactions, values, key=("charger_id", "transaction_id")
    )


async def get(conn: AsyncConnection, pk: int) -> Transaction | None:
    return await _first(conn, _BY_PK, {"pk": pk})


async def get_by_charger_id(
    conn: AsyncConnection, charger_id: str, transaction_id: str
) -> Transaction | None:
    return await _first(
        conn, _BY_CHARGER_ID, {"charger_id": charger_id, "transaction_id": transaction_id}
    )


async def on_evse_open_or_started_at(
    conn: AsyncConnection, charger_id: str, evse_id: int, started_at: datetime
) -> list[Transaction]:
    """The charger's transactions on the EVSE that are open or started at ``started_at``:
    what a new start there is compared with (a repeat of it; those it may supersede)."""
    rows = await _ON_EVSE_OPEN_OR_STARTED_AT.rows(
        conn, {"charger_id": charger_id, "evse_id": evse_id, "started_at": started_at}
    )
    return [transaction_of(row) for row in rows]


async def active_on_evse_except(
    conn: AsyncConnection, charger_id: str, evse_id: int, pk: int
) -> list[Transaction]:
    rows = await _ACTIVE_ON_EVSE_EXCEPT.rows(
        conn, {"charger_id": charger_id, "evse_id": evse_id, "pk": pk}
    )
    return [transaction_of(row) for row in rows]


async def decisive_events(conn: AsyncConnection, transaction_pk: int) -> list[EventFacts]:
    """The events of a transaction its state still depends on, in arrival order."""
    rows = await _DECISIVE_EVENTS.rows(conn, {"transaction_pk": transaction_pk})
    return [event_facts_of(row) for row in rows]


async def forget_events(conn: AsyncConnection, event_ids: Sequence[int]) -> None:
    """Mark events the state no longer depends on (they stay recorded)."""
    rows = [{"event_id": event_id} for event_id in event_ids]
    await OUTDATED.one[conn.dialect.name].execute_many(conn, rows)


async def events_page(
    conn: AsyncConnection, transaction_pk: int, *, limit: int, offset: int
) -> Page[EventFacts]:
    """A transaction's events in the charger's order: by sequence number, then arrival."""
    query = select(transaction_events).where(transaction_events.c.transaction_pk == transaction_pk)
    rows, total = await fetch_page(
        conn,
        query,
        order_by=[transaction_events.c.seq_no.asc().nulls_last(), transaction_events.c.id],
        limit=limit,
        offset=offset,
    )
    return Page([event_facts_of(row) for row in rows], total, limit, offset)


async def list_page(
    conn: AsyncConnection,
    *,
    limit: int,
    offset: int,
    charger_id: str | None = None,
    status: str | None = None,
    id_token: str | None = None,
) -> Page[Transaction]:
    query = select(transactions)
    if charger_id is not None:
        query = query.where(transactions.c.charger_id == charger_id)
    if status is not None:
        query = query.where(transactions.c.status == status)
    if id_token is not None:
        query = query.where(transactions.c.id_token == id_token)
    rows, total = await fetch_page(
        conn, query, order_by=[transactions.c.id.desc()], limit=limit, offset=offset
    )
    return Page([transaction_of(row) for row in rows], total, limit, offset)


@immutable
class MeterPoint:
    """Where samples were read: a charger's EVSE (0: its main meter) and connector."""

    charger_id: str
    evse_id: int
    connector_id: int | None


async def add_samples(
    conn: AsyncConnection,
    point: MeterPoint,
    transaction_pk: int | None,
    samples: Sequence[MeterSample],
) -> None:
    await SAMPLES.one[conn.dialect.name].execute_many(
        conn, sample_rows(point, transaction_pk, samples)
    )


def sample_rows(
    point: MeterPoint, transaction_pk: int | None, samples: Sequence[MeterSample]
) -> list[dict[str, Any]]:
    """The ``meter_samples`` rows of ``samples`` taken at ``point``."""
    return [
        {
            "charger_id": point.charger_id,
            "transaction_pk": transaction_pk,
            "evse_id": point.evse_id,
            "connector_id": point.connector_id,
            "sampled_at": sample.sampled_at,
            "measurand": sample.measurand,
            "phase": sample.phase,
            "unit": sample.unit,
            "context": sample.context,
            "location": sample.location,
            "value": sample.value,
            "signed_data": sample.signed_data,
        }
        for sample in samples
    ]


async def _first(
    conn: AsyncConnection, query: DirectStatement, params: dict[str, Any]
) -> Transaction | None:
    row = await query.first(conn, params)
    return None if row is None else transaction_of(row)


def event_values(facts: EventFacts) -> dict[str, Any]:
    """The columns of an event row (``facts.arrival`` is not stored: the row id is the
    arrival order)."""
    return {
        "seq_no": facts.seq_no,
        "event_type": facts.kind.value,
        "occurred_at": facts.occurred_at,
        "trigger_reason": facts.trigger_reason,
        "charging_state": facts.charging_state,
        "stopped_reason": facts.stopped_reason,
        "id_token": facts.id_token,
        "id_token_type": facts.id_token_type,
        "authorization_status": facts.authorization_status,
        "evse_id": facts.evse_id,
        "connector_id": facts.connector_id,
        "meter_start_wh": facts.meter_start_wh,
        "meter_stop_wh": facts.meter_stop_wh,
        "energy_first_at": facts.energy_first_at,
        "energy_first_wh": facts.energy_first_wh,
        "energy_last_at": facts.energy_last_at,
        "energy_last_wh": facts.energy_last_wh,
        "offline": facts.offline,
        "number_of_phases": facts.number_of_phases,
        "cable_max_current": facts.cable_max_current,
        "reservation_id": facts.reservation_id,
        "remote_start_id": facts.remote_start_id,
        "time_spent_charging_s": facts.time_spent_charging_s,
        "received_at": facts.received_at,
    }


# Each field of a transaction and of an event's facts comes from the row's column of
# the same name, but for these; ``*_COLUMNS`` list the columns in the fields' order.
_EVENT_COLUMN_OF = {"kind": "event_type", "arrival": "id"}
TRANSACTION_COLUMNS = tuple(f.name for f in fields(Transaction))
EVENT_COLUMNS = tuple(_EVENT_COLUMN_OF.get(f.name, f.name) for f in fields(EventFacts))
_STATUS, _OFFLINE = TRANSACTION_COLUMNS.index("status"), TRANSACTION_COLUMNS.index("offline")
_KIND, _EVENT_OFFLINE = EVENT_COLUMNS.index("event_type"), EVENT_COLUMNS.index("offline")


def event_facts_from(values: list[Any]) -> EventFacts:
    """An event row's values, in ``EVENT_COLUMNS`` order, as the facts a transaction's
    state is derived from (``values`` is used up)."""
    values[_KIND] = TransactionEventKind(values[_KIND])
    values[_EVENT_OFFLINE] = bool(values[_EVENT_OFFLINE])
    return EventFacts(*values)


def event_facts_of(row: Mapping[Any, Any]) -> EventFacts:
    """An event row as the facts a transaction's state is derived from."""
    return event_facts_from([row[column] for column in EVENT_COLUMNS])


def transaction_from(values: list[Any]) -> Transaction:
    """A transaction row's values, in ``TRANSACTION_COLUMNS`` order, as the domain's
    ``Transaction`` (``values`` is used up)."""
    values[_STATUS] = TransactionStatus(values[_STATUS])
    values[_OFFLINE] = bool(values[_OFFLINE])
    return Transaction(*values)


def transaction_of(row: Mapping[Any, Any]) -> Transaction:
    """A transaction row as the domain's ``Transaction``."""
    return transaction_from([row[column] for column in TRANSACTION_COLUMNS])
