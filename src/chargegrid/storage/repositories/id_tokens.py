"""Id tokens (RFID cards, app tokens) known to the platform."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import IdToken, IdTokenStatus, TransactionStatus
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.group_scope import ReadAhead
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import id_tokens, transactions
from chargegrid.values import immutable

_SELECT_BY_ID_TOKEN = select(id_tokens).where(id_tokens.c.id_token == bindparam("id_token"))
_BY_ID_TOKEN = DirectStatement(_SELECT_BY_ID_TOKEN)


def _with_use(other: ColumnElement[bool] | None) -> DirectStatement:
    """A token, and whether an active transaction holds it (of those ``other`` admits).

    The status is bound, not named literally as ``ACTIVE_TRANSACTION`` names it: a generic
    plan then cannot read every active transaction along ``ix_transactions_active``, and
    takes (id_token, status) whatever the statistics.
    """
    active = (transactions.c.id_token == bindparam("id_token")) & (
        transactions.c.status == TransactionStatus.ACTIVE.value
    )
    if other is not None:
        active = active & other
    in_use = exists().where(active).label("in_use")
    return DirectStatement(_SELECT_BY_ID_TOKEN.add_columns(in_use))


# Every Authorize, start and stop asks this, in one round trip.
_WITH_USE = _with_use(None)
_WITH_USE_ELSEWHERE = _with_use(transactions.c.id != bindparam("exclude"))


@immutable
class Held:
    """A token read ahead, with how many active transactions hold it and the lowest
    primary key of those (None when none does)."""

    token: IdToken
    holders: int
    holder: int | None

    def in_use(self, exclude: int | None) -> bool:
        """Whether an active transaction other than ``exclude`` holds it."""
        return self.holders > 1 or (self.holders == 1 and self.holder != exclude)


def reading(count: int) -> Select[Any]:
    """The tokens of ``count`` parameters ``id_token_{i}``: their columns, then
    ``holders`` and ``holder`` (as in ``Held``)."""
    held = (transactions.c.id_token == id_tokens.c.id_token) & (
        transactions.c.status == TransactionStatus.ACTIVE.value
    )
    return select(
        id_tokens,
        select(func.count())
        .select_from(transactions)
        .where(held)
        .scalar_subquery()
        .label("holders"),
        select(func.min(transactions.c.id)).where(held).scalar_subquery().label("holder"),
    ).where(id_tokens.c.id_token.in_([bindparam(f"id_token_{i}") for i in range(count)]))


# The width of a ``reading`` row, and the names of its token's columns, in order.
WIDTH = len(id_tokens.c) + 2
_COLUMNS = tuple(column.name for column in id_tokens.c)


def parameters(tokens: Iterable[str]) -> dict[str, Any]:
    """The parameters of ``reading`` that look up ``tokens``."""
    return {f"id_token_{i}": token for i, token in enumerate(tokens)}


def held_from(records: Iterable[Sequence[Any]], at: int = 0) -> dict[str, Held]:
    """The tokens in rows of ``reading`` whose columns start at ``at`` (rows where they
    are None are skipped: another reading's)."""
    found = {}
    for record in records:
        values = record[at : at + WIDTH]
        if values[0] is None:
            continue
        token = _id_token(dict(zip(_COLUMNS, values, strict=False)))
        found[token.id_token] = Held(token, int(values[-2]), values[-1])
    return found


_AHEAD: ReadAhead[str, Held] = ReadAhead("id_tokens")


def read_already(
    conn: AsyncConnection, found: Mapping[str, Held | None]
) -> AbstractContextManager[None]:
    """Within the block, ``get_with_use`` takes the tokens of ``found`` (None: known not
    to exist) from it, once each."""
    return _AHEAD.kept(conn, found)


async def get(conn: AsyncConnection, id_token: str) -> IdToken | None:
    row = await _BY_ID_TOKEN.first(conn, {"id_token": id_token})
    return None if row is None else _id_token(row)


async def get_with_use(
    conn: AsyncConnection, id_token: str, *, exclude: int | None = None
) -> tuple[IdToken | None, bool]:
    """The token, and whether an active transaction holds it (other than ``exclude``, a
    transaction's primary key); in one round trip (none when it was read ahead)."""
    read, held = _AHEAD.take(conn, id_token)
    if read:
        return (None, False) if held is None else (held.token, held.in_use(exclude))
    if exclude is None:
        row = await _WITH_USE.first(conn, {"id_token": id_token})
    else:
        row = await _WITH_USE_ELSEWHERE.first(conn, {"id_token": id_token, "exclude": exclude})
    return (None, False) if row is None else (_id_token(row), bool(row["in_use"]))


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(id_tokens.insert().values(**values))


async def update_fields(conn: AsyncConnection, id_token: str, **values: Any) -> None:
    await conn.execute(id_tokens.update().where(id_tokens.c.id_token == id_token).values(**values))


async def delete_one(conn: AsyncConnection, id_token: str) -> None:
    await conn.execute(delete(id_tokens).where(id_tokens.c.id_token == id_token))


async def list_page(
    conn: AsyncConnection,
    *,
    limit: int,
    offset: int,
    status: str | None = None,
    group_id: str | None = None,
) -> Page[IdToken]:
    query = select(id_tokens)
    if status is not None:
        query = query.where(id_tokens.c.status == status)
    if group_id is not None:
        query = query.where(id_tokens.c.group_id == group_id)
    rows, total = await fetch_page(
        conn, query, order_by=[id_tokens.c.id_token], limit=limit, offset=offset
    )
    return Page([_id_token(row) for row in rows], total, limit, offset)


def _id_token(row: Mapping[Any, Any]) -> IdToken:
    return IdToken(
        id_token=row["id_token"],
        status=IdTokenStatus(row["status"]),
        type=row["type"],
        expires_at=row["expires_at"],
        group_id=row["group_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
