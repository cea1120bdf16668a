"""chargegrid alone at a few rates: the load benchmark's measurement, for comparing commits.

Run: ``.venv/bin/python -m benchmarks.bench_steps [--chargers N] [--rates R,R,...]
[--seconds S] [--lanes N]``. Starts ``chargegrid serve`` on a throwaway PostgreSQL
database, ramps the chargers as ``bench_load`` does (analyzing the database as
autovacuum would, when the server's autovacuum is off), then measures each rate
(``--warmup`` seconds at it first) and prints one JSON object per rate on stdout,
progress on stderr. Where ``bench_load`` steps up until a rate is not held and compares
with a baseline, this measures every rate asked, so that two commits (each run from its
own checkout, one after the other) are compared rate for rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import replace
from typing import Any

import uvloop

from benchmarks import bench_load as load

FIELDS = (
    "target_calls_per_s",
    "calls_per_s",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "errors",
    "cpu_us_per_call",
    "server_cpu_share",
    "postgres_cpu_us_per_call",
    "postgres_cpu_share",
    "generator_cpu_share",
    "machine_busy_cores",
    "held",
    "p99_ms_by_action",
    "p99_ms_by_second",
)


async def steps(options: load.Options, lanes: int | None) -> list[dict[str, Any]]:
    """Each rate's figures (``FIELDS``), measured on one server, in the order given."""
    load._raise_file_limit()
    database = load.ThrowawayDatabase(options.admin_url)
    await asyncio.to_thread(database.create)
    analyzer: asyncio.Task[None] | None = None
    try:
        await load.register_chargers(database, options)
        if not await load._keeps_statistics(database.url):
            analyzer = asyncio.create_task(
                load.analyze_periodically(database, load.ANALYZE_INTERVAL_S)
            )
        run = await load.run_chargegrid(
            database,
            options,
            settings=None if lanes is None else {"CHARGEGRID_OCPP_WRITE_LANES": str(lanes)},
            sustained=False,
            every_rate=True,
        )
    finally:
        if analyzer is not None:
            analyzer.cancel()
            with suppress(asyncio.CancelledError):
                await analyzer
        await asyncio.to_thread(database.drop)
    load.log(
        f"{run['connected_after_ramp']} of {options.chargers} chargers connected "
        f"in {run['ramp_s']} s"
    )
    return [{name: step[name] for name in FIELDS} for step in run["steps"]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chargers", type=int, default=2000)
    parser.add_argument("--rates", default="600,800", help="CALLs/s, comma separated")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured per rate")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each")
    parser.add_argument("--lanes", type=int, help="CHARGEGRID_OCPP_WRITE_LANES (default 4)")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("CHARGEGRID_TEST_POSTGRESQL_URL") or load.DEFAULT_ADMIN_URL,
        help="PostgreSQL maintenance database URL (a throwaway database is created there)",
    )
    args = parser.parse_args(argv)
    options = load._options(
        [
            *("--chargers", str(args.chargers), "--rates", args.rates),
            *("--step-seconds", str(args.seconds), "--admin-url", args.admin_url),
        ]
    )
    results = uvloop.run(steps(replace(options, step_warmup=args.warmup), args.lanes))
    for result in results:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
