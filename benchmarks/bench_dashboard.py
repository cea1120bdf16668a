"""Server time of the dashboard's list pages on a large network.

Run: `.venv/bin/python -m benchmarks.bench_dashboard [--database-url URL] [--chargers N]
[--transactions N] [--requests N] [--keep PATH] [--output PATH]`.

Seeds a database with bulk inserts (10,000 chargers and 1,000,000 transactions by
default; a SQLite file unless ``--database-url`` names another, e.g. PostgreSQL), then
asks the real application, in this process over httpx's ASGI transport and signed in as
an admin, for each page ``--requests`` times after two warm-up requests. Prints JSON:
each page's median and p95 server time in ms, its ratio to the floor (the sign-in page,
timed in the same run: no query), and the SQL statements it ran. A database
already seeded by an earlier run (``--keep``, or the same ``--database-url``) is used as
it is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, select

from benchmarks.dashboard_seed import TARIFF_ID, Seeded, charger_id, seed, seeded, token_id
from chargegrid.api.app import create_app
from chargegrid.bus.commands import LocalCommandBus
from chargegrid.config import Settings
from chargegrid.domain.clock import SystemClock
from chargegrid.domain.services import users
from chargegrid.gateway.handlers.commands import VersionCatalog
from chargegrid.gateway.server import GatewayServer
from chargegrid.metrics import Metrics
from chargegrid.platform import Platform
from chargegrid.storage import tables
from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import upgrade

ADMIN = "bench-admin@example.com"
PASSWORD = "bench-admin-password"
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def application(db: Database) -> FastAPI:
    """The HTTP application as ``chargegrid serve`` builds it (no charger listener)."""
    settings = Settings(database_url=db.url)
    clock = SystemClock()
    bus = LocalCommandBus()
    metrics = Metrics()
    presence = GatewayServer(db, settings, clock, metrics, bus)
    platform = Platform(
        settings, clock, db, metrics, presence, commands=bus, catalog=VersionCatalog(settings)
    )
    return create_app(platform)


def pages(found: Seeded, now: datetime) -> list[str]:
    """The pages timed: every list, its filters and sorts, a deep page, an export."""
    week_from = (now - timedelta(days=14)).date().isoformat()
    week_to = (now - timedelta(days=8)).date().isoformat()
    charger = charger_id(42 % found.chargers)
    deep = max(1, found.transactions // 50 // 2)
    return [
        "/",
        "/chargers",
        "/chargers?q=CP-0004&sort=heartbeat&dir=desc",
        "/transactions",
        "/transactions?status=active",
        "/transactions?status=completed",
        "/transactions?status=completed&sort=energy&dir=desc",
        f"/transactions?charger={charger}",
        f"/transactions?token={token_id(42)}",
        f"/transactions?from={week_from}&to={week_to}",
        "/transactions?sort=stopped&dir=desc",
        f"/transactions?page={deep}",
        f"/transactions/{found.completed_pk}",
        f"/transactions/{found.active_pk}",
        f"/transactions.csv?charger={charger}",
        "/id-tokens",
        "/id-tokens?q=0042",
        "/id-tokens?status=Blocked&sort=expires",
        "/tariffs",
        f"/tariffs/{TARIFF_ID}",
        "/users",
        "/webhooks",
        "/webhooks/1",
        "/webhooks/1?state=failed",
    ]


@contextlib.asynccontextmanager
async def admin_client(app: FastAPI, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with db.begin() as conn:
        known = select(tables.users.c.id).where(tables.users.c.email == ADMIN)
        if await conn.scalar(known) is None:
            now = SystemClock().now()
            await users.create(conn, email=ADMIN, password=PASSWORD, role="admin", now=now)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as c:
        form = await c.get("/login")
        token = FORM_TOKEN.search(form.text)
        assert token is not None
        data = {"email": ADMIN, "password": PASSWORD, "csrf_token": token[1], "next": "/"}
        signed_in = await c.post("/login", data=data)
        assert signed_in.status_code == 303, signed_in.text
        yield c


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _timed(client: httpx.AsyncClient, path: str, requests: int) -> tuple[list[float], int]:
    """Two warm-up requests, then ``requests`` timed ones (ms); the size of the answer."""
    for _ in range(2):
        warm = await client.get(path)
        assert warm.status_code == 200, (path, warm.status_code, warm.text[:500])
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times, len(response.content)


def _figures(times: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
    }


async def floor(app: FastAPI, requests: int) -> dict[str, Any]:
    """The sign-in page, in the same run: a page through the same stack without a query
    (machines here are shared; the pages' ratios to it are steadier than their times)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        times, _ = await _timed(client, "/login", requests)
    return {"path": "/login", **_figures(times)}


async def time_pages(db: Database, paths: list[str], requests: int) -> dict[str, Any]:
    app = application(db)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    base = await floor(app, requests)
    results: dict[str, Any] = {"floor": base, "pages": {}}
    async with admin_client(app, db) as client:
        for path in paths:
            event.listen(db.engine.sync_engine, "before_cursor_execute", count)
            try:
                statements = 0
                times, size = await _timed(client, path, requests)
            finally:
                event.remove(db.engine.sync_engine, "before_cursor_execute", count)
            figures = _figures(times)
            results["pages"][path] = {
                **figures,
                "x_floor": round(figures["median_ms"] / base["median_ms"], 1),
                "statements": round(statements / (requests + 2)),
                "bytes": size,
            }
            print(f"{path}: {results['pages'][path]}", file=sys.stderr)
    return results


async def settle(db: Database) -> None:
    """On PostgreSQL, what autovacuum does soon after a bulk load: statistics for the
    planner and the visibility map for index-only scans. (SQLite is left as the server
    leaves it: without statistics.)"""
    if db.dialect_name != "postgresql":
        return
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM ANALYZE")


async def run(
    database_url: str, *, chargers: int, transactions: int, requests: int
) -> dict[str, Any]:
    await upgrade(database_url)
    db = Database(database_url)
    now = datetime.now(UTC)
    try:
        found = await seeded(db)
        if found is None:
            found = await seed(
                db,
                chargers=chargers,
                transactions=transactions,
                now=now,
                log=lambda line: print(line, file=sys.stderr),
            )
            await settle(db)
        return {
            "database": db.dialect_name,
            "chargers": found.chargers,
            "transactions": found.transactions,
            "seed_s": round(found.seconds, 1),
            "requests": requests,
            **await time_pages(db, pages(found, now), requests),
        }
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a SQLite file (see --keep)")
    parser.add_argument("--keep", type=Path, help="SQLite file to seed once and keep")
    parser.add_argument("--chargers", type=int, default=10_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20, help="timed requests a page")
    parser.add_argument("--output", type=Path, help="JSON file to write too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "dashboard.db"
        url = args.database_url or f"sqlite+aiosqlite:///{path}"
        result = asyncio.run(
            run(
                url,
                chargers=args.chargers,
                transactions=args.transactions,
                requests=args.requests,
            )
        )
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
