"""Paginated queries: one page of rows plus the total count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.values import immutable

T = TypeVar("T")


@immutable
class Page(Generic[T]):
    """A slice of a list and the size of the whole list."""

    items: Sequence[T]
    total: int
    limit: int
    offset: int


async def fetch_page(
    conn: AsyncConnection,
    query: Select[tuple[object, ...]],
    *,
    order_by: Sequence[ColumnElement[object]],
    limit: int,
    offset: int,
) -> tuple[Sequence[RowMapping], int]:
    """Run ``query`` for one page (ordered) and count all its rows."""
    total = await conn.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await conn.execute(query.order_by(*order_by).limit(limit).offset(offset))
    return rows.mappings().all(), int(total or 0)
