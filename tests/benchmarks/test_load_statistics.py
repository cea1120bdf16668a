"""The load benchmark keeps its database's statistics fresh, as autovacuum would, when
autovacuum does not."""

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


async def test_the_tables_autovacuum_would_analyze_are_analyzed_every_interval(
    postgresql_admin_url: str,
) -> None:
    database = ThrowawayDatabase(postgresql_admin_url)
    await asyncio.to_thread(database.create)
    try:
        # 60 chargers: more than autovacuum's 50 rows; one id token: fewer; no transaction.
        await register(database.url, [f"CP-{i}" for i in range(60)], ["TAG-1"])
        assert _analyzed_tables(database.url) == set()
        task = asyncio.create_task(analyze_periodically(database, 0.2))
        try:
            await asyncio.sleep(0.05)
            assert _analyzed_tables(database.url) == set()  # not before the first
            await asyncio.sleep(2.0)  # ten intervals
            analyzed = _analyzed_tables(database.url)
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
    finally:
        await asyncio.to_thread(database.drop)
    assert "chargers" in analyzed
    # An empty table analyzed would be planned as empty until the next ANALYZE.
    assert not {"transactions", "id_tokens"} & analyzed
