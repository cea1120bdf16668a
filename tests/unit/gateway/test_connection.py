"""``ChargerConnection`` without a socket: CALLs in order, and what happens to a queue."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable

from chargegrid.gateway.connection import ChargerConnection, Reply
from chargegrid.ocpp.protocol import (
    ErrorReply,
    IncomingCall,
    IncomingError,
    IncomingResult,
    OcppProtocol,
)
from chargegrid.ocpp.versions import OcppVersion

CLOSED = object()


class QueueTransport:
    """Frames to receive come from a queue; frames sent are kept; pings are counted, and
    answered at once if ``answers_pings``."""

    def __init__(self, *, answers_pings: bool = True) -> None:
        self.incoming: asyncio.Queue[object] = asyncio.Queue()
        self.sent: list[str | bytes] = []
        self.as_text: list[bool] = []  # of each message sent: whether a text message
        self.sending = asyncio.Event()  # set by each message sent
        self.answers_pings = answers_pings
        self.pings = 0
        self.closed_with: tuple[int, str] | None = None

    async def send(self, message: str | bytes, *, text: bool | None = None) -> None:
        self.sent.append(message)
        self.as_text.append(text if text is not None else isinstance(message, str))
        self.sending.set()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = (code, reason)
        self.incoming.put_nowait(CLOSED)

    async def ping(self) -> Awaitable[float]:
        self.pings += 1
        pong: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.answers_pings:
            pong.set_result(0.0)
        return pong

    async def recv(self) -> str | bytes:
        item = await self.incoming.get()
        if item is CLOSED:
            raise ConnectionError("closed")
        assert isinstance(item, str)
        return item


class SlowSink:
    """Handles each CALL in ``seconds``, answering with an empty payload."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.handled: list[str] = []
        self.started = asyncio.Event()

    async def handle_inbound(
        self, connection: ChargerConnection, item: IncomingCall | ErrorReply, frame: str | bytes
    ) -> Reply:
        assert isinstance(item, IncomingCall)
        self.started.set()
        await asyncio.sleep(self.seconds)
        self.handled.append(item.unique_id)
        return Reply(json.dumps([3, item.unique_id, {}]).encode())

    async def record_outbound(
        self,
        connection: ChargerConnection,
        action: str,
        unique_id: str,
        payload: bytes,
        answer: IncomingResult | IncomingError | None,
        latency_s: float,
    ) -> None:
        return None


def connection(transport: QueueTransport, sink: SlowSink) -> ChargerConnection:
    return ChargerConnection(
        transport,
        charger_id="CP",
        version=OcppVersion.V16,
        protocol=OcppProtocol(OcppVersion.V16, max_frame_bytes=65_536),
        sink=sink,
        call_timeout=1.0,
    )


def heartbeats(transport: QueueTransport, count: int) -> None:
    for n in range(count):
        transport.incoming.put_nowait(json.dumps([2, f"hb-{n}", "Heartbeat", {}]))


async def test_calls_queued_when_the_socket_closes_are_still_handled() -> None:
    transport, sink = QueueTransport(), SlowSink(0.01)
    heartbeats(transport, 5)
    transport.incoming.put_nowait(CLOSED)
    await asyncio.wait_for(connection(transport, sink).run(), 5)
    assert sink.handled == [f"hb-{n}" for n in range(5)]
    assert transport.sent == []  # nobody to answer: the stored replies wait for repeats


async def test_a_stopping_node_handles_only_the_call_in_progress() -> None:
    transport, sink = QueueTransport(), SlowSink(0.2)
    charger = connection(transport, sink)
    running = asyncio.create_task(charger.run())
    heartbeats(transport, 5)
    await sink.started.wait()
    charger.stop_processing()
    await transport.close()
    await asyncio.wait_for(running, 5)
    assert sink.handled == ["hb-0"]


async def test_replies_go_out_as_text_messages() -> None:
    # OCPP-J messages are UTF-8 JSON text; a reply is encoded as bytes, and bytes sent
    # as they are would go out as a binary message.
    transport, sink = QueueTransport(), SlowSink(0)
    charger = connection(transport, sink)
    running = asyncio.create_task(charger.run())
    heartbeats(transport, 2)
    async with asyncio.timeout(5):
        while len(transport.sent) < 2:
            transport.sending.clear()
            await transport.sending.wait()
    await transport.close()
    await asyncio.wait_for(running, 5)
    assert transport.as_text == [True, True]
