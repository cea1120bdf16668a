"""A transaction with its decisive events: read alone, or read ahead for many messages.

Nearly every transaction message (every meter reading) starts by reading its transaction
with the events its state depends on. The messages of a commit group come from different
chargers, so their transactions are all different and can be read in one statement
before any of them is handled (``group_reads`` does that, with the group's id tokens);
``get_with_decisive_events`` then takes each transaction from what was read (once: a
second read of the same transaction goes to the database again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from operator import itemgetter
from typing import Any

from sqlalchemy import Select, bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Transaction
from chargegrid.domain.transaction_state import EventFacts
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.group_scope import ReadAhead
from chargegrid.storage.repositories import transactions as repo
from chargegrid.storage.tables import transaction_events, transactions

Key = tuple[str, str]  # charger id, transaction id
Found = tuple[Transaction, list[EventFacts]]

_AHEAD: ReadAhead[Key, Found] = ReadAhead("transactions")
# What the rows of ``reading`` are ordered by (a transaction's, then its event's), and
# the names of those columns in its rows.
ORDER = (transactions.c.id, transaction_events.c.id)
ORDER_NAMES = ("id", "event_id")


def reading(count: int) -> Select[Any]:
    """Transactions with their decisive events, one row per event (the transaction alone
    when it has none), for ``count`` keys (parameters ``charger_id_{i}`` and
    ``transaction_id_{i}``): the transaction's columns, then the event's. Not ordered:
    ``found_from`` needs the rows in ``ORDER``."""
    keys = [
        tuple_(bindparam(f"charger_id_{i}"), bindparam(f"transaction_id_{i}")) for i in range(count)
    ]
    return (
        select(
            transactions,
            *(column.label(f"event_{column.name}") for column in transaction_events.c),
        )
        .select_from(
            transactions.outerjoin(
                transaction_events,
                (transaction_events.c.transaction_pk == transactions.c.id)
                & transaction_events.c.decisive.is_(True),
            )
        )
        .where(tuple_(transactions.c.charger_id, transactions.c.transaction_id).in_(keys))
    )


_ONE = DirectStatement(reading(1).order_by(*ORDER))


# A read-ahead returns a row per decisive event of every transaction of a commit group:
# they are built by position, each field taken from its column's place in the row.
_TRANSACTION_AT = {column.name: i for i, column in enumerate(transactions.c)}
_EVENT_AT = {column.name: len(transactions.c) + i for i, column in enumerate(transaction_events.c)}
_transaction_values = itemgetter(*(_TRANSACTION_AT[name] for name in repo.TRANSACTION_COLUMNS))
_event_values = itemgetter(*(_EVENT_AT[name] for name in repo.EVENT_COLUMNS))
_ID, _CHARGER_ID = _TRANSACTION_AT["id"], _TRANSACTION_AT["charger_id"]
_TRANSACTION_ID = _TRANSACTION_AT["transaction_id"]
_EVENT_ID = _EVENT_AT["id"]
WIDTH = len(transactions.c) + len(transaction_events.c)  # the columns of a ``reading`` row


def parameters(keys: Iterable[Key]) -> dict[str, Any]:
    """The parameters of ``reading`` that look up ``keys``."""
    values: dict[str, Any] = {}
    for i, (charger_id, transaction_id) in enumerate(keys):
        values[f"charger_id_{i}"] = charger_id
        values[f"transaction_id_{i}"] = transaction_id
    return values


def found_from(records: Iterable[Sequence[Any]]) -> dict[Key, Found]:
    """The transactions in rows of ``reading`` (in ``ORDER``; rows whose transaction id
    is None are skipped: another reading's)."""
    found: dict[Key, Found] = {}
    for record in records:
        if record[_ID] is None:
            continue
        key = (record[_CHARGER_ID], record[_TRANSACTION_ID])
        entry = found.get(key)
        if entry is None:
            entry = found[key] = (repo.transaction_from(list(_transaction_values(record))), [])
        if record[_EVENT_ID] is not None:
            entry[1].append(repo.event_facts_from(list(_event_values(record))))
    return found


async def get_with_decisive_events(
    conn: AsyncConnection, charger_id: str, transaction_id: str
) -> Found | None:
    """A transaction and its decisive events in arrival order, in one round trip (none
    when it was read ahead)."""
    key = (charger_id, transaction_id)
    read, found = _AHEAD.take(conn, key)
    if read:
        return found
    records = await _ONE.records(conn, parameters([key]))
    return found_from(records).get(key)


def read_already(
    conn: AsyncConnection, found: Mapping[Key, Found | None]
) -> AbstractContextManager[None]:
    """Within the block, ``get_with_decisive_events`` takes the transactions of ``found``
    (None: known not to exist) from it. The block must not write to those transactions
    before reading them (the reads would be stale)."""
    return _AHEAD.kept(conn, found)
