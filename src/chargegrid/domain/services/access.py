"""Access to the operator API: bearer tokens and their roles."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.ids import new_secret
from chargegrid.storage.repositories import api_tokens


class Role(StrEnum):
    """What an API client may do: admin > operator > viewer."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    conn: AsyncConnection, *, role: Role, now: datetime, name: str | None = None
) -> str:
    """Create an API token and return it; only its digest is stored."""
    token = new_secret()
    await api_tokens.insert(conn, token_hash=_digest(token), role=role.value, name=name, now=now)
    return token


async def role_of(conn: AsyncConnection, token: str) -> Role | None:
    """The role of a valid token, or None."""
    role = await api_tokens.role_of(conn, _digest(token))
    return None if role is None else Role(role)
