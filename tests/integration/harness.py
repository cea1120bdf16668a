"""A real ``chargegrid serve`` in a subprocess, and clients to talk to it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from ocpp.v16 import ChargePoint as ChargePoint16
from websockets.asyncio.client import ClientConnection

from tests.dbutil import run_blocking

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


async def create_api_token(database_url: str, role: str) -> str:
    """A new API token of ``role``, written straight to the server's database."""
    from chargegrid.domain.clock import SystemClock
    from chargegrid.domain.services.access import Role, create_token
    from chargegrid.storage.engine import Database

    db = Database(database_url)
    try:
        async with db.begin() as conn:
            return await create_token(conn, role=Role(role), now=SystemClock().now())
    finally:
        await db.dispose()


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> str:
    """Run the ``chargegrid`` command and return its standard output."""
    completed = subprocess.run(
        [str(BIN / "chargegrid"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@dataclass
class ServerProcess:
    """One running ``chargegrid serve``."""

    database_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    ocpp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    token: str = ""
    args: tuple[str, ...] = ()  # more `chargegrid serve` arguments

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def start(self) -> None:
        env = {
            **os.environ,
            "CHARGEGRID_DATABASE_URL": self.database_url,
            "CHARGEGRID_LOG_LEVEL": "INFO",
            **self.env,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "chargegrid"),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--ocpp-port",
                    str(self.ocpp_port),
                    "--http-port",
                    str(self.http_port),
                    *self.args,
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chargegrid serve exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.http_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"chargegrid serve did not become healthy:\n{self.log()}")
        self.token = run_blocking(create_api_token(self.database_url, "admin"))

    def stop(self) -> int:
        """SIGTERM, then the exit code (a graceful shutdown exits 0)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)

    def api(self, token: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"{self.http_url}/api/v1",
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=10,
        )

    async def register_charger(self, charger_id: str, password: str, **extra: Any) -> None:
        async with self.api() as api:
            response = await api.post(
                "/chargers", json={"id": charger_id, "password": password, **extra}
            )
            assert response.status_code == 201, response.text

    async def add_id_token(self, id_token: str, **extra: Any) -> None:
        async with self.api() as api:
            response = await api.post("/id-tokens", json={"id_token": id_token, **extra})
            assert response.status_code == 201, response.text

    @contextlib.asynccontextmanager
    async def websocket(
        self,
        charger_id: str,
        password: str | None,
        *,
        subprotocols: tuple[str, ...] = ("ocpp1.6",),
        username: str | None = None,
    ) -> AsyncIterator[ClientConnection]:
        headers = {}
        if password is not None:
            headers["Authorization"] = basic_auth(username or charger_id, password)
        async with websockets.connect(
            f"{self.ocpp_url}/{charger_id}",
            subprotocols=[websockets.Subprotocol(s) for s in subprotocols],
            additional_headers=headers,
            open_timeout=10,
        ) as ws:
            yield ws

    @contextlib.asynccontextmanager
    async def charger16(self, charger_id: str, password: str) -> AsyncIterator[ChargePoint16]:
        """An OCPP 1.6 charger of the PyPI ``ocpp`` package, connected and listening."""
        async with self.websocket(charger_id, password) as ws:
            charge_point = ChargePoint16(charger_id, ws, response_timeout=10)
            task = asyncio.create_task(charge_point.start())
            try:
                yield charge_point
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


async def exchange(ws: ClientConnection, frame: str | bytes) -> list[Any]:
    """Send one raw frame and return the decoded reply."""
    import json

    await ws.send(frame)
    reply = await asyncio.wait_for(ws.recv(), 10)
    assert isinstance(reply, str), "OCPP-J replies are text messages, not binary ones"
    decoded: list[Any] = json.loads(reply)
    return decoded


async def query(database_url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a read-only SQL query against a server's database."""
    from sqlalchemy import text

    from chargegrid.storage.engine import Database

    db = Database(database_url)
    try:
        async with db.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(row) for row in result.mappings()]
    finally:
        await db.dispose()


async def delete_charger_row(database_url: str, charger_id: str) -> None:
    """Delete a charger's row behind the server's back (its messages can no longer be
    stored: the way to make the server fail on a live connection)."""
    from sqlalchemy import text

    from chargegrid.storage.engine import Database

    db = Database(database_url)
    try:
        async with db.begin() as conn:
            await conn.execute(text("DELETE FROM chargers WHERE id = :id"), {"id": charger_id})
    finally:
        await db.dispose()


def run_cli_result(
    *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``chargegrid`` command and return the completed process, whatever its code."""
    return subprocess.run(
        [str(BIN / "chargegrid"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


async def scrape_metrics(server: ServerProcess) -> str:
    """The server's ``/metrics`` page (asked without a token)."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{server.http_url}/metrics")
    assert response.status_code == 200, response.text
    return response.text


def metric_value(text: str, sample: str, **labels: str) -> float | None:
    """The value of one sample (e.g. ``x_total`` with these labels) of a metrics page."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == sample and found.labels == labels:
                return float(found.value)
    return None
