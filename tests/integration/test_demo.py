"""``chargegrid demo``: seeds, serves and simulates; a second start reuses the seed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.harness import BIN, free_port

ADMIN = {"username": "admin@demo.chargegrid.local", "password": "chargegrid-demo"}


def start_demo(tmp_path: Path, http_port: int, ocpp_port: int) -> subprocess.Popen[bytes]:
    log = (tmp_path / "demo.log").open("ab")
    return subprocess.Popen(
        [
            str(BIN / "chargegrid"),
            "demo",
            "--chargers",
            "4",
            "--session-rate",
            "3600",
            "--http-port",
            str(http_port),
            "--ocpp-port",
            str(ocpp_port),
        ],
        env={
            **os.environ,
            "CHARGEGRID_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
            "CHARGEGRID_OCPP_TLS_PORT": "0",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def eventually(check: Any, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the demo did not get there in time")
        time.sleep(0.3)


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=30)


def test_the_demo_charges_evs_and_starts_again_on_its_own_data(tmp_path: Path) -> None:
    http_port, ocpp_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}/api/v1"
    process = start_demo(tmp_path, http_port, ocpp_port)
    try:

        def signed_in() -> httpx.Client | None:
            response = httpx.post(f"{base}/auth/token", data=ADMIN, timeout=5)
            if response.status_code != 200:
                return None
            token = response.json()["access_token"]
            return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})

        api: httpx.Client = eventually(signed_in)

        def booted() -> list[dict[str, Any]] | None:
            items = api.get("/chargers").json()["items"]
            ready = [c for c in items if c["connected"] and c["last_boot_at"] is not None]
            return ready if len(ready) == 4 else None

        chargers = eventually(booted)
        assert {c["ocpp_version"] for c in chargers} == {"1.6", "2.0.1"}
        transactions = eventually(lambda: api.get("/transactions").json()["items"])
        assert transactions[0]["id_token"].startswith("DEMO-TOKEN-")
        assert transactions[0]["tariff_id"] == "DEMO-STANDARD"
        tokens = {t["id_token"]: t["status"] for t in api.get("/id-tokens").json()["items"]}
        assert tokens["DEMO-BLOCKED"] == "Blocked"
    finally:
        assert stop(process) == 0, (tmp_path / "demo.log").read_text()

    again = start_demo(tmp_path, http_port, ocpp_port)
    try:
        eventually(lambda: httpx.post(f"{base}/auth/token", data=ADMIN, timeout=5).is_success)
    finally:
        assert stop(again) == 0, (tmp_path / "demo.log").read_text()
    log = (tmp_path / "demo.log").read_text()
    assert log.count("chargegrid demo is running") == 2
    assert "Traceback" not in log
