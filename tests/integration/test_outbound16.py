"""CSMS-initiated CALLs: correlated by id, one outstanding at a time, with a timeout."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from chargegrid.bus.commands import LocalCommandBus
from chargegrid.config import Settings
from chargegrid.domain.clock import SystemClock
from chargegrid.domain.services import chargers
from chargegrid.gateway.connection import CallRejected, CallTimeout
from chargegrid.gateway.server import GatewayServer
from chargegrid.metrics import Metrics
from chargegrid.ocpp.v16 import messages as m
from chargegrid.storage.engine import Database
from tests.integration.harness import basic_auth, query

PASSWORD = "correct-horse-battery"


@pytest.fixture
async def gateway(db: Database) -> AsyncIterator[GatewayServer]:
    settings = Settings(host="127.0.0.1", ocpp_port=0, ocpp_call_timeout=1.0)
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP-O", password=PASSWORD, now=SystemClock().now())
    server = GatewayServer(db, settings, SystemClock(), Metrics(), LocalCommandBus())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def charger(gateway: GatewayServer) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(
        f"ws://127.0.0.1:{gateway.port}/ocpp/CP-O",
        subprotocols=[websockets.Subprotocol("ocpp1.6")],
        additional_headers={"Authorization": basic_auth("CP-O", PASSWORD)},
    ) as ws:
        for _ in range(100):
            if gateway.is_connected("CP-O"):
                break
            await asyncio.sleep(0.01)
        yield ws


async def receive(ws: ClientConnection, wait_s: float = 5) -> list[Any]:
    message = await asyncio.wait_for(ws.recv(), wait_s)
    assert isinstance(message, str), "OCPP-J CALLs are text messages, not binary ones"
    frame: list[Any] = json.loads(message)
    return frame


async def test_one_outstanding_call_at_a_time(
    gateway: GatewayServer, charger: ClientConnection, database_url: str
) -> None:
    first = asyncio.create_task(
        gateway.call("CP-O", "GetConfiguration", m.GetConfigurationRequest())
    )
    second = asyncio.create_task(gateway.call("CP-O", "Reset", m.ResetRequest(type="Soft")))

    call_1 = await receive(charger)
    assert call_1[0] == 2
    assert call_1[2] in {"GetConfiguration", "Reset"}
    with pytest.raises(TimeoutError):  # nothing else is sent while call_1 is open
        await receive(charger, wait_s=0.3)

    # A stray answer with another id is not taken for the open call.
    await charger.send(json.dumps([3, "not-the-one", {}]))
    with pytest.raises(TimeoutError):
        await receive(charger, wait_s=0.2)

    answers = {
        "GetConfiguration": {"configurationKey": [{"key": "A", "readonly": True, "value": "1"}]},
        "Reset": {"status": "Accepted"},
    }
    await charger.send(json.dumps([3, call_1[1], answers[call_1[2]]]))
    call_2 = await receive(charger)
    assert call_2[2] != call_1[2]
    assert call_2[1] != call_1[1]
    await charger.send(json.dumps([3, call_2[1], answers[call_2[2]]]))

    configuration, reset = await asyncio.gather(first, second)
    assert isinstance(configuration, m.GetConfigurationResponse)
    assert configuration.configuration_key is not None
    assert configuration.configuration_key[0].key == "A"
    assert reset == m.ResetResponse(status="Accepted")
    logged = await query(
        database_url,
        "SELECT action, response FROM message_log WHERE direction = 'out' ORDER BY id",
    )
    assert {row["action"]: json.loads(row["response"]) for row in logged} == answers


async def test_timeout_error_answer_and_full_duplex(
    gateway: GatewayServer, charger: ClientConnection, database_url: str
) -> None:
    with pytest.raises(CallTimeout):
        await asyncio.gather(
            gateway.call("CP-O", "ClearCache", m.ClearCacheRequest()), receive(charger)
        )

    pending = asyncio.create_task(
        gateway.call("CP-O", "UnlockConnector", m.UnlockConnectorRequest(connector_id=1))
    )
    unlock = await receive(charger)
    assert unlock[2] == "UnlockConnector"
    # While our CALL is open the charger's own CALLs are still served.
    await charger.send('[2, "hb-1", "Heartbeat", {}]')
    heartbeat = await receive(charger)
    assert heartbeat[:2] == [3, "hb-1"]
    await charger.send(json.dumps([4, unlock[1], "NotSupported", "no motor", {}]))
    with pytest.raises(CallRejected) as rejected:
        await pending
    assert rejected.value.error.code == "NotSupported"

    # A late answer to the timed-out call is ignored, and the next call works.
    next_call = asyncio.create_task(gateway.call("CP-O", "ClearCache", m.ClearCacheRequest()))
    frame = await receive(charger)
    await charger.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
    assert await next_call == m.ClearCacheResponse(status="Accepted")

    logged = await query(
        database_url,
        "SELECT action, response, error_code, error_description FROM message_log "
        "WHERE direction = 'out' ORDER BY id",
    )
    assert logged[0]["action"] == "ClearCache"
    assert logged[0]["response"] is None
    assert logged[0]["error_description"] == "no answer"
    assert logged[1]["error_code"] == "NotSupported"
    assert json.loads(logged[2]["response"]) == {"status": "Accepted"}


async def test_inbound_calls_are_answered_in_order(
    gateway: GatewayServer, charger: ClientConnection, database_url: str
) -> None:
    for n in range(20):
        status = "Charging" if n % 2 else "SuspendedEV"
        await charger.send(
            json.dumps(
                [
                    2,
                    f"s{n}",
                    "StatusNotification",
                    {"connectorId": 1, "errorCode": "NoError", "status": status},
                ]
            )
        )
    replies = [await receive(charger) for _ in range(20)]
    assert [reply[1] for reply in replies] == [f"s{n}" for n in range(20)]
    history = await query(
        database_url, "SELECT status FROM status_changes WHERE charger_id = 'CP-O' ORDER BY id"
    )
    assert [row["status"] for row in history] == [
        "Charging" if n % 2 else "SuspendedEV" for n in range(20)
    ]


async def test_a_call_to_an_unknown_action_is_refused_before_sending(
    gateway: GatewayServer, charger: ClientConnection
) -> None:
    from chargegrid.ocpp.rpc import RpcError

    with pytest.raises(RpcError):
        await gateway.call(
            "CP-O",
            "BootNotification",
            m.BootNotificationRequest(charge_point_vendor="x", charge_point_model="y"),
        )
    with pytest.raises(TimeoutError):
        await receive(charger, wait_s=0.2)
