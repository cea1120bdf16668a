"""Bearer tokens of the REST API (stored as SHA-256 digests)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.tables import api_tokens


async def insert(
    conn: AsyncConnection, *, token_hash: str, role: str, name: str | None, now: datetime
) -> None:
    await conn.execute(
        api_tokens.insert().values(token_hash=token_hash, role=role, name=name, created_at=now)
    )


async def role_of(conn: AsyncConnection, token_hash: str) -> str | None:
    """The role of a token that exists and is not revoked."""
    role = await conn.scalar(
        select(api_tokens.c.role).where(
            (api_tokens.c.token_hash == token_hash) & api_tokens.c.revoked_at.is_(None)
        )
    )
    return None if role is None else str(role)
