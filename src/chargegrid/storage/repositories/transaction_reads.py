"""A transaction with its decisive events: read alone, or read ahead for many messages.

Nearly every transaction message (every meter reading) starts by reading its transaction
with the events its state depends on. The messages of a commit group come from different
chargers, so their transactions are all different and can be read in one statement
before any of them is handled: ``reading_ahead`` does that, and
``get_with_decisive_events`` then takes each transaction from what was read (once: a
second read of the same transaction goes to the database again).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Transaction
from chargegrid.domain.transaction_state import EventFacts
from chargegrid.storage.direct import DirectStatement, padded
from chargegrid.storage.repositories import transactions as repo
from chargegrid.storage.tables import transaction_events, transactions

Key = tuple[str, str]  # charger id, transaction id
Found = tuple[Transaction, list[EventFacts]]

MAX_READ_AHEAD = 64  # transactions read in one statement
_READ_AHEAD = "chargegrid.transactions_read_ahead"  # in the connection's info


@cache
def _statement(count: int) -> DirectStatement:
    """Transactions with their decisive events, one row per event (the transaction alone
    when it has none), for ``count`` keys: the transaction's columns, then the event's."""
    keys = [
        tuple_(bindparam(f"charger_id_{i}"), bindparam(f"transaction_id_{i}")) for i in range(count)
    ]
    return DirectStatement(
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
        .order_by(transactions.c.id, transaction_events.c.id)
    )


# A read-ahead returns a row per decisive event of every transaction of a commit group:
# they are built by position, each field taken from its column's place in the row.
_TRANSACTION_AT = {column.name: i for i, column in enumerate(transactions.c)}
_EVENT_AT = {column.name: len(transactions.c) + i for i, column in enumerate(transaction_events.c)}
_transaction_values = itemgetter(*(_TRANSACTION_AT[name] for name in repo.TRANSACTION_COLUMNS))
_event_values = itemgetter(*(_EVENT_AT[name] for name in repo.EVENT_COLUMNS))
_CHARGER_ID, _TRANSACTION_ID = _TRANSACTION_AT["charger_id"], _TRANSACTION_AT["transaction_id"]
_EVENT_ID = _EVENT_AT["id"]


async def _read(conn: AsyncConnection, keys: list[Key]) -> dict[Key, Found]:
    """The transactions of ``keys`` (at most ``MAX_READ_AHEAD``) that exist."""
    lookup = padded(keys)
    values: dict[str, Any] = {}
    for i, (charger_id, transaction_id) in enumerate(lookup):
        values[f"charger_id_{i}"] = charger_id
        values[f"transaction_id_{i}"] = transaction_id
    found: dict[Key, Found] = {}
    for record in await _statement(len(lookup)).records(conn, values):
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
    ahead: dict[Key, Found | None] | None = conn.info.get(_READ_AHEAD)
    if ahead is not None and key in ahead:
        return ahead.pop(key)
    return (await _read(conn, [key])).get(key)


@asynccontextmanager
async def reading_ahead(conn: AsyncConnection, keys: Collection[Key]) -> AsyncIterator[None]:
    """Within the block, ``get_with_decisive_events`` finds the transactions of ``keys``
    read already, all in one statement per ``MAX_READ_AHEAD`` of them. The block must not
    write to those transactions before reading them (the reads would be stale)."""
    unique = list(dict.fromkeys(keys))
    ahead: dict[Key, Found | None] = {}
    for start in range(0, len(unique), MAX_READ_AHEAD):
        chunk = unique[start : start + MAX_READ_AHEAD]
        found = await _read(conn, chunk)
        ahead.update((key, found.get(key)) for key in chunk)
    conn.info[_READ_AHEAD] = ahead
    try:
        yield
    finally:
        del conn.info[_READ_AHEAD]
