"""WebSocket connections on asyncio: the ``websockets`` Sans-I/O protocol, driven lean.

``websockets`` parses and builds frames and keeps the state of the opening and closing
handshakes; this module does the I/O around it, with as little per message as it can:
a received message goes straight to its connection's inbox (a text message as its UTF-8
bytes, which the OCPP layer decodes as it parses), and a message sent is written at
once, its sender waiting only while the socket's send buffer is full.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any, cast

from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from chargegrid.gateway.inbox import Inbox

logger = logging.getLogger(__name__)

GOING_AWAY = 1001
INTERNAL_ERROR = 1011

# What the server does with a request before the upgrade: a response refuses it, None
# accepts it.
ProcessRequest = Callable[["WebSocket", Request], Awaitable[Response | None]]
SelectSubprotocol = Callable[[Sequence[Subprotocol]], Subprotocol | None]
Handler = Callable[["WebSocket"], Awaitable[None]]


class WebSocketServer:
    """Listens for WebSocket connections and runs ``handler`` for each one opened.

    A connection whose handshake is not complete within ``open_timeout`` seconds is
    dropped; one closing, whose peer does not end it within ``close_timeout`` seconds,
    is cut."""

    def __init__(
        self,
        handler: Handler,
        *,
        process_request: ProcessRequest,
        select_subprotocol: SelectSubprotocol,
        max_size: int,
        open_timeout: float,
        close_timeout: float,
        server_header: str,
    ) -> None:
        self.handler = handler
        self.process_request = process_request
        self.select_subprotocol = select_subprotocol
        self.max_size = max_size
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self.server_header = server_header
        self.connections: set[WebSocket] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Server | None = None
        self._port = 0

    async def listen(self, host: str | None, port: int, tls: ssl.SSLContext | None) -> None:
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(
            lambda: WebSocket(self),
            host,
            port,
            ssl=tls,
            ssl_handshake_timeout=self.open_timeout if tls is not None else None,
        )
        self._port = int(self._listener.sockets[0].getsockname()[1])

    @property
    def port(self) -> int:
        """The port actually listened on (useful when asked for 0)."""
        assert self._listener is not None
        return self._port

    @property
    def serving(self) -> bool:
        return self._listener is not None and self._listener.is_serving()

    def close(self) -> None:
        """Stop listening and close every open connection (1001, going away); a
        handshake in progress is answered 503."""
        if self._listener is not None:
            self._listener.close()
        for connection in list(self.connections):
            if connection.state is State.OPEN:
                self.run(connection.close(GOING_AWAY, "server shutting down"))

    async def wait_closed(self) -> None:
        """Wait until every connection's handler has returned."""
        while self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def run(self, work: Awaitable[None]) -> None:
        """Run ``work`` as a task that ``wait_closed`` waits for."""
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


