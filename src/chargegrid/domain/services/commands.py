"""Commands to chargers: queued, sent once, settled by the charger's answer.

A command is written before anything is sent, so none is lost: the node holding the
charger's connection delivers the queued ones in order, and a sweep expires those whose
charger did not come back in time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command, CommandState, Transaction, TransactionStatus
from chargegrid.domain.services import webhooks
from chargegrid.domain.services.webhooks import EventType
from chargegrid.storage.repositories import commands as repo
from chargegrid.storage.repositories import transactions as transaction_repo

REMOTE_START = "remote-start"


async def submit(
    conn: AsyncConnection,
    *,
    charger_id: str,
    name: str,
    params: Mapping[str, Any],
    now: datetime,
    expires_at: datetime,
    requested_by: str | None = None,
    transaction_pk: int | None = None,
    evse_id: int | None = None,
    connector_id: int | None = None,
    id_token: str | None = None,
) -> Command:
    """Queue a command for a charger."""
    if expires_at <= now:
        raise DomainError(ErrorKind.INVALID, "the command would expire before it is sent")
    command_id = await repo.insert(
        conn,
        {
            "charger_id": charger_id,
            "name": name,
            "params": dict(params),
            "state": CommandState.QUEUED.value,
            "transaction_pk": transaction_pk,
            "evse_id": evse_id,
            "connector_id": connector_id,
            "id_token": id_token,
            "requested_by": requested_by,
            "created_at": now,
            "expires_at": expires_at,
            "updated_at": now,
        },
    )
    return await get(conn, command_id)


async def get(conn: AsyncConnection, command_id: int) -> Command:
    command = await repo.get(conn, command_id)
    if command is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"command {command_id} not found")
    return command


async def next_queued(conn: AsyncConnection, charger_id: str) -> Command | None:
    return await repo.next_queued(conn, charger_id)


async def mark_sent(
    conn: AsyncConnection,
    command: Command,
    *,
    ocpp_version: str,
    action: str,
    request: Mapping[str, Any],
    now: datetime,
) -> bool:
    """Note that the command is going out now; False if it is no longer queued."""
    return await repo.update_fields(
        conn,
        command.id,
        only_in=(CommandState.QUEUED,),
        state=CommandState.SENT.value,
        ocpp_version=ocpp_version,
        action=action,
        request=dict(request),
        sent_at=now,
        updated_at=now,
    )


async def requeue(conn: AsyncConnection, command: Command, now: datetime) -> None:
    """Put back a command whose connection closed before it went out."""
    await repo.update_fields(
        conn,
        command.id,
        only_in=(CommandState.SENT,),
        state=CommandState.QUEUED.value,
        sent_at=None,
        updated_at=now,
    )


async def finish(
    conn: AsyncConnection,
    command: Command,
    state: CommandState,
    *,
    now: datetime,
    response: Mapping[str, Any] | None = None,
    error: str | None = None,
    transaction_pk: int | None = None,
) -> bool:
    """Settle an open command; False if it had already come to an end."""
    assert state.finished
    values: dict[str, Any] = {
        "state": state.value,
        "response": None if response is None else dict(response),
        "error": None if error is None else error[:1000],
        "updated_at": now,
    }
    if response is not None or state in (CommandState.FAILED, CommandState.TIMEOUT):
        values["answered_at"] = now
    if transaction_pk is not None:
        values["transaction_pk"] = transaction_pk
    if not await repo.update_fields(
        conn, command.id, only_in=(CommandState.QUEUED, CommandState.SENT), **values
    ):
        return False
    await _published(conn, command.id, now)
    return True


async def _published(conn: AsyncConnection, command_id: int, now: datetime) -> None:
    """Tell the webhooks that subscribe how a command ended."""
    watchers = await webhooks.subscribed(conn, EventType.COMMAND_FINISHED)
    if not watchers:
        return
    command = await get(conn, command_id)
    await webhooks.publish(
        conn,
        EventType.COMMAND_FINISHED,
        {
            "command_id": command.id,
            "charger_id": command.charger_id,
            "name": command.name,
            "state": command.state.value,
            "action": command.action,
            "error": command.error,
            "transaction_id": command.transaction_pk,
            "response": command.response,
            "at": now,
        },
        now,
        to=watchers,
    )


async def expire_due(conn: AsyncConnection, now: datetime) -> list[int]:
    """Mark queued commands past their expiry as expired; their ids."""
    expired = []
    for command_id in await repo.ids_where(
        conn, state=CommandState.QUEUED, before=now, column="expires_at"
    ):
        if await repo.update_fields(
            conn,
            command_id,
            only_in=(CommandState.QUEUED,),
            state=CommandState.EXPIRED.value,
            error="expired before the charger could be reached",
            updated_at=now,
        ):
            expired.append(command_id)
            await _published(conn, command_id, now)
    return expired


async def time_out_unanswered(
    conn: AsyncConnection, *, sent_before: datetime, now: datetime
) -> list[int]:
    """Commands sent before ``sent_before`` whose answer can no longer come (the node that
    sent them stopped); their ids."""
    timed_out = []
    for command_id in await repo.ids_where(
        conn, state=CommandState.SENT, before=sent_before, column="sent_at"
    ):
        if await repo.update_fields(
            conn,
            command_id,
            only_in=(CommandState.SENT,),
            state=CommandState.TIMEOUT.value,
            error="no answer recorded (the connection or the server went away)",
            answered_at=now,
            updated_at=now,
        ):
            timed_out.append(command_id)
            await _published(conn, command_id, now)
    return timed_out


async def link_remote_start(
    conn: AsyncConnection,
    transaction: Transaction,
    *,
    now: datetime,
    window_s: int,
) -> None:
    """Link a new transaction to the remote start that asked for it, if any.

    The transaction names the command when it carries a remote start id (OCPP 2.x: the
    command's id), which must be a remote start of its charger not linked yet. Otherwise
    the latest remote start for the same charger and id token, on the same EVSE or on
    any, sent within the window, is taken to be it. (Made with the commit group's other
    writes: nothing in the group reads it back.)
    """
    if transaction.remote_start_id is None and transaction.id_token is None:
        return
    await repo.link_remote_start(
        conn,
        transaction_pk=transaction.id,
        charger_id=transaction.charger_id,
        name=REMOTE_START,
        command_id=transaction.remote_start_id,
        id_token=transaction.id_token,
        evse_id=transaction.evse_id,
        sent_since=now - timedelta(seconds=window_s),
        now=now,
    )


class CommandCatalog(Protocol):
    """Knows how each OCPP version carries each command (the gateway implements it)."""

    async def check(
        self, conn: AsyncConnection, version: str, command: Command, now: datetime
    ) -> None:
        """Raise DomainError when a charger of ``version`` cannot take the command."""
        ...

    def names(self, version: str) -> frozenset[str]:
        """The version-neutral commands a charger of ``version`` can carry (none for a
        version the platform does not speak)."""
        ...


async def addressed_transaction(
    conn: AsyncConnection, charger_id: str, transaction_pk: int, *, active: bool = True
) -> Transaction:
    """The charger's (active) transaction a command addresses; DomainError otherwise."""
    transaction = await transaction_repo.get(conn, transaction_pk)
    if transaction is None or transaction.charger_id != charger_id:
        raise DomainError(
            ErrorKind.NOT_FOUND, f"charger {charger_id} has no transaction {transaction_pk}"
        )
    if active and transaction.status is not TransactionStatus.ACTIVE:
        raise DomainError(ErrorKind.CONFLICT, f"transaction {transaction_pk} has already ended")
    return transaction
