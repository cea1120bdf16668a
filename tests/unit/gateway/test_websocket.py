"""``WebSocketServer`` over real sockets, against a real client and a raw TCP one."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from http import HTTPStatus

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from chargegrid.gateway.websocket import WebSocket, WebSocketServer

Served = Callable[[WebSocket], Awaitable[None]]
Checked = Callable[[WebSocket, Request], Awaitable[Response | None]]


async def accept_all(ws: WebSocket, request: Request) -> Response | None:
    return None


class Server:
    """A ``WebSocketServer`` on a free port whose handler each test sets."""

    def __init__(self) -> None:
        self.serve: Served = self._echo
        self.check: Checked = accept_all
        self.opened: list[WebSocket] = []
        self.ws = WebSocketServer(
            self._handle,
            process_request=lambda ws, request: self.check(ws, request),
            select_subprotocol=lambda offered: (
                Subprotocol("ocpp1.6") if "ocpp1.6" in offered else None
            ),
            max_size=64,
            open_timeout=0.3,
            close_timeout=0.3,
            server_header="test-server",
        )

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.ws.port}/ocpp/CP1"

    async def _handle(self, ws: WebSocket) -> None:
        self.opened.append(ws)
        await self.serve(ws)

    @staticmethod
    async def _echo(ws: WebSocket) -> None:
        while True:
            await ws.send(await ws.recv(), text=True)

    def client(self) -> connect:
        return connect(self.url, subprotocols=[Subprotocol("ocpp1.6")], open_timeout=5)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    server = Server()
    await server.ws.listen("127.0.0.1", 0, None)
    yield server
    server.ws.close()
    await asyncio.wait_for(server.ws.wait_closed(), 5)


async def raw_upgrade(server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection upgraded by hand, which then does only what the test makes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.ws.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


async def until_eof(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it ends the connection."""
    return await asyncio.wait_for(reader.read(), 5)


async def test_messages_come_in_order_as_bytes_and_go_out_as_text(server: Server) -> None:
    received: list[bytes] = []

    async def collect(ws: WebSocket) -> None:
        for _ in range(3):
            received.append(await ws.recv())
        await ws.send(b'["caf\xc3\xa9"]', text=True)
        await ws.send(b"\x00\x01")
        await ws.recv()

    server.serve = collect
    async with server.client() as client:
        assert client.subprotocol == "ocpp1.6"
        await client.send("café")
        await client.send(b"\xff\x00")
        await client.send(["frag", "ment", "ed"])  # one message in three frames
        assert await client.recv() == '["café"]'  # a text message: a str for the client
        assert await client.recv() == b"\x00\x01"  # binary without text=True
    assert received == ["café".encode(), b"\xff\x00", b"fragmented"]


async def test_a_message_above_the_limit_closes_the_connection_1009(server: Server) -> None:
    async with server.client() as client:
        await client.send("x" * 64)
        assert await client.recv() == "x" * 64
        await client.send(["x" * 40, "x" * 40])  # too big once assembled
        with pytest.raises(ConnectionClosed):
            await client.recv()
    assert client.close_code == 1009


async def test_a_refused_upgrade_gets_its_response_and_the_server_header(server: Server) -> None:
    async def refuse(ws: WebSocket, request: Request) -> Response | None:
        assert request.path == "/ocpp/CP1"
        return ws.respond(HTTPStatus.FORBIDDEN, "not you\n")

    server.check = refuse
    with pytest.raises(InvalidStatus) as refused:
        async with server.client():
            pass
    response = refused.value.response
    assert (response.status_code, response.body) == (403, b"not you\n")
    assert response.headers["Server"] == "test-server"
    assert not server.opened


async def test_a_failing_check_answers_500_and_the_server_goes_on(server: Server) -> None:
    async def fail(ws: WebSocket, request: Request) -> Response | None:
        raise RuntimeError("broken check")

    server.check = fail
    with pytest.raises(InvalidStatus) as refused:
        async with server.client():
            pass
    assert refused.value.response.status_code == 500
    server.check = accept_all
    async with server.client() as client:
        await client.send("still here")
        assert await client.recv() == "still here"


async def test_an_accepted_upgrade_names_the_subprotocol_and_the_server(server: Server) -> None:
    async with server.client() as client:
        assert client.response is not None
        assert client.response.headers["Server"] == "test-server"
        assert client.response.headers["Sec-WebSocket-Protocol"] == "ocpp1.6"
    assert server.opened[0].subprotocol == "ocpp1.6"
    assert server.opened[0].request is not None


async def test_a_peer_silent_before_the_upgrade_is_dropped(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.ws.port)
    started = time.monotonic()
    assert await until_eof(reader) == b""
    assert 0.2 < time.monotonic() - started < 3
    writer.close()


