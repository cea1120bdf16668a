"""Keepalive: WebSocket pings to the chargers that have gone quiet.

A dead TCP connection (a charger that lost power or its modem) can stay open for hours
unless something is sent on it. Any frame a charger sends shows that its connection
lives, so only a connection quiet for ``interval`` seconds is pinged, and one whose pong
does not come within ``timeout`` seconds is closed (1011). One task looks over all the
connections a few times an interval: chargers that talk are never pinged, and no
connection holds a timer of its own while it is not being pinged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from chargegrid.gateway.connection import ChargerConnection
from chargegrid.metrics import Metrics

logger = logging.getLogger(__name__)

KEEPALIVE_TIMEOUT = 1011  # internal error: what a WebSocket keepalive timeout closes with
LOOKS_PER_INTERVAL = 4  # a quiet connection is pinged within 1¼ intervals of its last frame


class Keepalive:
    """Pings the ``connections`` quiet for ``interval`` seconds; closes those whose pong
    does not come within ``timeout`` seconds (0: never closed for it)."""

    def __init__(
        self,
        connections: Callable[[], Iterable[ChargerConnection]],
        *,
        interval: float,
        timeout: float,
        metrics: Metrics,
    ) -> None:
        if interval <= 0 or timeout < 0:
            raise ValueError("keepalive needs an interval above 0 s and a timeout of 0 s or more")
        self._connections = connections
        self._interval = interval
        self._timeout = timeout
        self._metrics = metrics
        self._looking: asyncio.Task[None] | None = None
        self._pinging: dict[ChargerConnection, asyncio.Task[None]] = {}

    def start(self) -> None:
        if self._looking is None:
            self._looking = asyncio.create_task(self._look_periodically())

    async def stop(self) -> None:
        tasks = [*self._pinging.values(), *([self._looking] if self._looking else [])]
        self._looking = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _look_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._interval / LOOKS_PER_INTERVAL)
            quiet_since = time.monotonic() - self._interval
            for connection in list(self._connections()):
                if (
                    connection.last_heard <= quiet_since
                    and connection not in self._pinging
                    and not connection.closed
                ):
                    task = asyncio.create_task(self._ping(connection))
                    self._pinging[connection] = task

    async def _ping(self, connection: ChargerConnection) -> None:
        try:
            pong = await connection.transport.ping()
            self._metrics.keepalive_pings.inc()
            if self._timeout:
                async with asyncio.timeout(self._timeout):
                    await pong
            connection.last_heard = time.monotonic()
        except TimeoutError:
            self._metrics.keepalive_timeouts.inc()
            logger.warning(
                "charger %s did not answer a ping within %s s; closing its connection",
                connection.charger_id,
                self._timeout,
            )
            await connection.close(KEEPALIVE_TIMEOUT, "keepalive ping timeout")
        except Exception:  # the connection closed meanwhile: its reader sees to the rest
            pass
        finally:
            del self._pinging[connection]
