"""Local list updates whatever the version: what a send-local-list command puts on the
charger's list, and what the charger was sent once it takes it."""

from __future__ import annotations

from typing import Any

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command
from chargegrid.domain.services import commands, local_lists
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.storage.repositories.local_lists import LocalListEntry
from chargegrid.values import immutable


@immutable
class ListUpdate:
    """A list update: the version it makes, its entries and (differential) removals."""

    version: int
    full: bool
    entries: list[LocalListEntry]
    removed: list[str]


async def planned_update(ctx: HandlerContext, command: Command) -> ListUpdate:
    """The update a send-local-list command asks for, with each token as stored now."""
    params = command.params
    full = params["update_type"] == "full"
    tokens = list(dict.fromkeys(params.get("id_tokens", [])))
    removed = list(dict.fromkeys(params.get("remove", [])))
    if full and removed:
        raise DomainError(
            ErrorKind.INVALID, "a full list replaces the charger's list: it removes nothing"
        )
    both = sorted(set(tokens) & set(removed))
    if both:
        raise DomainError(ErrorKind.INVALID, f"tokens both listed and removed: {', '.join(both)}")
    version = params.get("version") or await local_lists.next_version(ctx.conn, ctx.charger_id)
    entries = [await local_lists.entry_for(ctx.conn, token, ctx.now) for token in tokens]
    return ListUpdate(version, full, entries, removed)


async def sent_request(ctx: HandlerContext, command: Command) -> dict[str, Any]:
    """The OCPP payload the command went out as."""
    request = (await commands.get(ctx.conn, command.id)).request
    assert request is not None, "settled before it was sent"
    return request


async def taken(ctx: HandlerContext, update: ListUpdate) -> None:
    """The charger took ``update``: its list is now as the update says."""
    await local_lists.updated(
        ctx.conn,
        ctx.charger_id,
        version=update.version,
        full=update.full,
        entries=update.entries,
        removed=update.removed,
        now=ctx.now,
    )


def token_too_long(id_token: str, limit: int, version: str) -> DomainError:
    return DomainError(
        ErrorKind.INVALID,
        f"id token {id_token!r} is longer than the {limit} characters of OCPP {version}",
    )
