"""The load benchmark keeps its database's statistics fresh when autovacuum does not."""

from __future__ import annotations

import asyncio
from contextlib import suppress

import psycopg
import pytest
from benchmarks.bench_load import ThrowawayDatabase, analyze_periodically, register

pytestmark = pytest.mark.postgresql


def _analyzed_tables(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
        ).fetchall()
    return {row[0] for row in rows}


async def test_the_database_is_analyzed_every_interval(postgresql_admin_url: str) -> None:
    database = ThrowawayDatabase(postgresql_admin_url)
    await asyncio.to_thread(database.create)
    try:
        await register(database.url, ["CP-1"], ["TAG-1"])
        assert "transactions" not in _analyzed_tables(database.url)
        task = asyncio.create_task(analyze_periodically(database, 0.2))
        try:
            await asyncio.sleep(0.05)
            assert "transactions" not in _analyzed_tables(database.url)  # not before the first
            await asyncio.sleep(2.0)  # ten intervals
            assert {"transactions", "chargers"} <= _analyzed_tables(database.url)
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
    finally:
        await asyncio.to_thread(database.drop)
