"""Load benchmark: ``chargegrid serve`` on PostgreSQL against a conventional baseline.

Run: ``.venv/bin/python -m benchmarks.bench_load [--chargers N] [--rates R,R,...]
[--rate R] [--duration S] [--quick]`` (``make bench``). Prints JSON on stdout (progress
on stderr) and writes it to ``benchmarks/results/latest.json`` (``--quick``: only with
``--output``).

Three servers, one after the other, each in its own process and driven by the same
load generator (``chargegrid.simulator.load``, in this process):

- chargegrid: ``chargegrid serve`` on a throwaway PostgreSQL database; every reply
  after its commit.
- baseline: ``benchmarks.baseline_csms``, the PyPI ``ocpp`` library's ChargePoint on
  ``websockets``, schema validation on, nothing persisted.
- null: ``benchmarks.null_csms``, parse and answer a canned reply: the generator's own
  ceiling on this machine.

Each ramps to N connected chargers (BootNotification, a transaction per connector),
then steps the target rate up; a step is held when its p99 is at most 50 ms (--p99-limit;
500 with --quick, which only proves the benchmark works on a busy machine), with no
error and at least 95% of the target rate achieved. Capacity is the highest rate held
before the first step that is not. chargegrid then runs the sustained test: ``--rate``
for ``--duration`` seconds, which gives the headline figures. The null responder runs
at each rate where a server failed, at ``--rate``, and at the highest steps: whether it
held a rate says if a failure there was the server's or the generator's. Server CPU
time and RSS come from /proc for the server process (its PostgreSQL backends and the
whole machine are reported apart).

Chargers are registered by inserting their rows directly, all with one PBKDF2 hash of
one shared password (security profile 1, Basic auth checked on every connection): the
gateway remembers a verified password per stored hash, so only the first connection
pays for PBKDF2, where hashing 10,000 distinct passwords would take minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from chargegrid.domain.passwords import hash_password
from chargegrid.simulator.load import LoadGenerator, Window
from chargegrid.storage import tables
from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import upgrade

P99_LIMIT_MS = 50.0
QUICK_P99_LIMIT_MS = 500.0  # the quick run checks the benchmark works, not the figures
RATE_SHORTFALL = 0.95
PASSWORD = "bench-load-password-0123"
RESULTS = Path(__file__).with_name("results") / "latest.json"
PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# When the server runs no autovacuum, the benchmark analyzes its database this often
# (autovacuum's default nap time).
ANALYZE_INTERVAL_S = 60.0
_CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[bench_load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- /proc ---------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICK


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (everything but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / _CLOCK_TICK


def rss_kib(pid: int) -> int:
    """Resident set size (VmRSS) of a process in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# -- PostgreSQL ----------------------------------------------------------------------


class ThrowawayDatabase:
    """A database created for one run and dropped after it."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"chargegrid_bench_{os.getpid()}_{secrets.token_hex(4)}"
        self.url = make_url(admin_url).set(database=self.name).render_as_string(False)

    def create(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )

    def analyze(self) -> None:
        """ANALYZE the tables autovacuum would analyze now: those changed by more than
        its threshold since their last ANALYZE (by default 50 rows and a tenth of the
        table). An empty table is left alone, as autovacuum leaves it: analyzed, it
        would plan every lookup in it as a sequential scan until the next. Throttled as
        autovacuum throttles its own (its default cost delay and limit): unthrottled, it
        takes a core in bursts that autovacuum would not."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SET vacuum_cost_delay = '2ms'")
            conn.execute("SET vacuum_cost_limit = 200")
            due = conn.execute(
                "SELECT s.schemaname, s.relname FROM pg_stat_user_tables s"
                " JOIN pg_class c ON c.oid = s.relid"
                " WHERE s.n_mod_since_analyze"
                " > current_setting('autovacuum_analyze_threshold')::float"
                " + current_setting('autovacuum_analyze_scale_factor')::float"
                " * greatest(c.reltuples, 0)"
            ).fetchall()
            for schema, table in due:
                conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))

    def backend_pids(self) -> list[int]:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.name,)
            ).fetchall()
        return [int(row[0]) for row in rows]


