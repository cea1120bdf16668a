"""Access to the operator API: bearer tokens and their roles."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.ids import new_secret
from chargegrid.storage.repositories import api_tokens
from chargegrid.values import immutable


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


@immutable
class ApiClient:
    """The holder of a valid API token."""

    role: Role
    principal: str  # ``token:<name>``, or ``token:#<id>`` for an unnamed token


async def client_of(conn: AsyncConnection, token: str) -> ApiClient | None:
    """Who holds a valid token, or None."""
    found = await api_tokens.find(conn, _digest(token))
    if found is None:
        return None
    token_id, name, role = found
    return ApiClient(Role(role), f"token:{name}" if name else f"token:#{token_id}")


async def role_of(conn: AsyncConnection, token: str) -> Role | None:
    """The role of a valid token, or None."""
    client = await client_of(conn, token)
    return None if client is None else client.role
