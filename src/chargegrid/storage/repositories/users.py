"""Operator users (emails stored in lower case)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.services.access import Role
from chargegrid.domain.users import User
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import users


async def get(conn: AsyncConnection, user_id: int) -> User | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).mappings().first()
    return None if row is None else _user(row)


async def get_by_email(conn: AsyncConnection, email: str) -> User | None:
    row = (await conn.execute(select(users).where(users.c.email == email))).mappings().first()
    return None if row is None else _user(row)


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> int:
    """Insert a user and return its id."""
    result = await conn.execute(users.insert().values(**values).returning(users.c.id))
    return int(result.scalar_one())


async def update(conn: AsyncConnection, user_id: int, values: dict[str, Any]) -> None:
    await conn.execute(users.update().where(users.c.id == user_id).values(**values))


async def delete(conn: AsyncConnection, user_id: int) -> None:
    await conn.execute(users.delete().where(users.c.id == user_id))


async def lock_enabled_admins(conn: AsyncConnection) -> list[int]:
    """Ids of enabled admins, row-locked (PostgreSQL) until the transaction ends.

    Two admins demoting each other at once cannot both pass a "not the last admin"
    check: the second waits for the first and then sees its change. (SQLite writers are
    serialised anyway.)
    """
    query = (
        select(users.c.id)
        .where((users.c.role == Role.ADMIN.value) & users.c.disabled.is_(False))
        .order_by(users.c.id)
        .with_for_update()
    )
    return [int(user_id) for user_id in (await conn.scalars(query)).all()]


async def list_page(conn: AsyncConnection, *, limit: int, offset: int) -> Page[User]:
    rows, total = await fetch_page(
        conn, select(users), order_by=[users.c.id], limit=limit, offset=offset
    )
    return Page([_user(row) for row in rows], total, limit, offset)


def _user(row: RowMapping) -> User:
    return User(
        id=int(row["id"]),
        email=row["email"],
        role=Role(row["role"]),
        name=row["name"],
        disabled=bool(row["disabled"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        password_hash=row["password_hash"],
    )