async def analyze_periodically(database: ThrowawayDatabase, interval_s: float) -> None:
    """Analyze ``database`` every ``interval_s`` as autovacuum would, until cancelled.

    Without fresh statistics, a plan that a connection caches while a table is nearly
    empty (a sequential scan) stays in use however large the table grows.
    """
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.to_thread(database.analyze)


async def _keeps_statistics(url: str) -> bool:
    db = Database(url)
    try:
        return await db.keeps_statistics()
    finally:
        await db.dispose()


def charger_ids(count: int) -> list[str]:
    """The benchmark's charger ids."""
    return [f"BENCH{i:06d}" for i in range(count)]


async def register_chargers(database: ThrowawayDatabase, options: Options) -> None:
    """Register ``options.chargers`` chargers with an id tag per connector."""
    id_tags = [
        LoadGenerator.id_tag_for(i, c)
        for i in range(options.chargers)
        for c in range(1, options.connectors + 1)
    ]
    await register(database.url, charger_ids(options.chargers), id_tags)


def chargegrid_serve(database: ThrowawayDatabase, port: int) -> tuple[list[str], dict[str, str]]:
    """The command and environment of ``chargegrid serve`` on ``database``."""
    command = [
        str(Path(sys.executable).with_name("chargegrid")),
        *("serve", "--host", "127.0.0.1", "--ocpp-port", str(port)),
        *("--http-port", str(free_port())),
    ]
    env = {
        "CHARGEGRID_DATABASE_URL": database.url,
        "CHARGEGRID_LOG_LEVEL": "WARNING",
        "CHARGEGRID_AUTO_REGISTER": "false",
    }
    return command, env


async def run_chargegrid(
    database: ThrowawayDatabase,
    options: Options,
    *,
    settings: Mapping[str, str] | None = None,
    sustained: bool,
    every_rate: bool = False,
) -> dict[str, Any]:
    """``run_target`` on ``chargegrid serve`` with ``database`` (and ``settings``: more
    environment for it), at ``options.rates``."""
    port = free_port()
    command, env = chargegrid_serve(database, port)
    return await run_target(
        "chargegrid",
        command,
        port,
        {**env, **(settings or {})},
        options,
        rates=options.rates,
        password=PASSWORD,
        database=database,
        sustained=sustained,
        every_rate=every_rate,
    )


async def register(url: str, charger_ids: Sequence[str], id_tags: Sequence[str]) -> None:
    """Migrate, then insert the chargers (one shared password hash) and their id tokens."""
    await upgrade(url)
    now = datetime.now(UTC)
    password_hash = hash_password(PASSWORD)
    chargers = [
        {
            "id": charger_id,
            "password_hash": password_hash,
            "security_profile": 1,
            "registration_status": "Accepted",
            "created_at": now,
            "updated_at": now,
        }
        for charger_id in charger_ids
    ]
    tokens = [
        {"id_token": tag, "status": "Accepted", "created_at": now, "updated_at": now}
        for tag in id_tags
    ]
    db = Database(url)
    try:
        async with db.begin() as conn:
            for table, rows in ((tables.chargers, chargers), (tables.id_tokens, tokens)):
                if rows:  # an empty list would insert one row of defaults
                    await conn.execute(table.insert(), rows)
    finally:
        await db.dispose()


# -- server processes ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A server under test, started as its own process."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    async def wait_ready(self, within_s: float = 60.0) -> None:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()
            return
        raise RuntimeError(f"{self.name} did not listen on {self.port}:\n{self.log_tail()}")

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)


