"""chargegrid alone at a few rates: the load benchmark's measurement, for comparing commits.

Run: ``.venv/bin/python -m benchmarks.bench_steps [--chargers N] [--rates R,R,...]
[--seconds S] [--lanes N]``. Starts ``chargegrid serve`` on a throwaway PostgreSQL
database, ramps the chargers as ``bench_load`` does, analyzes the database, then
measures each rate (``--warmup`` seconds at it first) and prints one JSON object per
rate on stdout, progress on stderr. Where ``bench_load`` steps up until a rate is not
held and compares with a baseline, this measures every rate asked, so that two commits
(each run from its own checkout, one after the other) are compared rate for rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvloop

from benchmarks import bench_load as load
from chargegrid.simulator.load import LoadGenerator

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
)


async def steps(
    admin_url: str,
    chargers: int,
    rates: Sequence[float],
    *,
    seconds: float,
    warmup: float,
    lanes: int | None,
) -> list[dict[str, Any]]:
    """Each rate's figures (``FIELDS``), measured on one server, in the order given."""
    load._raise_file_limit()
    database = load.ThrowawayDatabase(admin_url)
    charger_ids = [f"BENCH{i:06d}" for i in range(chargers)]
    id_tags = [LoadGenerator.id_tag_for(i, c) for i in range(chargers) for c in (1, 2)]
    await asyncio.to_thread(database.create)
    try:
        await load.register(database.url, charger_ids, id_tags)
        port = load.free_port()
        env = {
            "CHARGEGRID_DATABASE_URL": database.url,
            "CHARGEGRID_LOG_LEVEL": "WARNING",
            "CHARGEGRID_AUTO_REGISTER": "false",
        }
        if lanes is not None:
            env["CHARGEGRID_OCPP_WRITE_LANES"] = str(lanes)
        command = [
            str(Path(sys.executable).with_name("chargegrid")),
            *("serve", "--host", "127.0.0.1", "--ocpp-port", str(port)),
            *("--http-port", str(load.free_port())),
        ]
        server = load.start_server("chargegrid", command, port, env)
        gen = LoadGenerator(
            f"ws://127.0.0.1:{port}/ocpp",
            charger_ids=charger_ids,
            password=load.PASSWORD,
            connectors=2,
            call_timeout=10.0,
        )
        try:
            await server.wait_ready()
            ramp = await gen.ramp(connect_rate=500.0)
            load.log(f"{ramp.connected} of {chargers} chargers connected in {ramp.seconds:.1f} s")
            await asyncio.to_thread(database.analyze)
            results = []
            for rate in rates:
                await load.settle(server)
                measured = await load.measure(
                    gen,
                    server,
                    rate,
                    warmup=warmup,
                    seconds=seconds,
                    database=database,
                    p99_limit_ms=load.P99_LIMIT_MS,
                )
                results.append({name: measured[name] for name in FIELDS})
            return results
        finally:
            gen.close()
            await server.stop()
    finally:
        await asyncio.to_thread(database.drop)


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
    results = uvloop.run(
        steps(
            args.admin_url,
            args.chargers,
            [float(rate) for rate in args.rates.split(",")],
            seconds=args.seconds,
            warmup=args.warmup,
            lanes=args.lanes,
        )
    )
    for result in results:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
