"""One charger connection: ordered inbound CALLs, correlated outbound CALLs.

OCPP-J messages are UTF-8 JSON text: every frame goes out as a WebSocket text message,
though encoded as bytes (sent as they are, bytes would make a binary message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import msgspec

from chargegrid.domain.ids import new_id
from chargegrid.gateway.inbox import Inbox
from chargegrid.ocpp.protocol import (
    ErrorReply,
    IncomingCall,
    IncomingError,
    IncomingResult,
    OcppProtocol,
    Unanswerable,
)
from chargegrid.ocpp.rpc import encode_payload
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.values import immutable

logger = logging.getLogger(__name__)

FollowUp = Callable[["ChargerConnection"], Awaitable[None]]


@immutable
class Reply:
    """The frame answering an inbound CALL, and what to do once it has been sent."""

    frame: bytes
    follow_ups: tuple[FollowUp, ...] = ()


class MessageSink(Protocol):
    """Where a connection sends what it receives and records what it sends."""

    async def handle_inbound(
        self, connection: ChargerConnection, item: IncomingCall | ErrorReply, frame: str | bytes
    ) -> Reply:
        """Process a CALL (or a bad ``frame``) and return the reply to send."""
        ...

    async def record_outbound(
        self,
        connection: ChargerConnection,
        action: str,
        unique_id: str,
        payload: bytes,
        answer: IncomingResult | IncomingError | None,
        latency_s: float,
    ) -> None:
        """Record a CALL sent to the charger and its answer (None: no answer)."""
        ...


class Transport(Protocol):
    """The part of a WebSocket connection this class uses."""

    async def send(self, message: str | bytes, *, text: bool | None = None) -> None:
        """Send a message; bytes go as a text message with ``text=True``."""
        ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...

    async def recv(self) -> str | bytes: ...

    async def ping(self) -> Awaitable[float]:
        """Send a ping; the awaitable returned ends when its pong comes."""
        ...


class CallTimeout(Exception):
    """The charger did not answer a CALL in time."""


class ChargerUnavailable(Exception):
    """The connection closed before the charger answered (``sent``: after the CALL went out)."""

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        self.sent = sent


class CallRejected(Exception):
    """The charger answered a CALL with a CALLERROR."""

    def __init__(self, error: IncomingError) -> None:
        super().__init__(f"{error.code}: {error.description}")
        self.error = error


class ChargerConnection:
    """Reads frames; CALLs are handled strictly one after another, in arrival order.

    Answers to our own CALLs are routed as soon as they arrive, even while an inbound
    CALL is being processed. At most one CALL of ours is outstanding at a time, as
    OCPP-J requires.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        charger_id: str,
        version: OcppVersion,
        protocol: OcppProtocol,
        sink: MessageSink,
        call_timeout: float,
    ) -> None:
        self.transport = transport
        self.charger_id = charger_id
        self.version = version
        self.protocol = protocol
        self._sink = sink
        self._call_timeout = call_timeout
        self._inbound: Inbox[tuple[IncomingCall | ErrorReply, str | bytes] | None] = Inbox()
        self._call_lock = asyncio.Lock()
        self._pending: tuple[str, asyncio.Future[IncomingResult | IncomingError]] | None = None
        self._closed = asyncio.Event()
        self._follow_ups: set[asyncio.Task[None]] = set()
        # Set once the charger's registration is accepted on this connection: from then on
        # queued commands are delivered to it.
        self.accepts_commands = False
        self._processing = True
        # When the charger last showed that the connection lives (time.monotonic()).
        self.last_heard = time.monotonic()

    def stop_processing(self) -> None:
        """Handle no more queued CALLs (the node is stopping): the one being handled
        finishes, the others were never acknowledged and the charger sends them again."""
        self._processing = False

    async def run(self) -> None:
        """Serve until the socket closes; the queued CALLs still get processed (unless
        ``stop_processing`` was called)."""
        worker = asyncio.create_task(self._process_inbound())
        try:
            while True:
                try:
                    data = await self.transport.recv()
                except Exception:  # the socket closed (normally or not)
                    break
                self.last_heard = time.monotonic()
                self._route(self.protocol.receive(data), data)
        finally:
            self._closed.set()
            self._fail_pending()
            self._inbound.put(None)
            await worker
            for task in self._follow_ups:
                task.cancel()

    def _route(self, event: object, data: str | bytes) -> None:
        if isinstance(event, IncomingCall | ErrorReply):
            self._inbound.put((event, data))
        elif isinstance(event, IncomingResult | IncomingError):
            pending = self._pending
            if pending is not None and pending[0] == event.unique_id and not pending[1].done():
                pending[1].set_result(event)
            else:
                logger.warning(
                    "charger %s answered unknown or late message id %r",
                    self.charger_id,
                    event.unique_id,
                )
        elif isinstance(event, Unanswerable):
            logger.warning("charger %s sent an unusable frame: %s", self.charger_id, event.reason)

    async def _process_inbound(self) -> None:
        while (item := await self._inbound.get()) is not None:
            if not self._processing:
                continue
            try:
                reply = await self._sink.handle_inbound(self, *item)
            except Exception:
                logger.exception("handling a frame from charger %s failed", self.charger_id)
                continue
            if self._closed.is_set():
                continue  # the charger will repeat the CALL; the stored reply is ready
            try:
                await self.transport.send(reply.frame, text=True)
            except Exception:
                continue
            for follow_up in reply.follow_ups:
                self._start_follow_up(follow_up)

    def _start_follow_up(self, follow_up: FollowUp) -> None:
        """Run work that must wait for the reply (e.g. a CALL of ours) beside the reader."""

        async def run() -> None:
            try:
                await follow_up(self)
            except Exception:
                logger.exception("follow-up for charger %s failed", self.charger_id)

        task = asyncio.create_task(run())
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    async def call(self, action: str, request: msgspec.Struct) -> Any:
        """Send a CALL and return the decoded response; one outstanding CALL at a time."""
        async with self._call_lock:
            if self._closed.is_set():
                raise ChargerUnavailable(f"charger {self.charger_id} is not connected")
            unique_id = new_id()
            frame = self.protocol.call_frame(unique_id, action, request)
            payload = encode_payload(request)
            future: asyncio.Future[IncomingResult | IncomingError] = (
                asyncio.get_running_loop().create_future()
            )
            self._pending = (unique_id, future)
            started = time.perf_counter()
            answer: IncomingResult | IncomingError | None = None
            try:
                try:
                    await self.transport.send(frame, text=True)
                except Exception as failure:
                    raise ChargerUnavailable(
                        f"charger {self.charger_id} disconnected before {action} went out"
                    ) from failure
                answer = await asyncio.wait_for(future, self._call_timeout)
            except TimeoutError:
                raise CallTimeout(f"no answer to {action} within {self._call_timeout}s") from None
            finally:
                self._pending = None
                await self._record(action, unique_id, payload, answer, started)
            if isinstance(answer, IncomingError):
                raise CallRejected(answer)
            return self.protocol.decode_response(action, answer.payload)

    async def _record(
        self,
        action: str,
        unique_id: str,
        payload: bytes,
        answer: IncomingResult | IncomingError | None,
        started: float,
    ) -> None:
        latency = time.perf_counter() - started
        try:
            await self._sink.record_outbound(self, action, unique_id, payload, answer, latency)
        except Exception:
            logger.exception("recording %s to charger %s failed", action, self.charger_id)

    def _fail_pending(self) -> None:
        if self._pending is not None and not self._pending[1].done():
            self._pending[1].set_exception(
                ChargerUnavailable(f"charger {self.charger_id} disconnected", sent=True)
            )

    @property
    def closed(self) -> bool:
        """Whether the socket has closed."""
        return self._closed.is_set()

    async def close(self, code: int, reason: str) -> None:
        """Close the socket; the read loop then ends."""
        with contextlib.suppress(Exception):
            await self.transport.close(code, reason)