def start_server(name: str, command: list[str], port: int, env: dict[str, str]) -> ServerProcess:
    """Start a server; it runs from the project directory (``python -m benchmarks...``)."""
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept for the log tail
        prefix=f"bench-{name}-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        command,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        cwd=PROJECT,
    )
    log_file.close()
    return ServerProcess(name, process, port, Path(log_file.name))


def _python_module(module: str, port: int) -> list[str]:
    return [sys.executable, "-m", module, "--port", str(port), "--ping-interval", "60"]


# -- measurement ---------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    chargers: int
    connectors: int
    rates: list[float]
    rate: float
    duration: float
    warmup: float
    step_seconds: float
    step_warmup: float
    connect_rate: float
    call_timeout: float
    admin_url: str
    output: Path | None
    quick: bool
    p99_limit_ms: float


def postgres_cpu(before: dict[int, float], pids_after: Sequence[int]) -> float:
    """CPU seconds the database's backends used since ``before`` (pid -> CPU then).

    A backend that closed in between is not counted (its last figure is gone with it), so
    this is a lower bound when the connection pool churns.
    """
    total = 0.0
    for pid in pids_after:
        now = cpu_seconds(pid)
        total += now - before.get(pid, 0.0) if now else 0.0
    return total


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def measure(
    gen: LoadGenerator,
    server: ServerProcess,
    rate: float,
    *,
    warmup: float,
    seconds: float,
    database: ThrowawayDatabase | None,
    p99_limit_ms: float,
) -> dict[str, Any]:
    """One measured window at ``rate`` after ``warmup`` seconds at it; held when its p99
    is at most ``p99_limit_ms``, without errors, at the rate asked."""
    pg_pids = await asyncio.to_thread(database.backend_pids) if database else []
    await gen.run(rate, warmup, Window())
    window = Window()
    server_cpu = cpu_seconds(server.pid)
    pg_before = {pid: cpu_seconds(pid) for pid in pg_pids}
    own_cpu = time.process_time()
    machine = machine_busy_seconds()
    started = time.perf_counter()
    await gen.run(rate, seconds, window)
    await gen.drain(window)
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(server.pid) - server_cpu
    pg_cpu = postgres_cpu(
        pg_before, await asyncio.to_thread(database.backend_pids) if database else []
    )
    own_cpu = time.process_time() - own_cpu
    machine = machine_busy_seconds() - machine
    calls = window.answered
    # Per CALL the server answered (late answers to timed-out CALLs too): under overload
    # most CALLs time out, yet the server still did their work.
    unanswered = window.errors["timeout"] + window.errors["disconnect"]
    processed = max(1, calls + window.error_count - unanswered + window.late)
    result: dict[str, Any] = {
        "target_calls_per_s": rate,
        "calls_per_s": round(calls / seconds, 1),
        "calls": calls,
        "p50_ms": _ms(window.latency.percentile(0.5)),
        "p99_ms": _ms(window.latency.percentile(0.99)),
        "p999_ms": _ms(window.latency.percentile(0.999)),
        "max_ms": _ms(window.latency.max_s),
        "errors": window.error_count,
        "error_kinds": dict(window.errors),
        "unsent": window.unsent,
        "late_replies": window.late,
        "server_cpu_s": round(server_cpu, 2),
        "cpu_us_per_call": round(server_cpu / processed * 1e6),
        "server_cpu_share": round(server_cpu / elapsed, 2),
        "postgres_cpu_us_per_call": round(pg_cpu / processed * 1e6) if database else None,
        "postgres_cpu_share": round(pg_cpu / elapsed, 2) if database else None,
        "generator_cpu_us_per_call": round(own_cpu / processed * 1e6),
        "generator_cpu_share": round(own_cpu / elapsed, 2),
        "machine_busy_cores": round(machine / elapsed, 2),
        "server_rss_mib": round(rss_kib(server.pid) / 1024, 1),
        "sent_by_action": dict(window.sent),
        "p99_ms_by_action": {
            action: _ms(latency.percentile(0.99))
            for action, latency in sorted(window.latency_by_action.items())
        },
        "p99_ms_by_second": [_ms(latency.percentile(0.99)) for latency in window.latency_by_second],
    }
    over = sum(1 for p99 in result["p99_ms_by_second"] if p99 > p99_limit_ms)
    problems = []
    if window.error_count:
        problems.append(f"{window.error_count} errors")
    if result["p99_ms"] > p99_limit_ms:
        problems.append(f"p99 {result['p99_ms']:.0f} ms > {p99_limit_ms:.0f} ms")
    if calls / seconds < RATE_SHORTFALL * rate:
        problems.append(f"achieved {calls / seconds:.0f}/s < {RATE_SHORTFALL:.0%} of target")
    result["held"] = not problems
    result["verdict"] = "held" if not problems else "; ".join(problems)
    log(
        f"{server.name} {rate:.0f}/s: {result['calls_per_s']}/s p50 {result['p50_ms']} "
        f"p99 {result['p99_ms']} max {result['max_ms']} ms, {result['errors']} errors, "
        f"server {result['cpu_us_per_call']} µs/CALL ({result['server_cpu_share']} core), "
        f"postgres {result['postgres_cpu_share']}, "
        f"generator {result['generator_cpu_share']} core, machine "
        f"{result['machine_busy_cores']}/{os.cpu_count()} cores, p99 over the limit in "
        f"{over} of {len(result['p99_ms_by_second'])} seconds: {result['verdict']}"
    )
    return result


