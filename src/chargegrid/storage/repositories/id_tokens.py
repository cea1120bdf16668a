"""Id tokens (RFID cards, app tokens) known to the platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import IdToken, IdTokenStatus, TransactionStatus
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import id_tokens, transactions

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


async def get(conn: AsyncConnection, id_token: str) -> IdToken | None:
    row = await _BY_ID_TOKEN.first(conn, {"id_token": id_token})
    return None if row is None else _id_token(row)


async def get_with_use(
    conn: AsyncConnection, id_token: str, *, exclude: int | None = None
) -> tuple[IdToken | None, bool]:
    """The token, and whether an active transaction holds it (other than ``exclude``, a
    transaction's primary key)."""
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
