"""Bad input from a 2.0.1 charger gets the precise CALLERROR, and the connection serves on."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import ClientConnection

from tests.integration.harness import ServerProcess, exchange, query
from tests.integration.ocpp201 import SUBPROTOCOL

PASSWORD = "correct-horse-battery"
HEARTBEAT = '[2, "hb", "Heartbeat", {}]'
STATUS = (
    '{"timestamp": "2026-03-01T10:00:00Z", "connectorStatus": "Available", '
    '"evseId": 1, "connectorId": 1}'
)
TRANSACTION = (
    '{"eventType": "Started", "timestamp": "2026-03-01T10:00:00Z", '
    '"triggerReason": "Authorized", "seqNo": 0, "transactionInfo": {"transactionId": "T1"}}'
)


async def assert_still_serving(ws: ClientConnection) -> None:
    reply = await exchange(ws, HEARTBEAT)
    assert reply[:2] == [3, "hb"]
    assert "currentTime" in reply[2]


CASES = [
    # (frame, unique id answered, error code)
    pytest.param(
        '[2, "e1", "Authorize", {"idToken": {"idToken": "T", "type": "ISO14443"}, "x": 1}]',
        "e1",
        "FormatViolation",
        id="unknown-field",
    ),
    pytest.param('[2, "e2", "Authorize", ["T"]]', "e2", "FormatViolation", id="not-object"),
    pytest.param(
        '[2, "e3", "Authorize", {"idToken": {"idToken": "' + "x" * 37 + '", "type": "Local"}}]',
        "e3",
        "PropertyConstraintViolation",
        id="too-long",
    ),
    pytest.param(
        '[2, "e4", "StatusNotification", ' + STATUS.replace("Available", "Sleeping") + "]",
        "e4",
        "PropertyConstraintViolation",
        id="bad-enum",
    ),
    pytest.param(
        '[2, "e5", "TransactionEvent", ' + TRANSACTION.replace("2026-03-01T10:00:00Z", "now") + "]",
        "e5",
        "PropertyConstraintViolation",
        id="bad-date-time",
    ),
    pytest.param(
        '[2, "e6", "BootNotification", {"reason": "PowerUp"}]',
        "e6",
        "OccurrenceConstraintViolation",
        id="missing-field",
    ),
    pytest.param(
        '[2, "e7", "TransactionEvent", '
        + TRANSACTION.replace('"Authorized", ', '"Authorized", "meterValue": [], ')
        + "]",
        "e7",
        "OccurrenceConstraintViolation",
        id="empty-array",
    ),
    pytest.param(
        '[2, "e8", "StatusNotification", ' + STATUS.replace('"evseId": 1', '"evseId": "1"') + "]",
        "e8",
        "TypeConstraintViolation",
        id="wrong-type",
    ),
    pytest.param(
        '[2, "e9", "TransactionEvent", ' + TRANSACTION.replace('"seqNo": 0', '"seqNo": 0.5') + "]",
        "e9",
        "TypeConstraintViolation",
        id="fraction-for-integer",
    ),
    pytest.param('[2, "e10", "FlyToTheMoon", {}]', "e10", "NotImplemented", id="unknown-action"),
    pytest.param(
        '[2, "e11", "RequestStartTransaction", '
        '{"idToken": {"idToken": "T", "type": "Local"}, "remoteStartId": 1}]',
        "e11",
        "NotSupported",
        id="wrong-direction",
    ),
    pytest.param("this is not json", "-1", "RpcFrameworkError", id="not-json"),
    pytest.param('[2, 12, "Heartbeat", {}]', "-1", "RpcFrameworkError", id="id-not-string"),
    pytest.param(
        '[7, "e12", "Heartbeat", {}]', "e12", "MessageTypeNotSupported", id="unknown-type"
    ),
    pytest.param('[2, "e13", "Heartbeat"]', "e13", "ProtocolError", id="missing-payload"),
]


async def test_each_violation_gets_its_code_and_the_connection_serves_on(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-ERR201", PASSWORD)
    async with server.websocket("CP-ERR201", PASSWORD, subprotocols=(SUBPROTOCOL,)) as ws:
        assert ws.subprotocol == SUBPROTOCOL
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
        assert reply[:3] == [4, "big", "FormatViolation"]
        await assert_still_serving(ws)

    errors = await query(
        server.database_url,
        "SELECT unique_id, error_code FROM message_log "
        "WHERE charger_id = 'CP-ERR201' AND error_code IS NOT NULL",
    )
    logged = {(row["unique_id"], row["error_code"]) for row in errors}
    assert ("e6", "OccurrenceConstraintViolation") in logged
    assert ("e12", "MessageTypeNotSupported") in logged
    assert ("-1", "RpcFrameworkError") in logged
    # Nothing invalid reached the domain.
    assert await query(server.database_url, "SELECT id FROM transactions") == []


async def test_a_charger_not_accepted_may_only_boot(server: ServerProcess) -> None:
    """B02.FR.09 / B03.FR.07: Pending or Rejected, other messages get SecurityError."""
    await server.register_charger("CP-PEND", PASSWORD, registration_status="Pending")
    await server.register_charger("CP-REJ", PASSWORD, registration_status="Rejected")
    boot = '{"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}'
    report = '{"requestId": 1, "generatedAt": "2026-03-01T10:00:00Z", "seqNo": 0}'
    for charger_id, status in (("CP-PEND", "Pending"), ("CP-REJ", "Rejected")):
        async with server.websocket(charger_id, PASSWORD, subprotocols=(SUBPROTOCOL,)) as ws:
            booted = await exchange(ws, f'[2, "b1", "BootNotification", {boot}]')
            assert booted[2]["status"] == status
            assert booted[2]["interval"] == 60
            for action, payload in (("StatusNotification", STATUS), ("Heartbeat", "{}")):
                refused = await exchange(ws, f'[2, "x", "{action}", {payload}]')
                assert refused[:3] == [4, "x", "SecurityError"], (charger_id, refused)
            # While Pending the CSMS may ask for reports; a Rejected charger may not send them.
            answer = await exchange(ws, f'[2, "r1", "NotifyReport", {report}]')
            expected = [3, "r1", {}] if status == "Pending" else [4, "r1", "SecurityError"]
            assert answer[: len(expected)] == expected
    statuses = await query(
        server.database_url,
        "SELECT charger_id, status FROM status_changes ORDER BY charger_id",
    )
    assert statuses == []
