"""Who may connect: the checks a real server makes before (and right after) the upgrade."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.v16 import call
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from tests.integration.conftest import start_server
from tests.integration.harness import (
    ServerProcess,
    basic_auth,
    exchange,
    metric_value,
    scrape_metrics,
)

PASSWORD = "correct-horse-battery"  # 21 characters
OTHER_PASSWORD = "another-password-123"

sqlite_only = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)


async def refused(
    server: ServerProcess,
    charger_id: str,
    password: str | None,
    *,
    subprotocols: tuple[str, ...] = ("ocpp1.6",),
    username: str | None = None,
) -> Response:
    """The HTTP response of a handshake that must be refused."""
    with pytest.raises(InvalidStatus) as caught:
        async with server.websocket(
            charger_id, password, subprotocols=subprotocols, username=username
        ):
            pass
    return caught.value.response


async def refused_url(url: str, *, headers: dict[str, str] | None = None) -> Response:
    """The HTTP response of a refused handshake to an arbitrary URL."""
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(
            url,
            subprotocols=[websockets.Subprotocol("ocpp1.6")],
            additional_headers=headers or {},
            open_timeout=10,
        ):
            pass
    return caught.value.response


def body(response: Response) -> str:
    return bytes(response.body or b"").decode()


async def heartbeat(ws: ClientConnection) -> None:
    """Send a raw OCPP 1.6 Heartbeat and check the CALLRESULT."""
    unique_id = secrets.token_hex(4)
    reply = await exchange(ws, json.dumps([2, unique_id, "Heartbeat", {}]))
    assert reply[:2] == [3, unique_id], reply
    assert "currentTime" in reply[2]


async def refusal_counts(server: ServerProcess) -> dict[str, float | None]:
    text = await scrape_metrics(server)
    reasons = (
        "bad_path",
        "no_subprotocol",
        "unknown_charger",
        "no_credentials",
        "username_mismatch",
        "wrong_password",
        "rate_limited",
    )
    return {
        reason: metric_value(text, "chargegrid_refused_connections_total", reason=reason)
        for reason in reasons
    }


async def test_credentials_are_checked_before_the_upgrade_and_failures_are_rate_limited(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-1", PASSWORD)
    await server.register_charger("CP-2", OTHER_PASSWORD)

    # Failure 1: wrong password.
    response = await refused(server, "CP-1", OTHER_PASSWORD)
    assert response.status_code == 401
    assert "wrong password" in body(response)
    assert response.headers["WWW-Authenticate"].startswith("Basic ")

    # Failure 2: a valid login of another charger is not a login of this one.
    response = await refused(server, "CP-1", OTHER_PASSWORD, username="CP-2")
    assert response.status_code == 401
    assert "username must equal the charger id" in body(response)

    # Failure 3: no Authorization header at all.
    response = await refused(server, "CP-1", None)
    assert response.status_code == 401
    assert "Basic authentication required" in body(response)
    assert response.headers["WWW-Authenticate"].startswith("Basic ")

    # Failure 4: unknown charger (no auto-registration by default).
    response = await refused(server, "NO-SUCH-CP", PASSWORD)
    assert response.status_code == 404
    assert "unknown charger 'NO-SUCH-CP'" in body(response)

    # Four failures are below the limit of five: the right password still gets in.
    async with server.websocket("CP-1", PASSWORD) as ws:
        assert ws.subprotocol == "ocpp1.6"
        await heartbeat(ws)

    # Failure 5 reaches the limit: from now on even the right password is refused.
    assert (await refused(server, "CP-1", "wrong-password-0000")).status_code == 401
    response = await refused(server, "CP-1", PASSWORD)
    assert response.status_code == 429
    assert "too many failed logins" in body(response)
    assert (await refused(server, "CP-2", OTHER_PASSWORD)).status_code == 429

    # The limit is per address: the same charger from another loopback address gets in.
    async with websockets.connect(
        f"{server.ocpp_url}/CP-1",
        subprotocols=[websockets.Subprotocol("ocpp1.6")],
        additional_headers={"Authorization": basic_auth("CP-1", PASSWORD)},
        open_timeout=10,
        local_addr=("127.0.0.2", 0),
    ) as ws:
        await heartbeat(ws)

    assert await refusal_counts(server) == {
        "bad_path": None,
        "no_subprotocol": None,
        "unknown_charger": 1.0,
        "no_credentials": 1.0,
        "username_mismatch": 1.0,
        "wrong_password": 2.0,
        "rate_limited": 2.0,
    }
    assert "refused charger CP-1 from 127.0.0.1: wrong password" in server.log()


@sqlite_only
async def test_bad_paths_and_subprotocols_are_refused_with_a_reason(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-1", PASSWORD)
    auth = {"Authorization": basic_auth("CP-1", PASSWORD)}
    base = f"ws://127.0.0.1:{server.ocpp_port}"

    bad_paths = ["/", "/ocpp", "/ocpp/", "/chargers/CP-1", "/ocpp/CP-1/extra", "/ocpp/a%3Ab"]
    bad_paths.append("/ocpp/" + "x" * 49)
    for path in bad_paths:
        response = await refused_url(base + path, headers=auth)
        assert response.status_code == 404, path
        assert "connect to /ocpp/{charger_id}" in body(response), path

    response = await refused(server, "CP-1", PASSWORD, subprotocols=())
    assert response.status_code == 400
    what, _, supported = body(response).rstrip("\n").partition("; this server speaks ")
    assert what == "no subprotocol offered"
    assert "ocpp1.6" in supported.split(", ")

    response = await refused(server, "CP-1", PASSWORD, subprotocols=("ocpp1.5",))
    assert response.status_code == 400
    assert "unsupported subprotocol ocpp1.5" in body(response)
    assert "this server speaks" in body(response)
    assert "ocpp1.6" in body(response).partition("this server speaks")[2]

    # The subprotocol is checked before the credentials: no password is tried on it.
    response = await refused(server, "CP-1", OTHER_PASSWORD, subprotocols=("ocpp1.2",))
    assert response.status_code == 400

    async with server.websocket("CP-1", PASSWORD, subprotocols=("ocpp1.5", "ocpp1.6")) as ws:
        assert ws.subprotocol == "ocpp1.6"
        await heartbeat(ws)

    counts = await refusal_counts(server)
    assert counts["bad_path"] == len(bad_paths)
    assert counts["no_subprotocol"] == 3.0
    assert counts["wrong_password"] is None
    # None of these was a failed login: the address is not throttled.
    async with server.websocket("CP-1", PASSWORD) as ws:
        await heartbeat(ws)


async def test_auto_registration_keeps_the_first_password(
    empty_database_url: str, tmp_path: Path
) -> None:
    server = start_server(
        empty_database_url,
        tmp_path,
        CHARGEGRID_AUTO_REGISTER="true",
        CHARGEGRID_AUTH_FAILURE_LIMIT="20",
    )
    try:
        async with server.charger16("NEW-CP", PASSWORD) as charger:
            boot = await charger.call(
                call.BootNotification(charge_point_model="M1", charge_point_vendor="V1")
            )
            assert boot.status == "Accepted"
            async with server.api() as api:
                listed = (await api.get("/chargers")).json()
                assert [c["id"] for c in listed["items"]] == ["NEW-CP"]
                assert listed["items"][0]["connected"] is True
                assert listed["items"][0]["vendor"] == "V1"

        # From now on the password it first presented is required.
        response = await refused(server, "NEW-CP", OTHER_PASSWORD)
        assert response.status_code == 401
        assert "wrong password" in body(response)
        assert (await refused(server, "NEW-CP", None)).status_code == 401
        async with server.websocket("NEW-CP", PASSWORD) as ws:
            await heartbeat(ws)

        # A password outside 16-40 characters registers nothing.
        response = await refused(server, "SHORT-CP", "too-short")
        assert response.status_code == 401
        assert "16-40 characters" in body(response)
        # ... nor does a username that is not the charger id.
        response = await refused(server, "ODD-CP", PASSWORD, username="NEW-CP")
        assert response.status_code == 401
        # ... nor does a charger without credentials: anyone could then be it.
        response = await refused(server, "OPEN-CP", None)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        async with server.api() as api:
            assert (await api.get("/chargers/SHORT-CP")).status_code == 404
            assert (await api.get("/chargers/ODD-CP")).status_code == 404
            assert (await api.get("/chargers/OPEN-CP")).status_code == 404

        # Many first connections at once: one registers, the others log in against it.
        async def first_connection() -> int:
            try:
                async with server.websocket("RACE-CP", PASSWORD):
                    return 101
            except InvalidStatus as error:
                return error.response.status_code

        statuses = await asyncio.gather(*(first_connection() for _ in range(6)))
        assert statuses == [101] * 6
        async with server.api() as api:
            assert (await api.get("/chargers/RACE-CP")).status_code == 200
            assert (await api.get("/chargers")).json()["total"] == 2
    finally:
        code = server.stop()
        assert code == 0, server.log()


@contextlib.asynccontextmanager
async def unresponsive_connection(
    server: ServerProcess, charger_id: str, password: str
) -> AsyncIterator[None]:
    """An upgraded connection whose peer then goes silent (never reads, never closes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.ocpp_port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ocpp/{charger_id} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.ocpp_port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: ocpp1.6\r\n"
            f"Authorization: {basic_auth(charger_id, password)}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101 "), head
    try:
        yield
    finally:
        writer.close()


