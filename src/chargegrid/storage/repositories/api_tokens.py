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


async def find(conn: AsyncConnection, token_hash: str) -> tuple[int, str | None, str] | None:
    """(id, name, role) of a token that exists and is not revoked."""
    row = (
        await conn.execute(
            select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.role).where(
                (api_tokens.c.token_hash == token_hash) & api_tokens.c.revoked_at.is_(None)
            )
        )
    ).first()
    return None if row is None else (int(row.id), row.name, str(row.role))
