"""``chargegrid sim``: run a fleet of simulated chargers against a CSMS."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

from chargegrid.simulator.backoff import BackOff
from chargegrid.simulator.evse import DEFAULT_TOKENS
from chargegrid.simulator.fleet import VERSIONS, Fleet, FleetConfig


def _range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        values = float(low), float(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or a range A-B") from None
    if values[0] < 0 or values[1] < values[0]:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range of positive numbers")
    return values


_RANGE = re.compile(r"\{(\d+)-(\d+)\}")
MAX_TOKENS = 1_000_000


def tokens(text: str) -> tuple[str, ...]:
    """Comma-separated id tokens; ``TAG-{1-500}`` stands for TAG-1 ... TAG-500."""
    found: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        match = _RANGE.search(item)
        if match is None:
            found += [item] if item else []
            continue
        low, high = int(match[1]), int(match[2])
        if high < low or high - low >= MAX_TOKENS:
            raise argparse.ArgumentTypeError(f"{item!r}: a range must go up, {MAX_TOKENS} at most")
        head, tail = item[: match.start()], item[match.end() :]
        found += [f"{head}{n}{tail}" for n in range(low, high + 1)]
    if not found:
        raise argparse.ArgumentTypeError("at least one id token is needed")
    return tuple(found)


def add_parser(subparsers: Any) -> None:
    """Add the ``sim`` command to the ``chargegrid`` command line."""
    sim: argparse.ArgumentParser = subparsers.add_parser(
        "sim", help="simulate chargers (OCPP 1.6J and 2.0.1) against a CSMS"
    )
    sim.add_argument("--url", required=True, help="CSMS URL, e.g. ws://127.0.0.1:9000/ocpp")
    sim.add_argument("--count", type=int, default=1, help="chargers (default 1)")
    sim.add_argument("--version", choices=VERSIONS, default="1.6", help="OCPP version or mix")
    sim.add_argument("--id-prefix", default="SIM", help="charger ids are PREFIX-00001...")
    sim.add_argument("--first", type=int, default=1, help="number of the first charger")
    sim.add_argument("--password", help="Basic auth password of every charger")
    sim.add_argument("--tls-ca", help="CA certificate (PEM) that signed the CSMS certificate")
    sim.add_argument("--cert", help="client certificate (PEM); {id} stands for the charger id")
    sim.add_argument("--key", help="key of the client certificate; {id} as in --cert")
    sim.add_argument("--organization", help="O in the CSRs the chargers send")
    sim.add_argument(
        "--meter-interval", type=float, default=60.0, help="seconds between meter values"
    )
    sim.add_argument(
        "--session-rate", type=float, default=1.0, help="sessions per charger per hour"
    )
    sim.add_argument(
        "--session-minutes",
        type=_range,
        default=(20.0, 120.0),
        help="how long an EV stays plugged in, minutes (A or A-B; default 20-120)",
    )
    sim.add_argument(
        "--id-tokens",
        type=tokens,
        default=DEFAULT_TOKENS,
        help="the drivers' id tokens, comma-separated; TAG-{1-5000} stands for TAG-1 ... "
        "TAG-5000 (a driver charges at one place at a time: give a fleet enough of them)",
    )
    sim.add_argument("--evses", type=_range, default=(1.0, 4.0), help="EVSEs per charger (A-B)")
    sim.add_argument("--fault-rate", type=float, default=0.01, help="faults per EVSE per hour")
    sim.add_argument("--connect-rate", type=float, default=200.0, help="new connections/s")
    sim.add_argument("--call-timeout", type=float, default=30.0, help="seconds for an answer")
    sim.add_argument(
        "--backoff",
        type=float,
        nargs=3,
        metavar=("MIN", "RANGE", "REPEATS"),
        default=(3.0, 10.0, 5),
        help="reconnection back-off: wait minimum (s), random range (s), doublings",
    )
    sim.add_argument("--seed", type=int, help="random seed (repeatable fleets)")
    sim.add_argument("--duration", type=float, help="stop after this many seconds")
    sim.add_argument(
        "--stats-interval", type=float, default=10.0, help="seconds between stats lines (0: none)"
    )
    sim.add_argument("--ground-truth", type=Path, help="write every session as JSON here at exit")
    sim.add_argument("--log-level", default="WARNING", help="Python logging level")


def config_of(args: argparse.Namespace) -> FleetConfig:
    minutes: tuple[float, float] = args.session_minutes
    evses: tuple[float, float] = args.evses
    wait, spread, repeats = args.backoff
    return FleetConfig(
        url=args.url,
        count=args.count,
        version=args.version,
        id_prefix=args.id_prefix,
        first=args.first,
        password=args.password,
        tls_ca=args.tls_ca,
        cert=args.cert,
        key=args.key,
        meter_interval=args.meter_interval,
        session_rate=args.session_rate,
        session_duration=(minutes[0] * 60, minutes[1] * 60),
        id_tokens=args.id_tokens,
        evses=(int(evses[0]), int(evses[1])),
        fault_rate=args.fault_rate,
        call_timeout=args.call_timeout,
        connect_rate=args.connect_rate,
        backoff=BackOff(wait, spread, int(repeats)),
        organization=args.organization,
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    """Run ``chargegrid sim`` until Ctrl-C, SIGTERM or ``--duration``."""
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = config_of(args)
    except ValueError as error:
        print(f"chargegrid sim: {error}", file=sys.stderr)
        return 2
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    fleet = asyncio.run(simulate(config, args.duration, args.stats_interval))
    if args.ground_truth is not None:
        write_ground_truth(fleet, args.ground_truth)
    return 0


def write_ground_truth(fleet: Fleet, path: Path) -> None:
    """Every session of the fleet as a JSON array (energy_wh included)."""
    rows = [{**dataclasses.asdict(r), "energy_wh": r.energy_wh} for r in fleet.ground_truth()]
    path.write_bytes(msgspec.json.encode(rows))


async def simulate(
    config: FleetConfig,
    duration: float | None,
    stats_interval: float,
) -> Fleet:
    fleet = Fleet(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    reporter = asyncio.create_task(_report(fleet, stats_interval, stop))
    started = time.monotonic()
    await fleet.run(stop)
    await reporter
    records = fleet.ground_truth()
    done = [r for r in records if r.energy_wh is not None]
    summary = {
        **fleet.stats.snapshot(),
        "seconds": round(time.monotonic() - started, 1),
        "sessions": len(records),
        "sessions_ended": len(done),
        "energy_kwh": round(sum(r.energy_wh or 0 for r in done) / 1000, 3),
    }
    print(json.dumps(summary), flush=True)
    return fleet


async def _report(fleet: Fleet, interval: float, stop: asyncio.Event) -> None:
    if interval <= 0:
        return
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        stats = fleet.stats.snapshot()
        line = " ".join(f"{k}={v}" for k, v in stats.items())
        print(line, file=sys.stderr, flush=True)