async def connected_gauge(server: ServerProcess) -> float | None:
    return metric_value(
        await scrape_metrics(server), "chargegrid_connected_chargers", version="1.6"
    )


async def test_a_new_authenticated_connection_replaces_the_old_one(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-1", PASSWORD)
    async with server.websocket("CP-1", PASSWORD) as first:
        await heartbeat(first)

        # A failed login for the same charger leaves the live connection alone.
        assert (await refused(server, "CP-1", OTHER_PASSWORD)).status_code == 401
        assert (await refused(server, "CP-1", None)).status_code == 401
        await heartbeat(first)
        assert first.close_code is None

        async with server.charger16("CP-1", PASSWORD) as second:
            await asyncio.wait_for(first.wait_closed(), 10)
            assert first.close_code == 4000
            assert "replaced" in (first.close_reason or "")

            boot = await second.call(
                call.BootNotification(charge_point_model="M2", charge_point_vendor="V2")
            )
            assert boot.status == "Accepted"
            beat: Any = await second.call(call.Heartbeat())
            assert beat.current_time

            assert "charger CP-1 connected again" in server.log()
            assert "closing its previous connection" in server.log()
            text = await scrape_metrics(server)
            assert metric_value(text, "chargegrid_replaced_connections_total") == 1.0
            assert metric_value(text, "chargegrid_connected_chargers", version="1.6") == 1.0
            async with server.api() as api:
                charger = (await api.get("/chargers/CP-1")).json()
            assert charger["connected"] is True
            assert charger["vendor"] == "V2"

    deadline = time.monotonic() + 5
    while await connected_gauge(server) != 0.0:
        assert time.monotonic() < deadline, "the connected gauge did not drop to 0"
        await asyncio.sleep(0.05)
    async with server.api() as api:
        assert (await api.get("/chargers/CP-1")).json()["connected"] is False

    # Chargers mostly reconnect because their old link died: a new connection must be
    # served at once, not after the closing handshake with the silent old one times out.
    async with unresponsive_connection(server, "CP-1", PASSWORD):
        deadline = time.monotonic() + 5
        while await connected_gauge(server) != 1.0:
            assert time.monotonic() < deadline, "the silent connection was not admitted"
            await asyncio.sleep(0.05)
        async with server.websocket("CP-1", PASSWORD) as ws:
            try:
                await asyncio.wait_for(heartbeat(ws), 3)
            except TimeoutError:
                pytest.fail("the new connection was not served while the old one was closing")
    text = await scrape_metrics(server)
    assert metric_value(text, "chargegrid_replaced_connections_total") == 2.0
