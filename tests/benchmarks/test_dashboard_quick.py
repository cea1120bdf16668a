"""The dashboard benchmark's small run: it seeds, signs in and times every list page.

``python -m benchmarks.bench_dashboard`` seeds 10,000 chargers and 1,000,000
transactions; this runs it with 50 and 2,000 on each engine, so that it keeps working.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.bench_dashboard import pages
from benchmarks.dashboard_seed import Seeded

from chargegrid.domain.clock import SystemClock

PROJECT = Path(__file__).resolve().parents[2]


def test_every_list_page_is_timed(empty_database_url: str, tmp_path: Path) -> None:
    output = tmp_path / "dashboard.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_dashboard",
            "--database-url",
            empty_database_url,
            "--chargers",
            "50",
            "--transactions",
            "2000",
            "--requests",
            "3",
            "--output",
            str(output),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    printed = json.loads(completed.stdout)
    assert json.loads(output.read_text()) == printed
    assert (printed["chargers"], printed["transactions"], printed["requests"]) == (50, 2000, 3)
    timed = printed["pages"]
    example = Seeded(50, 2000, 1, 2, 0.0)
    assert len(timed) == len(pages(example, SystemClock().now()))
    assert 0 < printed["floor"]["median_ms"] <= printed["floor"]["p95_ms"]
    for path, figures in timed.items():
        assert 0 < figures["median_ms"] <= figures["p95_ms"], path
        assert figures["x_floor"] > 0, path
        assert 0 < figures["statements"] <= 16, path
        assert figures["bytes"] > 1000, path
    for path in ("/transactions", "/id-tokens", "/tariffs", "/users", "/webhooks"):
        assert path in timed
