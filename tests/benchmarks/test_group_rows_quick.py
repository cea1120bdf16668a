"""The group write benchmark runs, and both of its ways store every row given."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from benchmarks.bench_group_rows import MEASURANDS, group_rows, measure
from benchmarks.bench_load import ThrowawayDatabase

pytestmark = pytest.mark.postgresql


async def test_both_ways_store_every_row_and_are_measured(postgresql_admin_url: str) -> None:
    database = ThrowawayDatabase(postgresql_admin_url)
    await asyncio.to_thread(database.create)
    try:
        result = await measure(database.url, groups=3, size=4, rounds=1)
        with psycopg.connect(database.url) as conn:
            logged = conn.execute(
                "SELECT unique_id, payload FROM message_log ORDER BY id"
            ).fetchall()
            samples = conn.execute("SELECT count(*), count(DISTINCT measurand) FROM meter_samples")
            sample_count, measurands = samples.fetchone() or (0, 0)
    finally:
        await asyncio.to_thread(database.drop)
    # Two rounds (the first warms up), each with both ways, of 3 groups of 4 CALLs.
    assert len(logged) == 2 * 2 * 3 * 4
    assert sample_count == len(logged) * len(MEASURANDS)
    assert measurands == len(MEASURANDS)
    first, _ = group_rows(0, 4)  # the first group, written by the group statement
    assert logged[:4] == [(row["unique_id"], row["payload"]) for row in first]
    for way in ("group_statement", "executemany_per_kind"):
        assert result[f"{way}_client_us_per_call"] > 0
        assert f"{way}_postgres_us_per_call" in result
    assert {"postgres_ratio", "client_ratio"} <= result.keys()