def capacity(steps: Sequence[dict[str, Any]]) -> tuple[float, dict[str, Any] | None]:
    """The highest rate held before the first step not held, and that step's result."""
    held: dict[str, Any] | None = None
    for step in steps:
        if not step["held"]:
            break
        held = step
    return (0.0 if held is None else float(held["target_calls_per_s"])), held


async def settle(server: ServerProcess, *, busy_share: float = 0.1, within_s: float = 90) -> None:
    """Wait until the server is idle: a backlog from the last window must not leak on."""
    deadline = time.monotonic() + within_s
    before = cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = cpu_seconds(server.pid)
        if (now - before) / 0.5 < busy_share:
            return
        before = now


async def run_target(
    name: str,
    command: list[str],
    port: int,
    env: dict[str, str],
    options: Options,
    *,
    rates: Sequence[float],
    password: str | None,
    database: ThrowawayDatabase | None,
    sustained: bool,
    every_rate: bool = False,
) -> dict[str, Any]:
    """Start one server, ramp the chargers, step the rate up, then the sustained test.

    The steps stop at the first rate not held, or with ``every_rate`` go on to the last.
    """
    server = start_server(name, command, port, env)
    gen = LoadGenerator(
        f"ws://127.0.0.1:{port}/ocpp",
        charger_ids=charger_ids(options.chargers),
        password=password,
        connectors=options.connectors,
        call_timeout=options.call_timeout,
    )
    try:
        await server.wait_ready()
        rss_idle = rss_kib(server.pid)
        cpu_before_ramp = cpu_seconds(server.pid)
        log(f"{name}: ramping to {options.chargers} chargers")
        ramp = await gen.ramp(connect_rate=options.connect_rate)
        if ramp.connected == 0:
            raise RuntimeError(
                f"no charger could set up on {name} ({dict(ramp.failed)}):\n{server.log_tail()}"
            )
        gc.collect()
        gc.freeze()  # the generator's own collections must not pause the measurements
        rss_ramped = rss_kib(server.pid)
        log(
            f"{name}: {ramp.connected} connected in {ramp.seconds:.1f} s, "
            f"failures {dict(ramp.failed)}, setup errors {dict(gen.setup.errors)}, "
            f"RSS {rss_ramped / 1024:.0f} MiB"
        )
        result: dict[str, Any] = {
            "connected_after_ramp": ramp.connected,
            "ramp_s": round(ramp.seconds, 1),
            "ramp_failures": dict(ramp.failed),
            "setup_errors": dict(gen.setup.errors),
            "ramp_server_cpu_s": round(cpu_seconds(server.pid) - cpu_before_ramp, 1),
            "rss_idle_mib": round(rss_idle / 1024, 1),
            "rss_ramped_mib": round(rss_ramped / 1024, 1),
        }
        steps: list[dict[str, Any]] = []
        for rate in rates:
            await settle(server)
            steps.append(
                await measure(
                    gen,
                    server,
                    rate,
                    warmup=options.step_warmup,
                    seconds=options.step_seconds,
                    database=database,
                    p99_limit_ms=options.p99_limit_ms,
                )
            )
            if not steps[-1]["held"] and not every_rate:
                break
        result["steps"] = steps
        result["capacity_calls_per_s"], _ = capacity(steps)
        if sustained:
            await settle(server)
            log(f"{name}: sustained {options.rate:.0f}/s for {options.duration:.0f} s")
            result["sustained"] = await measure(
                gen,
                server,
                options.rate,
                warmup=options.warmup,
                seconds=options.duration,
                database=database,
                p99_limit_ms=options.p99_limit_ms,
            )
        result["connected_at_end"] = gen.connected
        result["disconnects"] = gen.disconnects
        result["server_calls"] = gen.server_calls
        return result
    finally:
        gen.close()
        await server.stop()
        with suppress(OSError):
            server.log_path.unlink()
        gc.unfreeze()


