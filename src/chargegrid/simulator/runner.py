"""The I/O of a simulated charger: one asyncio task per charger and its WebSocket.

The task connects (``{url}/{charger_id}``, the version's subprotocol, Basic auth, TLS when
asked), feeds the sans-I/O core every frame and the time, sends what the core returns
and otherwise sleeps until the core's next deadline; timers live in the event loop's
heap, so an idle charger costs no CPU. While disconnected the task keeps the simulation
going (sessions go on, their messages are queued) and reconnects with back-off.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Subprotocol

from chargegrid.simulator.core import MAX_FRAME_BYTES, ChargerCore
from chargegrid.simulator.model import SessionRecord
from chargegrid.simulator.physics import Ev
from chargegrid.values import immutable

logger = logging.getLogger(__name__)

GOING_AWAY = 1001
MAX_SLEEP_S = 3600.0
USER_AGENT = "chargegrid-simulator"


@immutable
class Target:
    """Where and how the chargers of a fleet connect."""

    url: str  # e.g. ws://127.0.0.1:9000/ocpp; the charger id is appended
    password: str | None = None  # Basic auth (username: the charger id)
    tls_ca: str | None = None
    cert: str | None = None  # client certificate; "{id}" in the path: one per charger
    key: str | None = None
    open_timeout: float = 10.0
    close_timeout: float = 2.0
    reboot_delay: float = 2.0  # how long a restart takes

    def tls(self, charger_id: str) -> ssl.SSLContext | None:
        if not self.url.startswith("wss://"):
            return None
        return tls_context(self.tls_ca, self.cert, self.key, charger_id)


_contexts: dict[tuple[str | None, str | None, str | None], ssl.SSLContext] = {}


def tls_context(
    ca: str | None, cert: str | None, key: str | None, charger_id: str
) -> ssl.SSLContext:
    """A client TLS context (shared by every charger using the same files)."""
    cert = None if cert is None else cert.replace("{id}", charger_id)
    key = None if key is None else key.replace("{id}", charger_id)
    cache_key = (ca, cert, key)
    context = _contexts.get(cache_key)
    if context is None:
        context = ssl.create_default_context(cafile=ca)
        if cert is not None:
            context.load_cert_chain(Path(cert), None if key is None else Path(key))
        _contexts[cache_key] = context
    return context


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class SimulatedCharger:
    """One simulated charger: its core, its connection and a few handles for tests and
    demos (plug an EV in, drop the connection)."""

    __slots__ = (
        "_drop",
        "_offline_until",
        "_stopping",
        "_timeout",
        "_waiter",
        "clock",
        "core",
        "target",
        "ws",
    )

    def __init__(
        self, core: ChargerCore, target: Target, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.core = core
        self.target = target
        self.clock = clock
        self.ws: ClientConnection | None = None
        self._stopping = False
        self._drop = False
        self._offline_until = 0.0
        self._timeout: asyncio.Timeout | None = None
        self._waiter: asyncio.Future[None] | None = None

    @property
    def charger_id(self) -> str:
        return self.core.charger_id

    @property
    def connected(self) -> bool:
        return self.core.online

    def records(self) -> list[SessionRecord]:
        return self.core.records()

    # -- handles (call them on the event loop) ---------------------------------------------

    def plug_in(
        self,
        evse_id: int = 1,
        *,
        id_token: str | None = None,
        duration: float | None = None,
        ev: Ev | None = None,
    ) -> bool:
        """An EV arrives at ``evse_id`` now; False if that EVSE is not free."""
        now = self.clock()
        done = self.core.station.plug_in(evse_id, now, id_token=id_token, duration=duration, ev=ev)
        self.core.tick(now)
        self.wake()
        return done

    def go_offline(self, seconds: float) -> None:
        """Lose the connection (no closing handshake) and stay away ``seconds``."""
        self._offline_until = self.clock() + seconds
        self._drop = True
        self.wake()

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    def wake(self) -> None:
        """Make the task look at the core again now."""
        if self._timeout is not None:
            if not self._timeout.expired():  # else it is waking up already
                self._timeout.reschedule(asyncio.get_running_loop().time())
        elif self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- the task --------------------------------------------------------------------------

    async def run(self, start_at: float | None = None) -> None:
        """Connect, serve and reconnect until ``stop``."""
        core = self.core
        attempt = 0
        reconnect_at = self.clock() if start_at is None else start_at
        while not self._stopping:
            await self._idle_until(reconnect_at)
            if self._stopping:
                break
            ws = await self._connect()
            if ws is None:
                reconnect_at = self.clock() + core.station.backoff.delay(attempt, core.station.rng)
                attempt += 1
                continue
            attempt = 0
            self.ws, self._drop = ws, False
            core.connected(self.clock())
            reboot = False
            try:
                reboot = await self._serve(ws)
            finally:
                self.ws = None
                core.disconnected(self.clock())
                await self._close(ws, reboot)
            now = self.clock()
            if reboot:
                core.rebooted(now)
                reconnect_at = now + self.target.reboot_delay
            else:
                reconnect_at = max(
                    now + core.station.backoff.delay(attempt, core.station.rng),
                    self._offline_until,
                )
                attempt += 1

    async def _connect(self) -> ClientConnection | None:
        core = self.core
        headers = {}
        if self.target.password is not None:
            headers["Authorization"] = basic_auth(core.charger_id, self.target.password)
        subprotocol = core.version.subprotocol
        try:
            ws = await connect(
                f"{self.target.url.rstrip('/')}/{core.charger_id}",
                subprotocols=[Subprotocol(subprotocol)],
                additional_headers=headers,
                compression=None,
                ssl=self.target.tls(core.charger_id),
                open_timeout=self.target.open_timeout,
                close_timeout=self.target.close_timeout,
                ping_interval=None,  # the CSMS pings; pongs are automatic
                max_size=MAX_FRAME_BYTES,
                proxy=None,
                user_agent_header=USER_AGENT,
            )
        except (OSError, TimeoutError, WebSocketException, ssl.SSLError) as error:
            core.stats.connect_failures += 1
            logger.debug("charger %s could not connect: %s", core.charger_id, error)
            return None
        if ws.subprotocol != subprotocol:
            core.stats.connect_failures += 1
            logger.warning("charger %s: the CSMS does not speak %s", core.charger_id, subprotocol)
            await ws.close()
            return None
        return ws

    async def _serve(self, ws: ClientConnection) -> bool:
        """Exchange frames until the socket closes; True when the charger restarts."""
        core = self.core
        while True:
            now = self.clock()
            core.tick(now)
            if self._stopping or self._drop:
                return False
            if core.wants_reboot(now):
                return True
            frame = core.next_frame(now)
            try:
                if frame is not None:
                    await ws.send(frame, text=True)
                delay = min(MAX_SLEEP_S, max(0.0, core.next_deadline(now) - self.clock()))
                try:
                    async with asyncio.timeout(delay) as timeout:
                        self._timeout = timeout
                        data = await ws.recv(decode=False)
                except TimeoutError:
                    continue
                finally:
                    self._timeout = None
                for reply in core.receive(data, self.clock()):
                    await ws.send(reply, text=True)
            except ConnectionClosed:
                return False

    async def _close(self, ws: ClientConnection, reboot: bool) -> None:
        if self._drop and not self._stopping:
            ws.transport.abort()  # a lost connection: no closing handshake
            return
        with contextlib.suppress(Exception):
            await ws.close(GOING_AWAY if self._stopping else 1000)

    async def _idle_until(self, at: float) -> None:
        """Keep the simulation going while not connected, until ``at``."""
        loop = asyncio.get_running_loop()
        while not self._stopping:
            now = self.clock()
            if self.core.wants_reboot(now):  # a restart needs no connection
                self.core.rebooted(now)
            self.core.tick(now)
            until = max(at, self._offline_until)
            if now >= until:
                return
            delay = min(MAX_SLEEP_S, until - now, max(0.0, self.core.next_deadline(now) - now))
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter = waiter
            handle = loop.call_later(delay, _release, waiter)
            try:
                await waiter
            finally:
                handle.cancel()
                self._waiter = None


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
