"""The null responder: parses each frame and answers a canned CALLRESULT, as its own process.

It does the least an OCPP server can do (WebSocket, JSON parse, one reply per CALL) so
that, driven by the same load generator, it shows the generator's own ceiling on this
machine: a figure no server can beat here. Its cyclic garbage collector is off: with
10,000 connections a full collection pauses a process for hundreds of milliseconds, and
that pause would be put on the generator.

Run: ``.venv/bin/python -m benchmarks.null_csms --port 9200``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
from contextlib import suppress

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

_ACCEPTED = '{"idTagInfo":{"status":"Accepted"}}'
CANNED: dict[str, str] = {
    "BootNotification": (
        '{"currentTime":"2026-01-01T00:00:00Z","interval":300,"status":"Accepted"}'
    ),
    "Heartbeat": '{"currentTime":"2026-01-01T00:00:00Z"}',
    "StatusNotification": "{}",
    "MeterValues": "{}",
    "Authorize": _ACCEPTED,
    "StartTransaction": '{"transactionId":1,"idTagInfo":{"status":"Accepted"}}',
    "StopTransaction": _ACCEPTED,
}


async def _handle(connection: ServerConnection) -> None:
    with suppress(ConnectionClosed):  # the generator drops its connections at the end
        await _answer(connection)


async def _answer(connection: ServerConnection) -> None:
    async for message in connection:
        frame = json.loads(message)
        if frame[0] != 2:
            continue
        payload = CANNED.get(frame[2])
        if payload is None:
            reply = json.dumps([4, frame[1], "NotImplemented", "", {}])
        else:
            reply = f"[3,{json.dumps(frame[1])},{payload}]"
        await connection.send(reply)


async def main(host: str, port: int, ping_interval: float | None) -> None:
    async with serve(
        _handle,
        host,
        port,
        subprotocols=[Subprotocol("ocpp1.6")],
        compression=None,
        ping_interval=ping_interval,
        max_size=262_144,
    ) as server:
        print(f"listening on {host}:{port}", flush=True)
        await server.serve_forever()


def _run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ping-interval", type=float, default=60.0, help="0 disables pings")
    args = parser.parse_args()
    gc.disable()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        asyncio.run(main(args.host, args.port, args.ping_interval or None))
    else:
        uvloop.run(main(args.host, args.port, args.ping_interval or None))


if __name__ == "__main__":
    _run()