# -- summary -------------------------------------------------------------------------


def _step_at(steps: Sequence[dict[str, Any]], rate: float) -> dict[str, Any] | None:
    return next((s for s in steps if s["target_calls_per_s"] == rate), None)


def _limit(name: str, run: dict[str, Any], null: dict[str, Any] | None) -> str:
    """Which process limited a target's capacity, from its first step not held."""
    steps = run["steps"]
    failed = next((s for s in steps if not s["held"]), None)
    if failed is None:
        return f"{name}: every step held up to {run['capacity_calls_per_s']:.0f}/s (a lower bound)"
    rate = failed["target_calls_per_s"]
    shares = (
        f"server {failed['server_cpu_share']} core, generator {failed['generator_cpu_share']} "
        f"core, machine {failed['machine_busy_cores']}/{os.cpu_count()} cores busy"
    )
    if null is not None and name != "null":
        null_step = _step_at(null["steps"], rate)
        if null_step is not None and null_step["held"]:
            return (
                f"{name}: the server at {rate:.0f}/s ({failed['verdict']}; {shares}); "
                "the null responder held that rate"
            )
        return (
            f"{name}: not shown to be the server at {rate:.0f}/s ({failed['verdict']}; {shares}): "
            "the null responder did not hold that rate either"
        )
    return (
        f"{name}: the load generator and the machine at {rate:.0f}/s "
        f"({failed['verdict']}; {shares})"
    )


