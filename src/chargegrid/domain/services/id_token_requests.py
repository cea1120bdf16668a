"""An operator changes or forgets an id token: the change is committed, the local lists
that hold the token get their update queued, and the nodes holding those chargers are
told.

Every front end (the REST API, the dashboard) goes through here, so a token change
reaches the chargers the same way whoever made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chargegrid.domain.services import id_tokens
from chargegrid.domain.services.id_tokens import ListPush, TokenChange

if TYPE_CHECKING:
    from chargegrid.platform import Platform


async def change_token(
    platform: Platform,
    id_token: str,
    changes: Mapping[str, Any],
    *,
    requested_by: str | None,
    push_local_lists: bool = True,
) -> TokenChange:
    """Change a token's status, expiry, group or type (``id_tokens.update``)."""
    now = platform.clock.now()
    async with platform.db.begin() as conn:
        change = await id_tokens.update(
            conn,
            id_token,
            changes,
            now=now,
            push=_push(platform, now, requested_by) if push_local_lists else None,
        )
    _wake(platform, change)
    return change


async def forget_token(
    platform: Platform, id_token: str, *, requested_by: str | None, push_local_lists: bool = True
) -> TokenChange:
    """Delete a token; the local lists holding it get an update that removes it."""
    now = platform.clock.now()
    async with platform.db.begin() as conn:
        change = await id_tokens.delete(
            conn,
            id_token,
            now=now,
            push=_push(platform, now, requested_by) if push_local_lists else None,
        )
    _wake(platform, change)
    return change


def _push(platform: Platform, now: datetime, requested_by: str | None) -> ListPush:
    return ListPush(
        expires_at=now + timedelta(seconds=platform.settings.command_expiry),
        requested_by=requested_by,
    )


def _wake(platform: Platform, change: TokenChange) -> None:
    """Hand the committed list updates to the nodes holding the chargers."""
    for charger_id in dict.fromkeys(command.charger_id for command in change.list_updates):
        platform.commands.queued(charger_id)
