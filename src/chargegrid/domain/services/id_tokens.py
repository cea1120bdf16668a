"""Id token management."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import IdToken, IdTokenStatus
from chargegrid.storage.repositories import id_tokens as repo


async def create(
    conn: AsyncConnection,
    *,
    id_token: str,
    status: IdTokenStatus,
    now: datetime,
    expires_at: datetime | None = None,
    group_id: str | None = None,
    type: str | None = None,
) -> IdToken:
    if not id_token or len(id_token) > 255:
        raise DomainError(ErrorKind.INVALID, "id_token must be 1-255 characters")
    if await repo.get(conn, id_token) is not None:
        raise DomainError(ErrorKind.CONFLICT, f"id token {id_token!r} already exists")
    await repo.insert(
        conn,
        {
            "id_token": id_token,
            "status": status.value,
            "expires_at": expires_at,
            "group_id": group_id,
            "type": type,
            "created_at": now,
            "updated_at": now,
        },
    )
    token = await repo.get(conn, id_token)
    assert token is not None
    return token