def summarize(
    options: Options, ours: dict[str, Any], baseline: dict[str, Any], null: dict[str, Any]
) -> dict[str, Any]:
    sustained = ours["sustained"]
    connected = ours["connected_at_end"]
    capacity_ours = ours["capacity_calls_per_s"]
    capacity_base, base_step = capacity(baseline["steps"])
    capacity_null, _ = capacity(null["steps"])
    # CPU per CALL is compared at the same rate: the highest step both held.
    common = [
        s["target_calls_per_s"]
        for s in ours["steps"]
        if s["held"]
        and (b := _step_at(baseline["steps"], s["target_calls_per_s"])) is not None
        and b["held"]
    ]
    compare_at = max(common) if common else None
    ours_at = _step_at(ours["steps"], compare_at) if compare_at is not None else None
    base_at = _step_at(baseline["steps"], compare_at) if compare_at is not None else None
    errors = (
        sum(ours["ramp_failures"].values())
        + sum(ours["setup_errors"].values())
        + sustained["errors"]
    )
    rss_kib_total = sustained["server_rss_mib"] * 1024
    summary: dict[str, Any] = {
        "benchmark": "ocpp16_load",
        "connected_chargers": connected,
        "calls_per_s": sustained["calls_per_s"],
        "p50_ms": sustained["p50_ms"],
        "p99_ms": sustained["p99_ms"],
        "p999_ms": sustained["p999_ms"],
        "max_ms": sustained["max_ms"],
        "errors": errors,
        "server_rss_mib": sustained["server_rss_mib"],
        "server_cpu_s": sustained["server_cpu_s"],
        "cpu_us_per_call": sustained["cpu_us_per_call"],
        "rss_per_charger_kib": round(rss_kib_total / max(1, connected), 1),
        "capacity_calls_per_s": capacity_ours,
        "baseline_calls_per_s": capacity_base,
        "baseline_p99_ms": None if base_step is None else base_step["p99_ms"],
        "baseline_cpu_us_per_call": None if base_at is None else base_at["cpu_us_per_call"],
        "null_calls_per_s": capacity_null,
        "capacity_ratio_vs_baseline": round(capacity_ours / capacity_base, 2)
        if capacity_base
        else None,
        "cpu_ratio_vs_baseline": round(ours_at["cpu_us_per_call"] / base_at["cpu_us_per_call"], 2)
        if ours_at and base_at
        else None,
        "cpu_compared_at_calls_per_s": compare_at,
        "target_calls_per_s": options.rate,
        "duration_s": options.duration,
        "sustained_held": sustained["held"],
        "postgres_cpu_us_per_call": sustained["postgres_cpu_us_per_call"],
        "generator_cpu_us_per_call": sustained["generator_cpu_us_per_call"],
        "rss_idle_mib": ours["rss_idle_mib"],
        "rss_increment_per_charger_kib": round(
            (rss_kib_total - ours["rss_idle_mib"] * 1024) / max(1, connected), 1
        ),
        "limits": {
            "sustained": f"{options.rate:.0f}/s for {options.duration:.0f} s: "
            f"{sustained['verdict']} (server {sustained['server_cpu_share']} core, "
            f"generator {sustained['generator_cpu_share']} core)",
            "chargegrid": _limit("chargegrid", ours, null),
            "baseline": _limit("baseline", baseline, null),
            "null": _limit("null", null, None),
        },
        "settings": {
            "chargers": options.chargers,
            "connectors_per_charger": options.connectors,
            "rates": options.rates,
            "step_s": options.step_seconds,
            "step_warmup_s": options.step_warmup,
            "connect_rate_per_s": options.connect_rate,
            "mix": "70% MeterValues (4 sampled values, in a transaction), 10% Heartbeat, "
            "10% StatusNotification, 10% StopTransaction + Authorize + StartTransaction",
            "arrivals": "Poisson, one CALL outstanding per charger",
            "p99_limit_ms": options.p99_limit_ms,
            "registration": "rows inserted directly, one shared PBKDF2 hash, profile 1",
            "statistics": "autovacuum"
            if ours.get("analyzed_every_s") is None
            else f"ANALYZE every {ours['analyzed_every_s']:.0f} s (the server's autovacuum is off)",
            "cpu_count": os.cpu_count(),
        },
        "runs": {"chargegrid": ours, "baseline": baseline, "null": null},
    }
    return summary


# -- main ----------------------------------------------------------------------------


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def null_rates(
    options: Options, ours: dict[str, Any], baseline: dict[str, Any], top_steps: int = 3
) -> list[float]:
    """The null responder's rates: each rate where a server failed and the sustained rate
    (so every failure can be put on the server or on the generator), then the ``top_steps``
    highest steps above those (the generator's own ceiling)."""
    rates = {options.rate}
    for run in (ours, baseline):
        rates |= {s["target_calls_per_s"] for s in run["steps"] if not s["held"]}
    higher = [rate for rate in options.rates if rate > max(rates)]
    return sorted(rates | set(higher[-top_steps:]))