async def test_pings_are_answered_with_their_latency(server: Server) -> None:
    latencies: list[float] = []

    async def ping_twice(ws: WebSocket) -> None:
        for _ in range(2):
            latencies.append(await (await ws.ping()))
        await ws.send("pinged")
        await ws.recv()

    server.serve = ping_twice
    async with server.client() as client:
        assert await client.recv() == "pinged"
    assert len(latencies) == 2
    assert all(0 <= latency < 5 for latency in latencies)


async def test_a_ping_unanswered_fails_when_the_connection_is_lost(server: Server) -> None:
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def ping(ws: WebSocket) -> None:
        pong = await ws.ping()
        try:
            await pong
        except ConnectionClosed as closed:
            outcome.set_result(closed)

    server.serve = ping
    reader, writer = await raw_upgrade(server)
    await reader.readexactly(6)  # the ping frame: 2 bytes of header, 4 of data
    writer.transport.abort()
    assert isinstance(await asyncio.wait_for(outcome, 5), ConnectionClosed)


async def test_closing_cuts_a_peer_that_never_answers_in_the_close_timeout(
    server: Server,
) -> None:
    closed: list[float] = []

    async def close(ws: WebSocket) -> None:
        started = time.monotonic()
        await ws.close(4000, "replaced")
        closed.append(time.monotonic() - started)
        with pytest.raises(ConnectionClosed):
            await ws.send("too late")

    server.serve = close
    reader, writer = await raw_upgrade(server)
    frame = await until_eof(reader)  # never answered, the connection is cut
    assert frame[0] == 0x88  # a close frame: FIN, opcode 8
    assert int.from_bytes(frame[2:4], "big") == 4000
    assert frame[4:] == b"replaced"
    await asyncio.sleep(0.1)
    assert len(closed) == 1
    assert 0.2 < closed[0] < 3
    writer.close()


async def test_messages_received_before_the_close_are_still_read(server: Server) -> None:
    read: list[bytes] = []
    done = asyncio.Event()

    async def read_slowly(ws: WebSocket) -> None:
        await asyncio.sleep(0.3)  # meanwhile the client sends twice and closes
        try:
            while True:
                read.append(await ws.recv())
        except ConnectionClosed:
            done.set()

    server.serve = read_slowly
    async with server.client() as client:
        await client.send("one")
        await client.send("two")
    await asyncio.wait_for(done.wait(), 5)
    assert read == [b"one", b"two"]


async def test_a_failing_handler_closes_its_connection_1011(server: Server) -> None:
    async def fail(ws: WebSocket) -> None:
        await ws.recv()
        raise RuntimeError("handler bug")

    server.serve = fail
    async with server.client() as client:
        await client.send("boom")
        with pytest.raises(ConnectionClosed):
            await client.recv()
    assert client.close_code == 1011


async def test_closing_the_server_closes_connections_1001_and_refuses_new_ones(
    server: Server,
) -> None:
    client: ClientConnection = await server.client()
    await client.send("hello")
    assert await client.recv() == "hello"
    server.ws.close()
    await asyncio.wait_for(server.ws.wait_closed(), 5)
    with pytest.raises(ConnectionClosed):
        await client.recv()
    assert client.close_code == 1001
    assert not server.ws.connections
    with pytest.raises(ConnectionRefusedError):
        await server.client()


async def test_an_upgrade_under_way_when_the_server_closes_is_answered_503(
    server: Server,
) -> None:
    checking, go_on = asyncio.Event(), asyncio.Event()

    async def slow_check(ws: WebSocket, request: Request) -> Response | None:
        checking.set()
        await go_on.wait()
        return None  # accepted, but too late

    server.check = slow_check
    opening = asyncio.create_task(server.client().__aenter__())
    await asyncio.wait_for(checking.wait(), 5)
    server.ws.close()
    go_on.set()
    with pytest.raises(InvalidStatus) as refused:
        await opening
    assert refused.value.response.status_code == 503
    await asyncio.wait_for(server.ws.wait_closed(), 5)
    assert not server.opened


async def test_a_sender_waits_while_the_peer_does_not_read(server: Server) -> None:
    """Flow control: with the peer not reading, sends wait for the socket's buffer to
    drain instead of piling up in memory; everything arrives, in order, once it reads."""
    chunk, count = 65_536, 600  # 39 MB: more than the kernel's buffers hold
    buffered: list[int] = []
    sent = asyncio.Event()

    async def flood(ws: WebSocket) -> None:
        for i in range(count):
            await ws.send(i.to_bytes(4, "big") + bytes(chunk - 4))
            buffered.append(ws.transport.get_write_buffer_size())
        sent.set()
        await ws.recv()

    server.serve = flood
    async with connect(server.url, subprotocols=[Subprotocol("ocpp1.6")], max_size=None) as client:
        await asyncio.sleep(0.5)  # not reading: the server's sends must wait
        assert not sent.is_set()
        for i in range(count):
            message = await asyncio.wait_for(client.recv(), 10)
            assert isinstance(message, bytes)
            assert int.from_bytes(message[:4], "big") == i
        await asyncio.wait_for(sent.wait(), 5)
    assert max(buffered) < 1_000_000
