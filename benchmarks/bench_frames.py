"""Parse + validate typical OCPP 1.6 frames: `OcppProtocol.receive` against the `ocpp` library.

Run: `.venv/bin/python -m benchmarks.bench_frames`. Prints JSON: µs per message for each
implementation and the ratio baseline ÷ ours, measured in the same run. The baseline is the
PyPI `ocpp` package's own path, `ocpp.messages.unpack` + `validate_payload` (jsonschema),
with its thread-pool hop switched off so that only parsing and validation are timed.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import ocpp.messages

from chargegrid.ocpp import IncomingCall, OcppProtocol, OcppVersion

ROUNDS = 5  # best of
ROUND_SECONDS = 0.08  # per round, per implementation, per frame


def _meter_values() -> bytes:
    measurands = [
        ("Energy.Active.Import.Register", "Wh", "12345.6", None),
        ("Power.Active.Import", "W", "7200.0", None),
        ("Current.Import", "A", "16.1", "L1"),
        ("Current.Import", "A", "16.0", "L2"),
        ("Current.Import", "A", "15.9", "L3"),
        ("Voltage", "V", "230.1", "L1-N"),
        ("Voltage", "V", "229.8", "L2-N"),
        ("Voltage", "V", "231.0", "L3-N"),
        ("SoC", "Percent", "54", None),
        ("Temperature", "Celsius", "31.5", None),
    ]
    sampled = []
    for measurand, unit, value, phase in measurands:
        item: dict[str, Any] = {
            "value": value,
            "context": "Sample.Periodic",
            "measurand": measurand,
            "location": "Outlet",
            "unit": unit,
        }
        if phase:
            item["phase"] = phase
        sampled.append(item)
    payload = {
        "connectorId": 1,
        "transactionId": 4711,
        "meterValue": [{"timestamp": "2025-03-01T12:00:00Z", "sampledValue": sampled}],
    }
    return json.dumps([2, "19223201", "MeterValues", payload]).encode()


FRAMES: dict[str, bytes] = {
    "MeterValues(10 sampled values)": _meter_values(),
    "Heartbeat": b'[2,"19223202","Heartbeat",{}]',
    "StartTransaction": json.dumps(
        [
            2,
            "19223203",
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "04E91C5A0B2F80",
                "meterStart": 12345,
                "reservationId": 42,
                "timestamp": "2025-03-01T12:00:00.000Z",
            },
        ]
    ).encode(),
}


def _best(run: Callable[[int], float]) -> float:
    """Best per-message time in µs over ROUNDS rounds of about ROUND_SECONDS each."""
    n = 1
    while run(n) < ROUND_SECONDS / 10:  # calibrate the loop count
        n *= 4
    per_round = max(1, int(n * ROUND_SECONDS / max(run(n), 1e-9)))
    return min(run(per_round) / per_round for _ in range(ROUNDS)) * 1e6


def measure_ours(frame: bytes) -> float:
    """µs per message through `OcppProtocol.receive`."""
    protocol = OcppProtocol(OcppVersion.V16, max_frame_bytes=65536)
    assert isinstance(protocol.receive(frame), IncomingCall)
    receive = protocol.receive

    def run(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            receive(frame)
        return time.perf_counter() - start

    return _best(run)


def measure_baseline(frame: bytes) -> float:
    """µs per message through `ocpp.messages.unpack` + `validate_payload`."""
    ocpp.messages.ASYNC_VALIDATION = False  # validate inline, no thread-pool hop
    unpack: Callable[[str], Any] = ocpp.messages.unpack
    validate: Callable[[Any, str], Awaitable[None]] = ocpp.messages.validate_payload
    text = frame.decode()

    async def run_async(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            await validate(unpack(text), "1.6")
        return time.perf_counter() - start

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(validate(unpack(text), "1.6"))  # warm the validator cache
        return _best(lambda n: loop.run_until_complete(run_async(n)))
    finally:
        loop.close()


def main() -> None:
    """Run every frame through both implementations and print the figures as JSON."""
    results = []
    for name, frame in FRAMES.items():
        ours = measure_ours(frame)
        baseline = measure_baseline(frame)
        results.append(
            {
                "frame": name,
                "bytes": len(frame),
                "ours_us": round(ours, 2),
                "baseline_us": round(baseline, 2),
                "ratio": round(baseline / ours, 1),
            }
        )
    report = {
        "benchmark": "ocpp16_parse_validate",
        "ours": "chargegrid.ocpp.OcppProtocol.receive (msgspec)",
        "baseline": "ocpp.messages.unpack + validate_payload (jsonschema)",
        "python": platform.python_version(),
        "msgspec": msgspec.__version__,
        "results": results,
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
