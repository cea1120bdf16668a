"""Reconnect storm: restart ``chargegrid serve`` under N connected chargers mid-session.

Run: ``.venv/bin/python -m benchmarks.bench_storm [--chargers 5000] [--quick]``. Prints
JSON on stdout (progress on stderr) and writes it to ``benchmarks/results/storm.json``
(``--quick``: only with ``--output``).

N simulated chargers (``chargegrid.simulator``, both OCPP versions, in this process)
connect to ``chargegrid serve`` on a throwaway PostgreSQL database and boot. Every one
then starts a session on its first EVSE. While the sessions run, the server is stopped
(SIGTERM) and a new process is started on the same database and port. The chargers
reconnect with their RetryBackOff (the random part spreads the storm) and boot again;
the transaction messages they queued meanwhile are delivered in order. The run reports
how long it took until every charger was connected and booted again, and then compares
every session's ground truth (what the simulator reported) with the operator API:
status, meter start and stop, energy, and the number of transaction messages recorded.

Chargers are registered by inserting their rows, as in ``benchmarks.bench_load``: one
shared PBKDF2 hash, security profile 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_load import (
    DEFAULT_ADMIN_URL,
    PASSWORD,
    ServerProcess,
    ThrowawayDatabase,
    free_port,
    register,
    rss_kib,
    start_server,
)
from chargegrid.domain.clock import SystemClock
from chargegrid.domain.services.access import Role, create_token
from chargegrid.simulator import BackOff, Fleet, FleetConfig, SessionRecord
from chargegrid.storage.engine import Database

RESULTS = Path(__file__).with_name("results") / "storm.json"
RECONNECT_LIMIT_S = 60.0


def log(message: str) -> None:
    print(f"[bench_storm {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Options:
    chargers: int
    meter_interval: float
    session_s: float
    restart_after_s: float
    connect_rate: float
    backoff: BackOff
    admin_url: str
    output: Path | None


async def wait_until(condition: Callable[[], bool], what: str, within: float) -> float:
    """Seconds until ``condition`` held; raises when it did not within ``within``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise TimeoutError(f"not {what} within {within:.0f} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def settled(count: Callable[[], int], quiet_s: float = 5.0) -> Callable[[], bool]:
    """A condition: ``count()`` is above 0 and has not changed for ``quiet_s`` seconds."""
    last = [count(), time.monotonic()]

    def check() -> bool:
        now, value = time.monotonic(), count()
        if value != last[0]:
            last[:] = [value, now]
        return value > 0 and now - last[1] >= quiet_s

    return check


def serve_command(ocpp_port: int, http_port: int) -> list[str]:
    return [
        str(Path(sys.executable).with_name("chargegrid")),
        "serve",
        "--host",
        "127.0.0.1",
        "--ocpp-port",
        str(ocpp_port),
        "--http-port",
        str(http_port),
    ]


async def api_token(url: str) -> str:
    db = Database(url)
    try:
        async with db.begin() as conn:
            return await create_token(conn, role=Role.VIEWER, now=SystemClock().now())
    finally:
        await db.dispose()


async def stored_transactions(http_url: str, token: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every transaction the API knows, by (charger id, transaction id)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"{http_url}/api/v1", headers=headers) as api:
        offset = 0
        while True:
            response = await api.get("/transactions", params={"limit": 1000, "offset": offset})
            response.raise_for_status()
            page = response.json()
            for item in page["items"]:
                found[item["charger_id"], item["transaction_id"]] = item
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return found


async def event_counts(
    http_url: str, token: str, pks: Sequence[int], concurrency: int = 8
) -> dict[int, int]:
    """How many transaction messages the API recorded for each transaction."""
    headers = {"Authorization": f"Bearer {token}"}
    counts: dict[int, int] = {}
    queue = list(pks)
    async with httpx.AsyncClient(base_url=f"{http_url}/api/v1", headers=headers) as api:

        async def worker() -> None:
            while queue:
                pk = queue.pop()
                response = await api.get(f"/transactions/{pk}/events", params={"limit": 1})
                response.raise_for_status()
                counts[pk] = int(response.json()["total"])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts


def compare(
    records: Sequence[SessionRecord],
    stored: dict[tuple[str, str], dict[str, Any]],
    events: dict[int, int],
) -> dict[str, Any]:
    """Where the API differs from the simulator's ground truth (empty lists: nowhere)."""
    missing: list[str] = []
    different: list[dict[str, Any]] = []
    for record in records:
        key = (record.charger_id, record.transaction_id or "")
        transaction = stored.get(key)
        if transaction is None:
            missing.append(f"{key[0]}/{key[1]}")
            continue
        expected = {
            "status": "completed",
            "meter_start_wh": record.meter_start_wh,
            "meter_stop_wh": record.meter_stop_wh,
            "energy_wh": record.energy_wh,
            "events": record.messages,
        }
        actual = {name: transaction.get(name) for name in expected if name != "events"}
        actual["events"] = events.get(transaction["id"])
        if actual != expected:
            different.append({"transaction": key, "expected": expected, "actual": actual})
    return {"missing": missing, "different": different[:20], "different_count": len(different)}


async def storm(options: Options) -> dict[str, Any]:
    database = ThrowawayDatabase(options.admin_url)
    ocpp_port, http_port = free_port(), free_port()
    config = FleetConfig(
        url=f"ws://127.0.0.1:{ocpp_port}/ocpp",
        count=options.chargers,
        version="mix",
        id_prefix="STORM",
        password=PASSWORD,
        meter_interval=options.meter_interval,
        session_rate=0.0,
        id_tokens=("STORM-SPARE-TOKEN",),
        evses=(1, 2),
        fault_rate=0.0,
        connect_rate=options.connect_rate,
        backoff=options.backoff,
        seed=5,
    )
    fleet = Fleet(config)
    tokens = {charger_id: f"{charger_id}-TOKEN" for charger_id in fleet.charger_ids}
    log(f"database {database.name}: registering {options.chargers} chargers")
    await asyncio.to_thread(database.create)
    server: ServerProcess | None = None
    stop = asyncio.Event()
    running: asyncio.Task[None] | None = None
    env = {
        "CHARGEGRID_DATABASE_URL": database.url,
        "CHARGEGRID_LOG_LEVEL": "WARNING",
        "CHARGEGRID_AUTO_REGISTER": "false",
    }
    command = serve_command(ocpp_port, http_port)
    try:
        await register(database.url, fleet.charger_ids, list(tokens.values()))
        token = await api_token(database.url)
        server = start_server("chargegrid", command, ocpp_port, env)
        await server.wait_ready()
        running = asyncio.create_task(fleet.run(stop))
        ramp_s = await wait_until(
            lambda: fleet.stats.booted == options.chargers, "all booted", within=600
        )
        log(f"{options.chargers} chargers connected and booted in {ramp_s:.1f} s")
        rss_before = rss_kib(server.pid)
        for charger in fleet:
            id_token = tokens[charger.charger_id]
            assert charger.plug_in(1, id_token=id_token, duration=options.session_s), charger
        started_s = await wait_until(settled(lambda: len(fleet.ground_truth())), "settled", 300)
        log(f"{len(fleet.ground_truth())} sessions started {started_s:.1f} s after the plug-ins")
        await asyncio.sleep(options.restart_after_s)
        calls_before = fleet.stats.calls_answered
        connects_before = fleet.stats.connects
        log("restarting the server")
        restarted = time.monotonic()
        await server.stop()
        down_s = time.monotonic() - restarted
        server = start_server("chargegrid", command, ocpp_port, env)
        await server.wait_ready()
        listening_s = time.monotonic() - restarted

        def all_back() -> bool:
            stats = fleet.stats
            return (
                stats.connects - connects_before >= options.chargers
                and stats.connected == options.chargers
                and stats.booted == options.chargers
            )

        back_s = await wait_until(all_back, "all reconnected and booted", within=300)
        back_s += listening_s
        log(f"all {options.chargers} reconnected and booted {back_s:.1f} s after the restart")
        await wait_until(
            lambda: all(r.complete for r in fleet.ground_truth()),
            "every session ended and delivered",
            within=options.session_s + 300,
        )
        calls_after = fleet.stats.calls_answered
        stats = fleet.stats.snapshot()
        stop.set()
        await running
        running = None
        records = fleet.ground_truth()
        http_url = f"http://127.0.0.1:{http_port}"
        stored = await stored_transactions(http_url, token)
        pks = [t["id"] for t in stored.values()]
        events = await event_counts(http_url, token, pks)
        differences = compare(records, stored, events)
        rss_after = rss_kib(server.pid)
    finally:
        stop.set()
        if running is not None:
            await asyncio.gather(running, return_exceptions=True)
        if server is not None:
            await server.stop()
        await asyncio.to_thread(database.drop)
    lost = len(differences["missing"]) + differences["different_count"]
    return {
        "chargers": options.chargers,
        "ramp_s": round(ramp_s, 1),
        "server_stop_s": round(down_s, 1),
        "server_listening_s": round(listening_s, 1),
        "reconnected_and_booted_s": round(back_s, 1),
        "reconnect_limit_s": RECONNECT_LIMIT_S,
        "reconnected_in_time": back_s <= RECONNECT_LIMIT_S,
        # A plug-in whose Authorize was in flight when the server stopped is decided by
        # the charger's local cache, which rejects a token it has never seen: no session.
        "plug_ins": options.chargers,
        "sessions": len(records),
        "transaction_messages": sum(r.messages for r in records),
        "sessions_lost_or_different": lost,
        "tx_messages_dropped_by_chargers": stats["tx_dropped"],
        "calls_answered_after_restart": calls_after - calls_before,
        "server_rss_mib_before": round(rss_before / 1024, 1),
        "server_rss_mib_after": round(rss_after / 1024, 1),
        "differences": differences,
        "simulator": stats,
        "settings": {
            "meter_interval_s": options.meter_interval,
            "session_s": options.session_s,
            "restart_after_s": options.restart_after_s,
            "connect_rate_per_s": options.connect_rate,
            "backoff": {
                "wait_minimum_s": options.backoff.wait_minimum,
                "random_range_s": options.backoff.random_range,
                "repeat_times": options.backoff.repeat_times,
            },
            "versions": "mix (1.6 and 2.0.1 alternating)",
            "stop": "SIGTERM (graceful), then a new process on the same database and port",
        },
    }


def _options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 chargers, short sessions")
    parser.add_argument("--chargers", type=int, help="simulated chargers (5000)")
    parser.add_argument("--meter-interval", type=float, help="seconds between meter values")
    parser.add_argument("--session", type=float, help="session length in seconds")
    parser.add_argument("--restart-after", type=float, help="seconds into the sessions")
    parser.add_argument("--connect-rate", type=float, default=500.0, help="chargers a second")
    parser.add_argument(
        "--backoff",
        default="3,10,5",
        help="RetryBackOff: wait minimum, random range (seconds), repeat times",
    )
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL admin URL")
    parser.add_argument("--output", type=Path, help="JSON file to write")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    wait, spread, repeats = (float(v) for v in args.backoff.split(","))
    return Options(
        chargers=args.chargers or (100 if quick else 5_000),
        meter_interval=args.meter_interval or (1.0 if quick else 15.0),
        session_s=args.session or (12.0 if quick else 90.0),
        restart_after_s=args.restart_after or (2.0 if quick else 20.0),
        connect_rate=args.connect_rate,
        backoff=BackOff(wait, spread, int(repeats)),
        admin_url=args.admin_url,
        output=args.output if args.output or quick else RESULTS,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = _options(argv)
    import uvloop

    summary = uvloop.run(storm(options))
    text = json.dumps(summary, indent=2)
    print(text)
    if options.output is not None:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text + "\n")
    ok = summary["reconnected_in_time"] and summary["sessions_lost_or_different"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
