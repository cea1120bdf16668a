"""The runner against a real WebSocket server on localhost: the handshake chargers make,
reconnection with back-off, and a clean close when the fleet stops."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from chargegrid.simulator import BackOff, Fleet, FleetConfig
from tests.polling import until

PASSWORD = "a-password-of-16-chars"
BOOTED = {"status": "Accepted", "currentTime": "2026-05-04T10:00:00Z", "interval": 300}


@dataclass
class Connection:
    path: str
    authorization: str | None
    subprotocol: str | None
    opened_at: float
    actions: list[str] = field(default_factory=list)
    close_code: int | None = None


@dataclass
class Csms:
    """Answers every CALL; can drop the first connection of each charger after its boot."""

    drop_first: bool = False
    connections: list[Connection] = field(default_factory=list)

    async def handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        seen = Connection(
            request.path,
            request.headers.get("Authorization"),
            ws.subprotocol,
            time.monotonic(),
        )
        first = not any(c.path == seen.path for c in self.connections)
        self.connections.append(seen)
        try:
            async for frame in ws:
                _, uid, action, _ = json.loads(frame)
                seen.actions.append(action)
                answer: dict[str, Any] = BOOTED if action == "BootNotification" else {}
                await ws.send(json.dumps([3, uid, answer]))
                if self.drop_first and first and action == "StatusNotification":
                    ws.transport.abort()
                    return
        except ConnectionClosed:
            pass
        seen.close_code = ws.close_code

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        async with serve(
            self.handle,
            "127.0.0.1",
            0,
            subprotocols=[Subprotocol("ocpp1.6"), Subprotocol("ocpp2.0.1")],
            compression=None,
        ) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            yield f"ws://127.0.0.1:{port}/ocpp"


def fleet(url: str, **more: Any) -> Fleet:
    return Fleet(
        FleetConfig(
            url=url,
            count=2,
            version="mix",
            password=PASSWORD,
            session_rate=0.0,
            fault_rate=0.0,
            evses=(1, 1),
            **more,
        )
    )


async def test_chargers_connect_as_the_csms_expects_and_leave_going_away() -> None:
    csms = Csms()
    async with csms.running() as url:
        chargers = fleet(url)
        stop = asyncio.Event()
        task = asyncio.create_task(chargers.run(stop))
        await until(lambda: chargers.stats.booted == 2)
        await until(lambda: sum(len(c.actions) for c in csms.connections) == 4)
        stop.set()
        await task
        await until(lambda: all(c.close_code is not None for c in csms.connections))
    by_path = {c.path: c for c in csms.connections}
    assert set(by_path) == {"/ocpp/SIM-00001", "/ocpp/SIM-00002"}
    first, second = by_path["/ocpp/SIM-00001"], by_path["/ocpp/SIM-00002"]
    assert (first.subprotocol, second.subprotocol) == ("ocpp1.6", "ocpp2.0.1")
    expected = "Basic " + base64.b64encode(f"SIM-00001:{PASSWORD}".encode()).decode()
    assert first.authorization == expected
    assert first.actions == ["BootNotification", "StatusNotification"]
    assert {c.close_code for c in csms.connections} == {1001}
    assert chargers.stats.connected == 0


async def test_a_lost_connection_is_made_again_after_the_back_off_without_a_boot() -> None:
    csms = Csms(drop_first=True)
    backoff = BackOff(wait_minimum=0.3, random_range=0.2, repeat_times=2)
    async with csms.running() as url:
        chargers = fleet(url, backoff=backoff)
        stop = asyncio.Event()
        task = asyncio.create_task(chargers.run(stop))
        await until(lambda: len(csms.connections) == 4)
        await until(lambda: chargers.stats.connected == 2)
        stop.set()
        await task
    for path in ("/ocpp/SIM-00001", "/ocpp/SIM-00002"):
        lost, again = [c for c in csms.connections if c.path == path]
        assert lost.actions == ["BootNotification", "StatusNotification"]
        assert again.actions == ["StatusNotification"]  # registered already
        waited = again.opened_at - lost.opened_at
        assert 0.3 <= waited <= 0.5 + 0.3  # within the back-off's bounds (plus slack)
    assert chargers.stats.disconnects == 4
