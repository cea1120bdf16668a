"""Id tokens (RFID cards, app tokens) known to the platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import IdToken, IdTokenStatus
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import id_tokens

# Built once and run on the driver: every Authorize, start and stop looks a token up.
_BY_ID_TOKEN = DirectStatement(
    select(id_tokens).where(id_tokens.c.id_token == bindparam("id_token"))
)


async def get(conn: AsyncConnection, id_token: str) -> IdToken | None:
    row = await _BY_ID_TOKEN.first(conn, {"id_token": id_token})
    return None if row is None else _id_token(row)


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
