"""What a commit group reads ahead: its transactions and its id tokens, in one statement.

Two reads start most charger messages: a transaction with its decisive events (every
meter reading, every end) and an id token with whether an active transaction holds it
(every Authorize, start and end). The messages of a commit group come from different
chargers, so their transactions are all different, and ``reading_ahead`` reads them all
before any is handled, with the tokens, in one round trip: the two reads' rows in one
UNION, each padded with NULLs where the other's columns are. The readers
(``transaction_reads.get_with_decisive_events``, ``id_tokens.get_with_use``) then take
what was read from memory, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from functools import cache
from itertools import zip_longest
from typing import Any

from sqlalchemy import Select, cast, literal_column, null, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from chargegrid.storage.direct import DirectStatement, padded
from chargegrid.storage.repositories import id_tokens, transaction_reads
from chargegrid.storage.repositories.id_tokens import Held
from chargegrid.storage.repositories.transaction_reads import Found, Key

MAX_READ_AHEAD = 64  # transactions, and tokens, read in one statement


@asynccontextmanager
async def reading_ahead(
    conn: AsyncConnection, keys: Collection[Key], tokens: Collection[str] = ()
) -> AsyncIterator[None]:
    """Within the block, the transactions of ``keys`` (charger id, transaction id) and
    the id ``tokens`` are taken from what was read, all in one statement per
    ``MAX_READ_AHEAD`` of each. The block must not write to them before reading them
    (the reads would be stale)."""
    unique_keys, unique_tokens = list(dict.fromkeys(keys)), list(dict.fromkeys(tokens))
    found: dict[Key, Found | None] = {}
    held: dict[str, Held | None] = {}
    chunks: zip_longest[tuple[list[Any], list[Any]]] = zip_longest(
        _chunks(unique_keys), _chunks(unique_tokens), fillvalue=[]
    )
    for some_keys, some_tokens in chunks:
        found_now, held_now = await _read(conn, some_keys, some_tokens)
        found.update((key, found_now.get(key)) for key in some_keys)
        held.update((token, held_now.get(token)) for token in some_tokens)
    with (
        transaction_reads.read_already(conn, found),
        id_tokens.read_already(conn, held),
    ):
        yield


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[start : start + MAX_READ_AHEAD] for start in range(0, len(items), MAX_READ_AHEAD)]


async def _read(
    conn: AsyncConnection, keys: Sequence[Key], tokens: Sequence[str]
) -> tuple[dict[Key, Found], dict[str, Held]]:
    if not keys and not tokens:
        return {}, {}
    keys, tokens = padded(keys) if keys else [], padded(tokens) if tokens else []
    values = {**transaction_reads.parameters(keys), **id_tokens.parameters(tokens)}
    records = await _statement(len(keys), len(tokens)).records(conn, values)
    return (
        transaction_reads.found_from(records) if keys else {},
        id_tokens.held_from(records, at=transaction_reads.WIDTH) if tokens else {},
    )


@cache
def _statement(keys: int, tokens: int) -> DirectStatement:
    """The transactions of ``keys`` keys and the tokens of ``tokens`` (either may be 0):
    rows of ``transaction_reads.reading`` (in ``transaction_reads.ORDER``) and of
    ``id_tokens.reading``, each with the other's columns NULL when there are both."""
    if not keys:
        return DirectStatement(_padded(id_tokens.reading(tokens), at=transaction_reads.WIDTH))
    if not tokens:  # the most common: no padding to process in every row
        return DirectStatement(transaction_reads.reading(keys).order_by(*transaction_reads.ORDER))
    transactions = _padded(transaction_reads.reading(keys), at=0)
    both = union_all(transactions, _padded(id_tokens.reading(tokens), at=transaction_reads.WIDTH))
    # A UNION is ordered by the names of its columns (those of its first part).
    return DirectStatement(
        both.order_by(*(literal_column(name) for name in transaction_reads.ORDER_NAMES))
    )


def _padded(reading: Select[Any], *, at: int) -> Select[Any]:
    """``reading``'s columns at ``at`` in a row of both readings, the rest NULL, typed as
    the other reading's columns in their places (a UNION's columns must agree)."""
    types = _column_types()
    columns = list(reading.selected_columns)
    after = at + len(columns)

    def pad(i: int) -> ColumnElement[Any]:
        return cast(null(), types[i]).label(f"pad_{i}")

    return reading.with_only_columns(
        *(pad(i) for i in range(at)), *columns, *(pad(i) for i in range(after, len(types)))
    )


@cache
def _column_types() -> list[Any]:
    """The type of each column of a row of the two readings side by side."""
    return [
        column.type
        for reading in (transaction_reads.reading(1), id_tokens.reading(1))
        for column in reading.selected_columns
    ]