async def bench(options: Options) -> dict[str, Any]:
    _raise_file_limit()
    database = ThrowawayDatabase(options.admin_url)
    log(f"database {database.name}: registering {options.chargers} chargers")
    await asyncio.to_thread(database.create)
    analyzer: asyncio.Task[None] | None = None
    try:
        await register_chargers(database, options)
        analyzer = (
            None
            if await _keeps_statistics(database.url)
            else asyncio.create_task(analyze_periodically(database, ANALYZE_INTERVAL_S))
        )
        ours = await run_chargegrid(database, options, sustained=True)
        ours["analyzed_every_s"] = None if analyzer is None else ANALYZE_INTERVAL_S
    finally:
        if analyzer is not None:
            analyzer.cancel()
            with suppress(asyncio.CancelledError):
                await analyzer
        await asyncio.to_thread(database.drop)
    port = free_port()
    baseline = await run_target(
        "baseline",
        _python_module("benchmarks.baseline_csms", port),
        port,
        {},
        options,
        rates=options.rates,
        password=None,
        database=None,
        sustained=False,
    )
    port = free_port()
    null = await run_target(
        "null",
        _python_module("benchmarks.null_csms", port),
        port,
        {},
        options,
        rates=null_rates(options, ours, baseline),
        password=None,
        database=None,
        sustained=False,
    )
    return summarize(options, ours, baseline, null)


def _options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred chargers, seconds")
    parser.add_argument("--chargers", type=int, help="connected chargers (10000)")
    parser.add_argument("--connectors", type=int, default=2, help="connectors per charger")
    parser.add_argument("--rates", help="rate steps in CALLs/s, comma separated")
    parser.add_argument("--rate", type=float, help="sustained test rate in CALLs/s (2000)")
    parser.add_argument("--duration", type=float, help="sustained test seconds (60)")
    parser.add_argument("--step-seconds", type=float, help="measured seconds per step (10)")
    parser.add_argument("--connect-rate", type=float, default=500.0, help="new chargers a second")
    parser.add_argument("--call-timeout", type=float, default=10.0, help="seconds")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("CHARGEGRID_TEST_POSTGRESQL_URL") or DEFAULT_ADMIN_URL,
        help="PostgreSQL maintenance database URL (a throwaway database is created there)",
    )
    parser.add_argument(
        "--p99-limit",
        type=float,
        help=f"a rate is held when its p99 is at most this, in ms ({P99_LIMIT_MS:.0f}; "
        f"--quick: {QUICK_P99_LIMIT_MS:.0f}, for a machine busy with other tests)",
    )
    parser.add_argument("--output", type=Path, help="JSON file to write")
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    default_rates = (
        "100,200" if quick else "250,500,750,1000,1500,2000,2500,3000,4000,5000,6000,8000,10000"
    )
    return Options(
        chargers=args.chargers or (200 if quick else 10_000),
        connectors=args.connectors,
        rates=[float(r) for r in (args.rates or default_rates).split(",")],
        rate=args.rate or (100.0 if quick else 2000.0),
        duration=args.duration or (2.0 if quick else 60.0),
        warmup=0.5 if quick else 5.0,
        step_seconds=args.step_seconds or (2.0 if quick else 10.0),
        step_warmup=0.5 if quick else 2.0,
        connect_rate=args.connect_rate,
        call_timeout=args.call_timeout,
        admin_url=args.admin_url,
        output=args.output if args.output or quick else RESULTS,
        quick=quick,
        p99_limit_ms=args.p99_limit or (QUICK_P99_LIMIT_MS if quick else P99_LIMIT_MS),
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = _options(argv)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        summary = asyncio.run(bench(options))
    else:
        summary = uvloop.run(bench(options))
    text = json.dumps(summary, indent=2)
    print(text)
    if options.output is not None:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
