"""The commit-comparison benchmark runs and reports every rate it was asked for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.bench_steps import FIELDS

PROJECT = Path(__file__).resolve().parents[2]


def test_every_rate_asked_is_measured_on_a_real_server(postgresql_admin_url: str) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_steps",
            *("--chargers", "40", "--rates", "40,60", "--seconds", "1", "--warmup", "0.5"),
            *("--lanes", "2", "--admin-url", postgresql_admin_url),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [r["target_calls_per_s"] for r in results] == [40.0, 60.0]
    for result in results:
        assert set(result) == set(FIELDS)
        assert result["errors"] == 0
        assert result["calls_per_s"] > 0.5 * result["target_calls_per_s"]
        assert result["cpu_us_per_call"] > 0
        assert result["postgres_cpu_share"] is not None
        assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
        # A second of the one measured, and any its last answers came in after it.
        by_second = result["p99_ms_by_second"]
        assert 1 <= len(by_second) <= 3
        assert 0 < max(by_second) <= result["max_ms"]
    assert "40 of 40 chargers connected" in completed.stderr
