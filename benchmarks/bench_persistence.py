"""Persisting inbound CALLs: the full dispatcher path against a bare durable write.

Run: `.venv/bin/python -m benchmarks.bench_persistence [--database-url URL] [--count N]`.
Prints JSON. For each message kind it reports µs per CALL through `Dispatcher`
(replay check, handler, message log, commit) and, in the same run on the same database,
the baseline: one transaction that only inserts the raw frame into the message log,
the least any system that acknowledges after a durable write must do. The ratio
(ours ÷ baseline) is what all the rest of the processing costs. ``chargegrid_cpu_us_per_call``
is the CPU time (user and system) of this process per CALL through the dispatcher.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chargegrid.config import Settings
from chargegrid.domain.clock import SystemClock
from chargegrid.domain.model import Direction, IdTokenStatus, MessageRecord
from chargegrid.domain.services import chargers, id_tokens, messages
from chargegrid.gateway.connection import ChargerConnection, Reply
from chargegrid.gateway.dispatch import Dispatcher
from chargegrid.metrics import Metrics
from chargegrid.ocpp.protocol import IncomingCall, OcppProtocol
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import upgrade

CHARGER = "BENCH-1"
START = datetime(2026, 1, 1, tzinfo=UTC)


class _NoTransport:
    async def send(self, message: str | bytes, *, text: bool | None = None) -> None:
        return None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        return None

    async def recv(self) -> str | bytes:
        raise ConnectionError

    async def ping(self) -> Awaitable[float]:
        raise ConnectionError


def _meter_values(n: int) -> str:
    stamp = (START + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
    values = [
        {"value": str(1000 + n), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
        {"value": "16.0", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
        {"value": "230.1", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
        {"value": "54", "measurand": "SoC", "unit": "Percent"},
    ]
    payload = {
        "connectorId": 1,
        "transactionId": 1,
        "meterValue": [{"timestamp": stamp, "sampledValue": values}],
    }
    return json.dumps([2, f"mv-{n}", "MeterValues", payload])


def _status(n: int) -> str:
    status = "Charging" if n % 2 else "SuspendedEV"
    payload = {"connectorId": 1, "errorCode": "NoError", "status": status}
    return json.dumps([2, f"st-{n}", "StatusNotification", payload])


def _heartbeat(n: int) -> str:
    return json.dumps([2, f"hb-{n}", "Heartbeat", {}])


async def _prepare(db: Database) -> None:
    now = SystemClock().now()
    async with db.begin() as conn:
        await chargers.register(conn, charger_id=CHARGER, password="bench-password-0123", now=now)
        await id_tokens.create(conn, id_token="BENCH", status=IdTokenStatus.ACCEPTED, now=now)
    frame = json.dumps(
        [
            2,
            "start",
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "BENCH",
                "meterStart": 0,
                "timestamp": "2026-01-01T00:00:00Z",
            },
        ]
    )
    await _dispatch(db, [frame])


async def _dispatch(db: Database, frames: list[str]) -> float:
    settings = Settings()
    protocol = OcppProtocol(OcppVersion.V16, max_frame_bytes=settings.ocpp_max_frame_bytes)
    dispatcher = Dispatcher(db, settings, SystemClock(), Metrics())
    connection = ChargerConnection(
        _NoTransport(),
        charger_id=CHARGER,
        version=OcppVersion.V16,
        protocol=protocol,
        sink=dispatcher,
        call_timeout=1.0,
    )
    calls = [protocol.receive(frame) for frame in frames]
    assert all(isinstance(call, IncomingCall) for call in calls)
    started = time.perf_counter()
    for call, frame in zip(calls, frames, strict=True):
        assert isinstance(call, IncomingCall)
        reply = await dispatcher.handle_inbound(connection, call, frame)
        assert isinstance(reply, Reply)
        assert reply.frame.startswith(b"[3,")
    return time.perf_counter() - started


async def _baseline(db: Database, frames: list[str]) -> float:
    clock = SystemClock()
    started = time.perf_counter()
    for n, frame in enumerate(frames):
        now = clock.now()
        async with db.begin() as conn:
            await messages.record(
                conn,
                MessageRecord(
                    charger_id=CHARGER,
                    direction=Direction.INBOUND,
                    unique_id=f"base-{n}",
                    action="Raw",
                    payload=frame,
                    received_at=now,
                ),
            )
    return time.perf_counter() - started


async def run(database_url: str, count: int) -> dict[str, object]:
    await upgrade(database_url)
    db = Database(database_url)
    try:
        await _prepare(db)
        kinds: dict[str, Callable[[int], str]] = {
            "MeterValues": _meter_values,
            "StatusNotification": _status,
            "Heartbeat": _heartbeat,
        }
        results: dict[str, object] = {}
        for name, make in kinds.items():
            frames = [make(n) for n in range(count)]
            cpu = _cpu_seconds()
            ours = await _dispatch(db, frames)
            ours_cpu = _cpu_seconds() - cpu
            base = await _baseline(db, frames)
            results[name] = {
                "chargegrid_us_per_call": round(ours / count * 1e6, 1),
                "chargegrid_cpu_us_per_call": round(ours_cpu / count * 1e6, 1),
                "baseline_us_per_call": round(base / count * 1e6, 1),
                "ratio_vs_baseline": round(ours / base, 2),
            }
        return {"database": db.dialect_name, "count": count, "results": results}
    finally:
        await db.dispose()


def _cpu_seconds() -> float:
    """User and system CPU time of this process (the database server's is not counted)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        print(json.dumps(asyncio.run(run(url, args.count)), indent=2))


if __name__ == "__main__":
    main()
