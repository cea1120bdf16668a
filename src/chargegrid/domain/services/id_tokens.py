"""Id token management; a change to a token reaches the local lists that hold it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command, IdToken, IdTokenStatus
from chargegrid.domain.services import local_lists
from chargegrid.storage.repositories import id_tokens as repo
from chargegrid.values import immutable

# What a change may set (None clears all but the status).
CHANGEABLE = frozenset({"status", "expires_at", "group_id", "type"})


@immutable
class ListPush:
    """Queue local list updates for a token change: when they expire unsent, who asked."""

    expires_at: datetime
    requested_by: str | None = None


@immutable
class TokenChange:
    """A token as changed (or as it was, when deleted) and the list updates it queued."""

    token: IdToken
    list_updates: list[Command]


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
    return await get(conn, id_token)


async def get(conn: AsyncConnection, id_token: str) -> IdToken:
    token = await repo.get(conn, id_token)
    if token is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"id token {id_token!r} not found")
    return token


async def update(
    conn: AsyncConnection,
    id_token: str,
    changes: Mapping[str, Any],
    *,
    now: datetime,
    push: ListPush | None,
) -> TokenChange:
    """Set the given fields (status, expires_at, group_id, type); if that changes the
    token, queue the update of every local list holding it (unless ``push`` is None)."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise DomainError(ErrorKind.INVALID, f"cannot change {', '.join(sorted(unknown))}")
    if "status" in changes and changes["status"] is None:
        raise DomainError(ErrorKind.INVALID, "a token always has a status")
    token = await get(conn, id_token)
    values = dict(changes)
    if "status" in values:
        values["status"] = IdTokenStatus(values["status"])
    changed = dataclasses.replace(token, **values)
    if all(getattr(changed, name) == getattr(token, name) for name in CHANGEABLE):
        return TokenChange(token, [])
    if "status" in values:
        values["status"] = values["status"].value
    await repo.update_fields(conn, id_token, **values, updated_at=now)
    updates = await _push(conn, id_token, removed=False, now=now, push=push)
    return TokenChange(await get(conn, id_token), updates)


async def delete(
    conn: AsyncConnection, id_token: str, *, now: datetime, push: ListPush | None
) -> TokenChange:
    """Forget a token; queue its removal from every local list holding it (unless
    ``push`` is None)."""
    token = await get(conn, id_token)
    await repo.delete_one(conn, id_token)
    return TokenChange(token, await _push(conn, id_token, removed=True, now=now, push=push))


async def _push(
    conn: AsyncConnection, id_token: str, *, removed: bool, now: datetime, push: ListPush | None
) -> list[Command]:
    if push is None:
        return []
    return await local_lists.push_token_change(
        conn,
        id_token,
        removed=removed,
        now=now,
        expires_at=push.expires_at,
        requested_by=push.requested_by,
    )
