"""Delivers queued commands to the chargers connected to this node, in order, one at a time.

A charger gets its commands once its registration is accepted on the connection. Each
command is marked sent (committed) before it goes out and settled by the answer, so a
command is sent at most once; one whose node stopped before the answer is timed out by
the sweep, which also expires commands whose charger did not come back in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.bus.commands import CommandBus
from chargegrid.config import Settings
from chargegrid.domain.clock import Clock
from chargegrid.domain.errors import DomainError
from chargegrid.domain.model import Command, CommandState
from chargegrid.domain.services import commands
from chargegrid.gateway.connection import (
    CallRejected,
    CallTimeout,
    ChargerConnection,
    ChargerUnavailable,
)
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers.commands import OcppCall, Settlement, Translation, translation_of
from chargegrid.ocpp.rpc import RpcError
from chargegrid.storage.engine import Database

logger = logging.getLogger(__name__)

# How long past the call timeout a command may stay "sent" before the sweep gives up on it.
SENT_GRACE_S = 30.0


class CommandOutbox:
    """Sends each connected charger its queued commands."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        bus: CommandBus,
        connection_of: Callable[[str], ChargerConnection | None],
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._bus = bus
        self._connection_of = connection_of
        self._draining: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._sweeper: asyncio.Task[None] | None = None
        bus.on_queued(self.wake)

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        tasks = [t for t in (self._sweeper, *self._draining.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def ready(self, connection: ChargerConnection) -> None:
        """The charger is accepted on ``connection``: deliver what waits for it."""
        self.wake(connection.charger_id)

    def wake(self, charger_id: str) -> None:
        """Deliver the charger's queued commands, if it is connected here and accepted."""
        connection = self._connection_of(charger_id)
        if connection is None or not connection.accepts_commands:
            return
        if charger_id in self._draining:
            self._again.add(charger_id)
            return
        task = asyncio.create_task(self._drain(connection))
        self._draining[charger_id] = task
        task.add_done_callback(lambda done: self._drained(charger_id, done))

    def _drained(self, charger_id: str, task: asyncio.Task[None]) -> None:
        if self._draining.get(charger_id) is task:
            del self._draining[charger_id]
        if charger_id in self._again and not task.cancelled():
            # Woken while a closing connection was being drained: serve the new one.
            self._again.discard(charger_id)
            self.wake(charger_id)

    async def _drain(self, connection: ChargerConnection) -> None:
        charger_id = connection.charger_id
        while True:
            self._again.discard(charger_id)
            try:
                while not connection.closed and await self._deliver_next(connection):
                    pass
            except Exception:
                logger.exception("delivering commands to charger %s failed", charger_id)
                return
            if charger_id not in self._again or connection.closed:
                return

    async def _deliver_next(self, connection: ChargerConnection) -> bool:
        """Send the oldest queued command; False when none is left (or the charger left)."""
        now = self._clock.now()
        async with self._db.begin() as conn:
            command = await commands.next_queued(conn, connection.charger_id)
            if command is None:
                return False
            if command.expires_at <= now:
                await commands.finish(
                    conn,
                    command,
                    CommandState.EXPIRED,
                    now=now,
                    error="expired before the charger could be reached",
                )
                outgoing: tuple[Translation, OcppCall] | None = None
            else:
                outgoing = await self._prepare(conn, connection, command)
        if outgoing is None:
            self._bus.finished(command.id)
            return True
        translation, call = outgoing
        settled = await self._send(connection, command, translation, call)
        if settled:
            self._bus.finished(command.id)
        return settled

    async def _prepare(
        self, conn: AsyncConnection, connection: ChargerConnection, command: Command
    ) -> tuple[Translation, OcppCall] | None:
        now = self._clock.now()
        context = HandlerContext(
            conn, connection.charger_id, connection.version, now, self._settings
        )
        try:
            translation = translation_of(connection.version, command.name)
            call = await translation.build(context, command)
        except DomainError as error:
            await commands.finish(conn, command, CommandState.FAILED, now=now, error=error.message)
            return None
        if not await commands.mark_sent(
            conn,
            command,
            ocpp_version=connection.version.value,
            action=call.action,
            request=msgspec.to_builtins(call.request),
            now=now,
        ):
            return None  # expired (or settled) meanwhile by another node's sweep
        return translation, call

    async def _send(
        self,
        connection: ChargerConnection,
        command: Command,
        translation: Translation,
        call: OcppCall,
    ) -> bool:
        """Send the call and settle the command; False if it went back to the queue."""
        response: Any = None
        answer: dict[str, Any] | None = None
        try:
            response = await connection.call(call.action, call.request)
        except CallTimeout as timeout:
            settlement = Settlement(CommandState.TIMEOUT, error=str(timeout))
        except CallRejected as rejected:
            error = rejected.error
            answer = {"error_code": error.code, "description": error.description}
            settlement = Settlement(
                CommandState.FAILED, error=f"the charger answered {error.code}: {error.description}"
            )
        except ChargerUnavailable as gone:
            if not gone.sent:
                async with self._db.begin() as conn:
                    await commands.requeue(conn, command, self._clock.now())
                return False
            settlement = Settlement(CommandState.FAILED, error=str(gone))
        except RpcError as error:  # our request or the charger's answer broke the schema
            settlement = Settlement(CommandState.FAILED, error=error.description)
        else:
            answer = msgspec.to_builtins(response)
        async with self._db.begin() as conn:
            now = self._clock.now()
            if response is not None:
                context = HandlerContext(
                    conn, connection.charger_id, connection.version, now, self._settings
                )
                try:
                    settlement = await translation.settle(context, command, response)
                except DomainError as error:
                    settlement = Settlement(CommandState.FAILED, error=error.message)
            await commands.finish(
                conn,
                command,
                settlement.state,
                now=now,
                response=answer,
                error=settlement.error,
                transaction_pk=settlement.transaction_pk,
            )
        return True

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.command_sweep_interval)
            try:
                await self.sweep()
            except Exception:
                logger.exception("sweeping commands failed")

    async def sweep(self) -> None:
        """Expire overdue queued commands; time out sent ones whose answer cannot come."""
        now = self._clock.now()
        patience = timedelta(seconds=self._settings.ocpp_call_timeout + SENT_GRACE_S)
        async with self._db.begin() as conn:
            ended = await commands.expire_due(conn, now)
            ended += await commands.time_out_unanswered(conn, sent_before=now - patience, now=now)
        for command_id in ended:
            self._bus.finished(command_id)
