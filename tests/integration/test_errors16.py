"""Bad input from a 1.6 charger gets the precise CALLERROR, and the connection serves on."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import ClientConnection

from tests.integration.harness import ServerProcess, delete_charger_row, exchange, query

PASSWORD = "correct-horse-battery"
HEARTBEAT = '[2, "hb", "Heartbeat", {}]'


async def assert_still_serving(ws: ClientConnection) -> None:
    reply = await exchange(ws, HEARTBEAT)
    assert reply[:2] == [3, "hb"]
    assert "currentTime" in reply[2]


CASES = [
    # (frame, unique id answered, error code)
    pytest.param(
        '[2, "e1", "Authorize", {"idTag": "TAG", "colour": "red"}]',
        "e1",
        "FormationViolation",
        id="unknown-field",
    ),
    pytest.param('[2, "e2", "Authorize", ["TAG"]]', "e2", "FormationViolation", id="not-object"),
    pytest.param(
        '[2, "e3", "Authorize", {"idTag": "123456789012345678901"}]',
        "e3",
        "PropertyConstraintViolation",
        id="too-long",
    ),
    pytest.param(
        '[2, "e4", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
        '"status": "Sleeping"}]',
        "e4",
        "PropertyConstraintViolation",
        id="bad-enum",
    ),
    pytest.param(
        '[2, "e5", "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, '
        '"timestamp": "yesterday"}]',
        "e5",
        "PropertyConstraintViolation",
        id="bad-date-time",
    ),
    pytest.param(
        '[2, "e6", "BootNotification", {"chargePointVendor": "Acme"}]',
        "e6",
        "OccurenceConstraintViolation",
        id="missing-field",
    ),
    pytest.param(
        '[2, "e7", "MeterValues", {"connectorId": 1, "meterValue": []}]',
        "e7",
        "OccurenceConstraintViolation",
        id="empty-array",
    ),
    pytest.param(
        '[2, "e8", "StatusNotification", {"connectorId": "one", "errorCode": "NoError", '
        '"status": "Available"}]',
        "e8",
        "TypeConstraintViolation",
        id="wrong-type",
    ),
    pytest.param('[2, "e9", "FlyToTheMoon", {}]', "e9", "NotImplemented", id="unknown-action"),
    pytest.param(
        '[2, "e10", "RemoteStartTransaction", {"idTag": "T"}]',
        "e10",
        "NotSupported",
        id="wrong-direction",
    ),
    pytest.param('[2, "e11", "Heartbeat"]', "e11", "ProtocolError", id="missing-payload"),
    pytest.param('[7, "e12", "Heartbeat", {}]', "e12", "ProtocolError", id="unknown-type"),
    pytest.param("this is not json", "-1", "ProtocolError", id="not-json"),
    pytest.param('[2, 12, "Heartbeat", {}]', "-1", "ProtocolError", id="id-not-string"),
    pytest.param(
        '[2, "e13", "StartTransaction", {"connectorId": 0, "idTag": "T", "meterStart": 0, '
        '"timestamp": "2026-01-01T00:00:00Z"}]',
        "e13",
        "PropertyConstraintViolation",
        id="transaction-on-connector-0",
    ),
]


async def test_each_violation_gets_its_code_and_the_connection_serves_on(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-ERR", PASSWORD)
    async with server.websocket("CP-ERR", PASSWORD) as ws:
        for case in CASES:
            frame, unique_id, code = case.values
            reply = await exchange(ws, str(frame))
            assert reply[0] == 4, (case.id, reply)
            assert reply[1] == unique_id, (case.id, reply)
            assert reply[2] == code, (case.id, reply)
            assert isinstance(reply[3], str)
            assert reply[3], case.id
            assert isinstance(reply[4], dict)
            await assert_still_serving(ws)

        oversize = json.dumps([2, "big", "DataTransfer", {"vendorId": "X", "data": "x" * 9000}])
        reply = await exchange(ws, oversize)
        assert reply[:3] == [4, "big", "FormationViolation"]
        await assert_still_serving(ws)

        # A text message that is not UTF-8 is a frame that is not JSON: answered, not
        # a reason to drop the connection.
        await ws.send(b'[2, "utf", "DataTransfer", {"vendorId": "X", "data": "\xff"}]', text=True)
        reply = json.loads(await ws.recv())
        assert reply[:3] == [4, "utf", "FormationViolation"]
        assert "utf-8" in reply[3]
        await assert_still_serving(ws)

        # A CALLRESULT nobody asked for is never answered; the connection serves on.
        await ws.send('[3, "nobody-asked", {}]')
        await assert_still_serving(ws)

    errors = await query(
        server.database_url,
        "SELECT unique_id, error_code, payload FROM message_log "
        "WHERE charger_id = 'CP-ERR' AND error_code IS NOT NULL",
    )
    logged = {(row["unique_id"], row["error_code"]) for row in errors}
    assert ("e3", "PropertyConstraintViolation") in logged
    assert ("e9", "NotImplemented") in logged
    assert ("big", "FormationViolation") in logged
    assert ("utf", "FormationViolation") in logged
    # What the charger really sent is kept, so an operator can see what was wrong.
    frames = {row["unique_id"]: row["payload"] for row in errors}
    assert frames["-1"] in {"this is not json", '[2, 12, "Heartbeat", {}]'}
    assert frames["e9"] == '[2, "e9", "FlyToTheMoon", {}]'


async def test_an_internal_failure_is_an_internal_error_not_a_crash(
    server: ServerProcess,
) -> None:
    """The charger's row vanishes under a live connection: its messages cannot be stored."""
    await server.register_charger("CP-GONE", PASSWORD)
    await server.register_charger("CP-NEIGHBOUR", PASSWORD)
    async with (
        server.websocket("CP-GONE", PASSWORD) as ws,
        server.websocket("CP-NEIGHBOUR", PASSWORD) as neighbour,
    ):
        await assert_still_serving(ws)
        await delete_charger_row(server.database_url, "CP-GONE")
        reply = await exchange(
            ws,
            '[2, "s1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
            '"status": "Available"}]',
        )
        assert reply[:3] == [4, "s1", "InternalError"]
        # The process and the other chargers are unaffected.
        await assert_still_serving(neighbour)
    async with server.api() as api:
        assert (await api.get("/chargers/CP-NEIGHBOUR")).status_code == 200
