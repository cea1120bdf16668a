"""Every dashboard page runs a fixed number of SQL statements, whatever the size of the
network it shows (no statement per row: no N+1)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete

from chargegrid.domain.clock import SystemClock
from chargegrid.storage import tables
from chargegrid.storage.engine import Database
from tests.integration.dashboard.inprocess import (
    StatementCounter,
    application,
    seed,
    signed_in_client,
)
from tests.integration.dashboard.list_data import seed_lists

PAGES = [
    "/",
    "/chargers",
    "/chargers?q=CP&status=Faulted&sort=heartbeat&dir=desc",
    "/chargers?connection=online&version=1.6&per=25&page=2",
    "/chargers/CP-0000",
    "/chargers/CP-0000/messages?direction=in",
]


async def statements_per_page(db: Database, chargers: int, per_charger: int) -> dict[str, int]:
    await seed(db, chargers, per_charger=per_charger, now=SystemClock().now())
    app = application(db)
    counter = StatementCounter(db)
    counts = {}
    async with signed_in_client(app, db) as client:
        for path in PAGES:
            with counter.counting():
                response = await client.get(path)
            assert response.status_code == 200, response.text
            counts[path] = counter.count
    return counts


async def empty(db: Database) -> None:
    async with db.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            await conn.execute(delete(table))


async def test_pages_cost_the_same_with_30_or_150_chargers(db: Database) -> None:
    """From a few rows per page to full pages of chargers with many connectors."""
    small = await statements_per_page(db, chargers=30, per_charger=3)
    await empty(db)
    large = await statements_per_page(db, chargers=150, per_charger=8)
    assert large == small
    assert all(count <= 30 for count in small.values()), [c for c in small.items() if c[1] > 30]


def list_pages(transaction_pk: int, webhook_id: int, day: str) -> list[str]:
    """The pages of transactions, id tokens, tariffs, users and webhooks, with filters."""
    return [
        "/transactions",
        "/transactions?status=active&sort=energy&dir=asc",
        f"/transactions?charger=CP-0001&from={day}&to={day}&per=25",
        "/transactions?status=completed&sort=stopped&page=2&per=25",
        f"/transactions/{transaction_pk}",
        "/transactions.csv",
        "/transactions.csv?status=completed",
        "/id-tokens",
        "/id-tokens?q=T-&status=Blocked&group=G1&sort=expires&dir=desc",
        "/id-tokens/edit?token=T-0001",
        "/tariffs",
        "/tariffs?page=2&per=25",
        "/tariffs/TARIFF-0000",
        "/tariffs/TARIFF-0000?start=09:00&hours=1.5&power=50&parking=0&zone=Europe/Paris",
        "/users",
        "/users?page=2&per=25",
        "/webhooks",
        f"/webhooks/{webhook_id}",
        f"/webhooks/{webhook_id}?state=failed&page=2&per=25",
    ]


async def statements_per_list(db: Database, chargers: int, rows: int) -> dict[str, int]:
    now = SystemClock().now()
    await seed(db, chargers, per_charger=4, now=now)
    transaction_pk, webhook_id = await seed_lists(db, rows, now=now)
    app = application(db)
    counter = StatementCounter(db)
    counts = {}
    day = (now - timedelta(days=1)).date().isoformat()
    async with signed_in_client(app, db, role="admin") as client:
        for n, path in enumerate(list_pages(transaction_pk, webhook_id, day)):
            with counter.counting():
                response = await client.get(path)
            assert response.status_code == 200, (path, response.text[:2000])
            counts[f"{n}: {re.sub(r'[0-9]+', 'N', path.split('?')[0])}"] = counter.count
    return counts


async def test_list_pages_cost_the_same_with_few_or_many_rows(db: Database) -> None:
    """Transactions (with meter samples, events and commands), id tokens, users and
    webhooks (with deliveries): a few rows, then full pages of them and more."""
    small = await statements_per_list(db, chargers=5, rows=6)
    await empty(db)
    large = await statements_per_list(db, chargers=60, rows=240)
    assert large == small
    assert all(count <= 10 for count in small.values()), [c for c in small.items() if c[1] > 10]
