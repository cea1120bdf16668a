"""The command bus: tells the node holding a charger's connection that a command is
queued for it, and tells whoever waits that a command has finished."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

QueuedListener = Callable[[str], None]


class CommandBus(Protocol):
    """Carries 'command queued' and 'command finished' notices between nodes."""

    def queued(self, charger_id: str) -> None:
        """A command for ``charger_id`` is in the database, waiting to be sent."""
        ...

    def finished(self, command_id: int) -> None:
        """Command ``command_id`` has come to an end."""
        ...

    def on_queued(self, listener: QueuedListener) -> None:
        """Call ``listener(charger_id)`` for every queued notice (the gateway listens)."""
        ...

    async def wait_finished(self, command_id: int, within: float) -> bool:
        """Wait up to ``within`` s for the command to finish; whether a notice came.

        Callers read the command from the database afterwards either way: a notice
        sent before the wait began is not replayed.
        """
        ...


class LocalCommandBus:
    """The bus of a single node: every charger is connected to this process."""

    def __init__(self) -> None:
        self._listeners: list[QueuedListener] = []
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}

    def queued(self, charger_id: str) -> None:
        for listener in self._listeners:
            listener(charger_id)

    def finished(self, command_id: int) -> None:
        for waiter in self._waiters.pop(command_id, ()):
            if not waiter.done():
                waiter.set_result(None)

    def on_queued(self, listener: QueuedListener) -> None:
        self._listeners.append(listener)

    def watch(self, command_id: int) -> asyncio.Future[None]:
        """A future that the command's finished notice resolves (register before queuing)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(command_id, []).append(waiter)
        return waiter

    async def wait_finished(self, command_id: int, within: float) -> bool:
        waiter = self.watch(command_id)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), within)
        except TimeoutError:
            return False
        finally:
            self._forget(command_id, waiter)
        return True

    def _forget(self, command_id: int, waiter: asyncio.Future[None]) -> None:
        waiters = self._waiters.get(command_id)
        if waiters is None:
            return
        with contextlib.suppress(ValueError):
            waiters.remove(waiter)
        if not waiters:
            del self._waiters[command_id]
        if not waiter.done():
            waiter.cancel()
