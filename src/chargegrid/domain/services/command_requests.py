"""An operator asks a charger to do something: the command is queued, handed to the node
holding the charger's connection, and waited for a little.

Every front end (the REST API, the dashboard) asks through here, so a command is
checked, queued and recorded the same way whoever asked for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import RAW_COMMAND, Command, CommandState
from chargegrid.domain.services import commands
from chargegrid.storage.repositories import chargers as charger_repo

if TYPE_CHECKING:
    from chargegrid.platform import Platform


async def request_command(
    platform: Platform,
    *,
    charger_id: str,
    name: str,
    params: Mapping[str, Any],
    requested_by: str | None,
    wait: float | None = None,
    queue: bool = True,
    expires_at: datetime | None = None,
) -> Command:
    """Queue a command for a charger and wait up to ``wait`` s (default: the setting) for
    its answer; the command as it then stands.

    ``DomainError`` when the charger is unknown, the command addresses a transaction the
    charger does not have, or the charger's OCPP version cannot carry it. With
    ``queue=False`` a command for an offline charger fails at once.
    """
    now = platform.clock.now()
    expires_at = expires_at or now + timedelta(seconds=platform.settings.command_expiry)
    async with platform.db.begin() as conn:
        charger = await charger_repo.get(conn, charger_id)
        if charger is None:
            raise DomainError(ErrorKind.NOT_FOUND, f"charger {charger_id} not found")
        version = platform.presence.version_of(charger_id) or charger.ocpp_version
        if version is None and name == RAW_COMMAND:
            raise DomainError(
                ErrorKind.CONFLICT,
                f"charger {charger_id} has never connected: its OCPP version, and so the "
                "schema to check the payload against, is not known yet",
            )
        transaction_pk = addressed_transaction(params)
        if transaction_pk is not None:
            await commands.addressed_transaction(
                conn, charger_id, transaction_pk, active=name == "remote-stop"
            )
        command = await commands.submit(
            conn,
            charger_id=charger_id,
            name=name,
            params=params,
            now=now,
            expires_at=expires_at,
            requested_by=requested_by,
            transaction_pk=transaction_pk,
            evse_id=params.get("evse_id"),
            connector_id=params.get("connector_id"),
            id_token=params.get("id_token"),
        )
        if version is not None:
            # Refused (and rolled back) when the charger's version cannot express it.
            await platform.catalog.check(conn, version, command, now)
        if not queue and not platform.presence.is_connected(charger_id):
            await commands.finish(
                conn,
                command,
                CommandState.FAILED,
                now=now,
                error="the charger is not connected (and queue=false)",
            )
            command = await commands.get(conn, command.id)
    if not command.state.finished:
        platform.commands.queued(charger_id)
        wait = platform.settings.command_wait if wait is None else wait
        if wait > 0:
            await platform.commands.wait_finished(command.id, wait)
        async with platform.db.connect() as conn:
            command = await commands.get(conn, command.id)
    return command


def addressed_transaction(params: Mapping[str, Any]) -> int | None:
    """The platform id of the transaction a command is about (stop, profile, message)."""
    profile = params.get("profile") or params.get("charging_profile") or {}
    pk = params.get("transaction_id", profile.get("transaction_id"))
    return None if pk is None else int(pk)