class WebSocket(asyncio.Protocol):
    """One connection: its handshake, its messages, pings, and its closing."""

    def __init__(self, server: WebSocketServer) -> None:
        self._server = server
        self.protocol = ServerProtocol(
            select_subprotocol=lambda _, offered: server.select_subprotocol(offered),
            max_size=server.max_size,
        )
        self._loop = asyncio.get_running_loop()
        self.transport = cast(asyncio.Transport, None)
        self.request: Request | None = None
        self._messages: Inbox[bytes | None] = Inbox()  # None: the connection is closed
        self._fragments: list[bytes] = []
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._timer: asyncio.TimerHandle | None = None

    # What the handler sees -------------------------------------------------------------

    @property
    def state(self) -> State:
        return self.protocol.state

    @property
    def subprotocol(self) -> Subprotocol | None:
        return self.protocol.subprotocol

    @property
    def remote_address(self) -> Any:
        return self.transport.get_extra_info("peername")

    def respond(self, status: HTTPStatus, text: str) -> Response:
        """A plain-text HTTP response refusing the upgrade."""
        return self.protocol.reject(status, text)

    async def recv(self) -> bytes:
        """The next message; ``ConnectionClosed`` once none is left and the connection
        has closed."""
        message = await self._messages.get()
        if message is None:
            self._messages.put(None)  # for the next call too
            raise self.protocol.close_exc
        return message

    async def send(self, message: str | bytes, *, text: bool | None = None) -> None:
        """Send a message: text for ``str`` or with ``text=True``, else binary."""
        if self.protocol.state is not State.OPEN:
            raise self.protocol.close_exc
        data = message.encode() if isinstance(message, str) else message
        if text if text is not None else isinstance(message, str):
            self.protocol.send_text(data)
        else:
            self.protocol.send_binary(data)
        self._write()
        if self._paused:
            await self._drained()

    async def ping(self) -> Awaitable[float]:
        """Send a ping; the awaitable returned gives the seconds its pong took."""
        if self.protocol.state is not State.OPEN:
            raise self.protocol.close_exc
        data = os.urandom(4)
        while data in self._pings:
            data = os.urandom(4)
        pong: asyncio.Future[float] = self._loop.create_future()
        self._pings[data] = (pong, self._loop.time())
        self.protocol.send_ping(data)
        self._write()
        return pong

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake and wait until the connection is closed."""
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code, reason)
            self._write()
            self._expect_close()
        elif self.protocol.state is State.CONNECTING:
            self.transport.abort()
        await asyncio.shield(self._lost)

    # The handshake and the handler -----------------------------------------------------

    async def _open(self, request: Request) -> None:
        self.request = request
        server = self._server
        try:
            response = await server.process_request(self, request)
        except Exception:
            logger.exception("checking a WebSocket upgrade failed")
            response = self.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error\n")
        if response is None:
            response = self.protocol.accept(request)
        if response.status_code == HTTPStatus.SWITCHING_PROTOCOLS and not server.serving:
            response = self.respond(HTTPStatus.SERVICE_UNAVAILABLE, "server shutting down\n")
        response.headers["Server"] = server.server_header
        if self.protocol.state is not State.CONNECTING:  # dropped meanwhile
            return
        self._cancel_timer()
        self.protocol.send_response(response)
        self._write()
        self._expect_close()
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:  # refused: closing
            return
        try:
            await server.handler(self)
        except ConnectionClosed:
            pass
        except Exception:
            logger.exception("a WebSocket connection's handler failed")
            await self.close(INTERNAL_ERROR, "internal error")
        else:
            await self.close()

    def _open_timed_out(self) -> None:
        self._timer = None
        if self.protocol.state is State.CONNECTING:
            self.transport.abort()

    # Writing ---------------------------------------------------------------------------

    def _write(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():  # the end: half-closed after the data
                self.transport.write_eof()
            else:  # TLS: closed after the data
                self.transport.close()

    def _expect_close(self) -> None:
        """The peer is to close the connection now: it is cut if it does not in time."""
        if self.protocol.close_expected() and self._timer is None and not self._lost.done():
            self._timer = self._loop.call_later(self._server.close_timeout, self.transport.abort)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _drained(self) -> None:
        waiter = self._loop.create_future()
        self._drain_waiters.append(waiter)
        try:
            await waiter
        finally:
            self._drain_waiters.remove(waiter)

    # asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._server.connections.add(self)
        self._timer = self._loop.call_later(self._server.open_timeout, self._open_timed_out)

    def data_received(self, data: bytes) -> None:
        protocol = self.protocol
        protocol.receive_data(data)
        events = protocol.events_received()
        self._write()  # what the protocol answers by itself: pongs, closes
        self._expect_close()
        for event in events:
            if isinstance(event, Frame):
                self._received(event)
            elif isinstance(event, Request):
                self._server.run(self._open(event))

    def _received(self, frame: Frame) -> None:
        opcode = frame.opcode
        data = frame.data if isinstance(frame.data, bytes) else bytes(frame.data)
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY or opcode is Opcode.CONT:
            if not frame.fin:
                self._fragments.append(data)
                return
            if self._fragments:
                self._fragments.append(data)
                data = b"".join(self._fragments)
                self._fragments = []
            self._messages.put(data)
        elif opcode is Opcode.PONG:
            self._acknowledge(data)

    def _acknowledge(self, data: bytes) -> None:
        """A pong answers its ping and, as the protocol allows, every ping before it."""
        if data not in self._pings:
            return
        now = self._loop.time()
        while self._pings:
            key, (pong, sent) = next(iter(self._pings.items()))
            del self._pings[key]
            if not pong.done():
                pong.set_result(now - sent)
            if key == data:
                break

    def eof_received(self) -> None:
        self.protocol.receive_eof()
        self.protocol.events_received()
        self._write()

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.receive_eof()  # idempotent: the state is CLOSED after it
        self._cancel_timer()
        self._server.connections.discard(self)
        self._lost.set_result(None)
        self._messages.put(None)
        closed: ConnectionClosed = self.protocol.close_exc
        for pong, _ in self._pings.values():
            if not pong.done():
                pong.set_exception(closed)
                pong.exception()  # retrieved: a ping nobody waits for is no error to log
        self._pings.clear()
        self.resume_writing()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)
