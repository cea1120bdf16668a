"""The reconnect storm's quick run, and the comparison it relies on.

``python -m benchmarks.bench_storm --quick`` restarts ``chargegrid serve`` under 100
simulated chargers in mid-session; every charger must come back and every session must
arrive complete, message for message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from benchmarks.bench_storm import compare

from chargegrid.simulator import SessionRecord

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick(postgresql_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("storm") / "quick.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_storm",
            "--quick",
            "--backoff",
            "0.5,1,3",
            "--admin-url",
            postgresql_admin_url,
            "--output",
            str(output),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:] + completed.stdout[-4000:]
    printed: dict[str, Any] = json.loads(completed.stdout)
    assert json.loads(output.read_text()) == printed
    return printed


@pytest.mark.postgresql
def test_every_charger_came_back_and_nothing_was_lost(quick: dict[str, Any]) -> None:
    assert quick["chargers"] == 100
    assert quick["reconnected_in_time"] is True
    assert 0 < quick["server_listening_s"] <= quick["reconnected_and_booted_s"] <= 60
    assert quick["simulator"]["connects"] >= 200  # each charger connected twice at least
    assert quick["sessions"] == 100
    assert quick["sessions_lost_or_different"] == 0
    assert quick["differences"] == {"missing": [], "different": [], "different_count": 0}
    assert quick["tx_messages_dropped_by_chargers"] == 0
    assert quick["transaction_messages"] > 2 * quick["sessions"]


def _record(**changes: Any) -> SessionRecord:
    record = SessionRecord(
        charger_id="STORM-00001",
        version="1.6",
        transaction_id="7",
        evse_id=1,
        id_token="STORM-TOKEN-001",
        meter_start_wh=1000,
        meter_stop_wh=1500,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        stopped_at=datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
        stop_reason="Local",
        remote_start_id=None,
        reservation_id=None,
        offline=True,
        messages=5,
        delivered=5,
        dropped=0,
    )
    return replace(record, **changes)


STORED = {
    "id": 3,
    "status": "completed",
    "meter_start_wh": 1000,
    "meter_stop_wh": 1500,
    "energy_wh": 500,
}


def test_the_comparison_finds_what_differs() -> None:
    record = _record()
    stored = {("STORM-00001", "7"): STORED}
    assert compare([record], stored, {3: 5})["different_count"] == 0
    lost_message = compare([record], stored, {3: 4})
    assert lost_message["different_count"] == 1
    assert lost_message["different"][0]["actual"]["events"] == 4
    other_energy = compare([record], {("STORM-00001", "7"): {**STORED, "energy_wh": 499}}, {3: 5})
    assert other_energy["different_count"] == 1
    assert compare([record], {}, {})["missing"] == ["STORM-00001/7"]
    open_one = {("STORM-00001", "7"): {**STORED, "status": "active"}}
    assert compare([record], open_one, {3: 5})["different_count"] == 1
