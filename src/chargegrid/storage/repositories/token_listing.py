"""The id tokens list as operators browse it: search, status and group, sort, pages.

Two statements a page (the count and the page); the groups for the filter are one more.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import IdToken, IdTokenStatus
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import id_tokens
from chargegrid.values import immutable

SORTS: dict[str, Any] = {
    "token": id_tokens.c.id_token,
    "status": id_tokens.c.status,
    "group": id_tokens.c.group_id,
    "expires": id_tokens.c.expires_at,
    "updated": id_tokens.c.updated_at,
}
MAX_GROUPS = 200


@immutable
class TokenQuery:
    search: str | None = None  # in the token or its group
    status: IdTokenStatus | None = None
    group_id: str | None = None
    sort: str = "token"
    descending: bool = False


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(query: TokenQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.search:
        pattern = f"%{_escaped(query.search)}%"
        found.append(
            id_tokens.c.id_token.ilike(pattern, escape="\\")
            | id_tokens.c.group_id.ilike(pattern, escape="\\")
        )
    if query.status is not None:
        found.append(id_tokens.c.status == query.status.value)
    if query.group_id:
        found.append(id_tokens.c.group_id == query.group_id)
    return found


async def list_page(
    conn: AsyncConnection, query: TokenQuery, *, limit: int, offset: int
) -> Page[IdToken]:
    column = SORTS.get(query.sort, id_tokens.c.id_token)
    order = column.desc() if query.descending else column.asc()
    rows, total = await fetch_page(
        conn,
        select(id_tokens).where(*_conditions(query)),
        order_by=[order.nulls_last(), id_tokens.c.id_token],
        limit=limit,
        offset=offset,
    )
    items = [
        IdToken(
            id_token=row["id_token"],
            status=IdTokenStatus(row["status"]),
            type=row["type"],
            expires_at=row["expires_at"],
            group_id=row["group_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        for row in rows
    ]
    return Page(items, total, limit, offset)


async def groups(conn: AsyncConnection) -> list[str]:
    """The groups tokens belong to, in order (at most ``MAX_GROUPS``)."""
    rows = await conn.scalars(
        select(id_tokens.c.group_id)
        .where(id_tokens.c.group_id.is_not(None))
        .distinct()
        .order_by(id_tokens.c.group_id)
        .limit(MAX_GROUPS)
    )
    return list(rows)
