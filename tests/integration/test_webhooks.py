"""Webhooks of a real server to a real local receiver: signed, retried after a failure, recorded.

The receiver answers the first attempt of every delivery with 500 and the second with 200,
so every event is sent twice. The second attempt of the first delivery waits until the test
has seen, through the API, the failed attempt in the delivery history.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call

from tests.integration.conftest import start_server
from tests.integration.harness import ServerProcess, create_api_token

PASSWORD = "correct-horse-battery"
START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Request:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def delivery(self) -> str:
        return self.headers["X-Chargegrid-Delivery"]


@dataclass
class Receiver:
    """A local HTTP server that fails each delivery's first attempt."""

    requests: list[Request] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    gated: str | None = None  # the first delivery: its retry waits for ``gate``
    gate: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        delivery = headers.get("X-Chargegrid-Delivery", "")
        with self.lock:
            self.attempts[delivery] += 1
            first = self.attempts[delivery] == 1
            if self.gated is None:
                self.gated = delivery
        if not first and delivery == self.gated:
            self.gate.wait(timeout=20)
        status = 500 if first else 200
        with self.lock:
            self.requests.append(Request(headers, body, status))
        return status

    def delivered(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.answered == 200]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{http.server_address[1]}/hooks/chargegrid"
    finally:
        state.gate.set()
        http.shutdown()
        http.server_close()
        thread.join(5)


