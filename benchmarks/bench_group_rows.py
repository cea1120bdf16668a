"""A commit group's writes on PostgreSQL: one statement against an executemany per kind.

Run: `.venv/bin/python -m benchmarks.bench_group_rows [--admin-url URL] [--groups N]
[--size N] [--rounds N]`. Prints JSON.

Each group is what a group of MeterValues writes: a message log row per CALL (its
frame, a few hundred bytes of escaped JSON) and four meter samples. ``group_statement``
writes them as the dispatcher does (``group_scope``: one statement for the group, its
rows in one JSON parameter); the baseline writes the same rows as one ``executemany``
per kind, the conventional batch (what SQLite's groups do). Both commit each group.
Measured, in alternating rounds on one throwaway database: the CPU time of the
PostgreSQL backend (from ``/proc``, so PostgreSQL must run on this machine) and of this
process, per CALL; the medians and their ratios (group statement ÷ baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from benchmarks.bench_load import DEFAULT_ADMIN_URL, ThrowawayDatabase, cpu_seconds
from chargegrid.storage.engine import Database
from chargegrid.storage.group_scope import BlindWrite, group_scope, write_later
from chargegrid.storage.migrate import upgrade
from chargegrid.storage.tables import message_log, meter_samples

MESSAGES = BlindWrite.insert(message_log)
SAMPLES = BlindWrite.insert(meter_samples)
START = datetime(2026, 1, 1, tzinfo=UTC)
MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage")
Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]
Write = Callable[[AsyncConnection, Rows], Awaitable[None]]


def group_rows(group: int, size: int) -> Rows:
    """The message log rows and meter samples of ``size`` MeterValues."""
    at = START + timedelta(seconds=group)
    messages: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    for call in range(size):
        charger = f"BENCH-{call:05d}"
        values = [
            {
                "value": f"{1000 + group}.5",
                "measurand": m,
                "unit": "Wh",
                "context": "Sample.Periodic",
            }
            for m in MEASURANDS
        ]
        payload = {
            "connectorId": 1,
            "transactionId": group * size + call,
            "meterValue": [{"timestamp": at.isoformat(), "sampledValue": values}],
        }
        messages.append(
            {
                "charger_id": charger,
                "direction": "in",
                "unique_id": f"{group}-{call}",
                "action": "MeterValues",
                "payload": json.dumps(payload),
                "response": "{}",
                "error_code": None,
                "error_description": None,
                "received_at": at,
                "answered_at": at + timedelta(milliseconds=20),
                "latency_ms": 20.0,
            }
        )
        samples.extend(
            {
                "charger_id": charger,
                "transaction_pk": group * size + call,
                "evse_id": 1,
                "connector_id": 1,
                "sampled_at": at,
                "measurand": measurand,
                "phase": None,
                "unit": "Wh",
                "context": "Sample.Periodic",
                "location": None,
                "value": 1000.5 + group,
                "signed_data": None,
            }
            for measurand in MEASURANDS
        )
    return messages, samples


async def group_statement(conn: AsyncConnection, rows: Rows) -> None:
    async with group_scope(conn):
        for row in rows[0]:
            await write_later(conn, MESSAGES, row)
        for row in rows[1]:
            await write_later(conn, SAMPLES, row)


async def executemany_per_kind(conn: AsyncConnection, rows: Rows) -> None:
    await MESSAGES.one["postgresql"].execute_many(conn, rows[0])
    await SAMPLES.one["postgresql"].execute_many(conn, rows[1])


async def _round(
    conn: AsyncConnection, backend: int, write: Write, batches: Sequence[Rows]
) -> tuple[float, float]:
    """CPU seconds of the backend and of this process for writing ``batches``."""
    server, client = cpu_seconds(backend), time.process_time()
    for rows in batches:
        await conn.begin()
        await write(conn, rows)
        await conn.commit()
    return cpu_seconds(backend) - server, time.process_time() - client


async def measure(url: str, *, groups: int, size: int, rounds: int) -> dict[str, Any]:
    await upgrade(url)
    db = Database(url)
    writes: dict[str, Write] = {
        "group_statement": group_statement,
        "executemany_per_kind": executemany_per_kind,
    }
    spent: dict[str, list[tuple[float, float]]] = {name: [] for name in writes}
    try:
        async with db.writer() as conn:
            backend = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await conn.commit()
            batch = 0
            for _ in range(rounds + 1):  # the first round warms up: not counted
                for name, write in writes.items():
                    batches = [group_rows(batch + i, size) for i in range(groups)]
                    batch += groups
                    spent[name].append(await _round(conn, backend, write, batches))
    finally:
        await db.dispose()
    calls = groups * size
    result: dict[str, Any] = {"groups_per_round": groups, "calls_per_group": size}
    for name, figures in spent.items():
        counted = figures[1:]
        result[f"{name}_postgres_us_per_call"] = round(
            statistics.median(server for server, _ in counted) / calls * 1e6, 1
        )
        result[f"{name}_client_us_per_call"] = round(
            statistics.median(client for _, client in counted) / calls * 1e6, 1
        )
    for side in ("postgres", "client"):
        ours = result[f"group_statement_{side}_us_per_call"]
        baseline = result[f"executemany_per_kind_{side}_us_per_call"]
        result[f"{side}_ratio"] = round(ours / baseline, 2) if baseline else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--groups", type=int, default=100, help="groups per round")
    parser.add_argument("--size", type=int, default=16, help="MeterValues per group")
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    database = ThrowawayDatabase(options.admin_url)
    database.create()
    try:
        result = asyncio.run(
            measure(database.url, groups=options.groups, size=options.size, rounds=options.rounds)
        )
    finally:
        database.drop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
