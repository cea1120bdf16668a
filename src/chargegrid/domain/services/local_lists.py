"""Local authorization lists: the id tokens a charger may admit on its own, and the list's
version, as the charger last confirmed them; kept in step with the platform's tokens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command, IdToken, IdTokenStatus
from chargegrid.domain.services import commands
from chargegrid.storage.repositories import chargers as charger_repo
from chargegrid.storage.repositories import id_tokens as id_token_repo
from chargegrid.storage.repositories import local_lists as repo
from chargegrid.storage.repositories.local_lists import LocalList, LocalListEntry

SEND_LOCAL_LIST = "send-local-list"


def entry_of(token: IdToken, now: datetime) -> LocalListEntry:
    """What a charger's list says of ``token``: its status (Expired once its expiry has
    passed), expiry and group."""
    status = token.status
    if (
        status is IdTokenStatus.ACCEPTED
        and token.expires_at is not None
        and token.expires_at <= now
    ):
        status = IdTokenStatus.EXPIRED
    return LocalListEntry(
        id_token=token.id_token,
        status=status.value,
        type=token.type,
        expires_at=token.expires_at,
        group_id=token.group_id,
    )


async def entry_for(conn: AsyncConnection, id_token: str, now: datetime) -> LocalListEntry:
    """The list entry of a stored token; DomainError (INVALID) if the token is unknown."""
    token = await id_token_repo.get(conn, id_token)
    if token is None:
        raise DomainError(
            ErrorKind.INVALID, f"id token {id_token!r} is not known, so it cannot be listed"
        )
    return entry_of(token, now)


async def listed(conn: AsyncConnection, charger_id: str, id_token: str) -> LocalListEntry | None:
    """The charger's entry for ``id_token``, if its list holds it."""
    return await repo.entry_of(conn, charger_id, id_token)


async def next_version(conn: AsyncConnection, charger_id: str) -> int:
    """One more than the charger's list version (1 if it has none, or none is known)."""
    stored = await repo.version_of(conn, charger_id)
    return max(stored or 0, 0) + 1


async def get(conn: AsyncConnection, charger_id: str) -> LocalList:
    if await charger_repo.get(conn, charger_id) is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"charger {charger_id} not found")
    return await repo.get(conn, charger_id)


async def updated(
    conn: AsyncConnection,
    charger_id: str,
    *,
    version: int,
    full: bool,
    entries: Iterable[LocalListEntry],
    removed: Iterable[str] = (),
    now: datetime,
) -> None:
    """The charger took a list update: a full list replaces its entries, a differential
    one takes ``removed`` off and adds or overwrites ``entries``."""
    await repo.set_version(conn, charger_id, version, now)
    if full:
        await repo.clear_entries(conn, charger_id)
    else:
        await repo.remove_entries(conn, charger_id, removed)
    await repo.put_entries(conn, charger_id, entries, now)


async def version_reported(
    conn: AsyncConnection, charger_id: str, version: int, now: datetime
) -> None:
    """The charger said which list version it has; 0 (empty) or less (no list support)
    means it holds no entries."""
    await repo.set_version(conn, charger_id, version, now)
    if version <= 0:
        await repo.clear_entries(conn, charger_id)


async def push_token_change(
    conn: AsyncConnection,
    id_token: str,
    *,
    removed: bool,
    now: datetime,
    expires_at: datetime,
    requested_by: str | None = None,
) -> list[Command]:
    """Queue a differential list update, to every charger whose list holds ``id_token``,
    that brings its entry up to date (or takes it off the list when ``removed``).

    Each update's version is decided when it is sent, so updates to a charger queued one
    after the other carry consecutive versions.
    """
    queued = []
    for charger_id in await repo.chargers_listing(conn, id_token):
        params = {
            "update_type": "differential",
            "id_tokens": [] if removed else [id_token],
            "remove": [id_token] if removed else [],
        }
        queued.append(
            await commands.submit(
                conn,
                charger_id=charger_id,
                name=SEND_LOCAL_LIST,
                params=params,
                now=now,
                expires_at=expires_at,
                requested_by=requested_by,
            )
        )
    return queued