@pytest.fixture
def webhook_server(empty_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    process = start_server(
        empty_database_url,
        tmp_path,
        CHARGEGRID_WEBHOOK_RETRY_BASE="0.2",
        CHARGEGRID_WEBHOOK_POLL_INTERVAL="0.1",
    )
    try:
        yield process
    finally:
        code = process.stop()
        assert code == 0, f"server exited with {code}:\n{process.log()}"


async def wait_for(condition: Any, what: str, within: float = 20) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await condition()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_events_are_signed_retried_and_recorded(
    webhook_server: ServerProcess, receiver: tuple[Receiver, str]
) -> None:
    server = webhook_server
    state, url = receiver
    viewer = await create_api_token(server.database_url, "viewer")
    operator = await create_api_token(server.database_url, "operator")
    body = {"url": url, "event_types": ["charger.connected"]}
    async with server.api(viewer) as api:
        assert (await api.post("/webhooks", json=body)).status_code == 403
    async with server.api(operator) as api:
        invalid = await api.post("/webhooks", json={**body, "url": "ftp://x/"})
        assert invalid.status_code == 422, invalid.text
        unknown = await api.post("/webhooks", json={**body, "event_types": ["charger.melted"]})
        assert unknown.status_code == 422, unknown.text
        response = await api.post(
            "/webhooks",
            json={
                "url": url,
                "event_types": [
                    "charger.connected",
                    "charger.disconnected",
                    "charger.status_changed",
                    "transaction.started",
                    "transaction.ended",
                ],
                "description": "fleet CRM",
            },
        )
        assert response.status_code == 201, response.text
    created = response.json()
    secret = created["secret"]
    webhook_id = created["id"]
    assert len(secret) >= 32
    assert created["active"] is True
    async with server.api(viewer) as api:
        shown = (await api.get(f"/webhooks/{webhook_id}")).json()
        listed = (await api.get("/webhooks")).json()
        assert (await api.patch(f"/webhooks/{webhook_id}", json={})).status_code == 403
    assert "secret" not in shown
    assert shown["description"] == "fleet CRM"
    assert listed["total"] == 1
    assert listed["items"] == [shown]

    await server.register_charger("CP-W", PASSWORD)
    await server.add_id_token("TAG-W")
    async with server.charger16("CP-W", PASSWORD) as charger:
        await charger.call(
            call.BootNotification(charge_point_vendor="Acme", charge_point_model="W1")
        )
        await charger.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )
        await charger.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )
        await charger.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing")
        )
        started = await charger.call(
            call.StartTransaction(
                connector_id=1, id_tag="TAG-W", meter_start=1000, timestamp=iso(START)
            )
        )
        await charger.call(
            call.StopTransaction(
                meter_stop=6000,
                timestamp=iso(START + timedelta(minutes=30)),
                transaction_id=started.transaction_id,
                reason="Local",
            )
        )

        # The first delivery failed once; its retry is held until the history shows that.
        async def failed_once() -> dict[str, Any] | None:
            async with server.api(viewer) as api:
                page = (await api.get(f"/webhooks/{webhook_id}/deliveries")).json()
            for item in page["items"]:
                if str(item["id"]) == state.gated:
                    return item if item["attempts"] == 1 else None
            return None

        pending = await wait_for(failed_once, "the failed first attempt in the history")
        assert pending["state"] == "pending"
        assert pending["last_status_code"] == 500
        assert pending["last_error"] == "HTTP 500"
        assert pending["delivered_at"] is None
        state.gate.set()

    expected = [
        "charger.connected",
        "charger.status_changed",
        "charger.status_changed",
        "transaction.started",
        "transaction.ended",
        "charger.disconnected",
    ]

    async def all_delivered() -> list[Request] | None:
        done = state.delivered()
        return done if len(done) >= len(expected) else None

    delivered = await wait_for(all_delivered, "every event delivered")
    await asyncio.sleep(0.5)  # nothing more arrives
    assert len(state.delivered()) == len(expected)
    with state.lock:
        requests = list(state.requests)

    # Signed with the secret given at creation; each delivery failed once, then succeeded.
    for request in requests:
        timestamp = request.headers["X-Chargegrid-Timestamp"]
        mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
        assert request.headers["X-Chargegrid-Signature"] == f"sha256={mac.hexdigest()}"
        assert request.headers["Content-Type"] == "application/json"
        assert abs(int(timestamp) - time.time()) < 120
    forged = hmac.new(b"not-the-secret", requests[0].body, hashlib.sha256).hexdigest()
    assert requests[0].headers["X-Chargegrid-Signature"] != f"sha256={forged}"
    assert sorted(state.attempts.values()) == [2] * len(expected)
    for request in delivered:
        attempts = [r for r in requests if r.delivery == request.delivery]
        assert [r.answered for r in attempts] == [500, 200]
        assert attempts[0].body == attempts[1].body

    events = sorted(
        (json.loads(r.body) for r in delivered), key=lambda e: (e["occurred_at"], e["type"])
    )
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        assert event["type"] == next(
            r.headers["X-Chargegrid-Event"] for r in delivered if json.loads(r.body) == event
        )
        by_type.setdefault(event["type"], []).append(event["data"])
    assert sorted(e["type"] for e in events) == sorted(expected)
    assert by_type["charger.connected"][0]["charger_id"] == "CP-W"
    assert by_type["charger.connected"][0]["ocpp_version"] == "1.6"
    assert by_type["charger.disconnected"][0]["charger_id"] == "CP-W"
    statuses = sorted(
        (d["status"], d["previous_status"]) for d in by_type["charger.status_changed"]
    )
    assert statuses == [("Available", None), ("Preparing", "Available")]
    [start] = by_type["transaction.started"]
    [end] = by_type["transaction.ended"]
    assert start["transaction_id"] == end["transaction_id"] == str(started.transaction_id)
    assert start["id"] == end["id"]
    assert (start["charger_id"], start["evse_id"], start["id_token"]) == ("CP-W", 1, "TAG-W")
    assert start["started_at"] == "2026-05-04T10:00:00Z"
    assert (end["stopped_at"], end["energy_wh"], end["stop_reason"]) == (
        "2026-05-04T10:30:00Z",
        5000,
        "Local",
    )

    # The history: every delivery delivered at the second attempt, the failure kept.
    async with server.api(viewer) as api:
        history = (await api.get(f"/webhooks/{webhook_id}/deliveries")).json()
        only_delivered = (
            await api.get(f"/webhooks/{webhook_id}/deliveries", params={"state": "delivered"})
        ).json()
        failed = (
            await api.get(f"/webhooks/{webhook_id}/deliveries", params={"state": "failed"})
        ).json()
    assert history["total"] == only_delivered["total"] == len(expected)
    assert failed["total"] == 0
    ids = [item["id"] for item in history["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    for item in history["items"]:
        assert item["state"] == "delivered"
        assert item["attempts"] == 2
        assert item["last_status_code"] == 200
        assert item["last_error"] == "HTTP 500"
        assert item["delivered_at"] is not None
        assert item["payload"]["type"] == item["event_type"]
        assert item["payload"]["id"] == item["event_id"]
    assert {str(item["id"]) for item in history["items"]} == set(state.attempts)

    # An operator sends one again; a viewer may not.
    newest = history["items"][0]["id"]
    retry = f"/webhooks/{webhook_id}/deliveries/{newest}/retry"
    async with server.api(viewer) as api:
        assert (await api.post(retry)).status_code == 403
    async with server.api(operator) as api:
        again = await api.post(retry)
        assert again.status_code == 200, again.text
        assert again.json()["state"] == "pending"

        async def redelivered() -> dict[str, Any] | None:
            item = (await api.get(f"/webhooks/{webhook_id}/deliveries")).json()["items"][0]
            return item if item["state"] == "delivered" and item["attempts"] == 3 else None

        await wait_for(redelivered, "the redelivery")
        assert state.attempts[str(newest)] == 3

        patched = await api.patch(
            f"/webhooks/{webhook_id}", json={"active": False, "description": None}
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["active"], patched.json()["description"]) == (False, None)
        assert (await api.delete(f"/webhooks/{webhook_id}")).status_code == 204
        assert (await api.get(f"/webhooks/{webhook_id}")).status_code == 404
        gone = await api.get(f"/webhooks/{webhook_id}/deliveries")
        assert gone.status_code == 404
    assert "Traceback" not in server.log()
