"""Every version-neutral command an OCPP 1.6 charger takes: the call it gets, how its answer
settles the command, and what the answer leaves behind (configuration keys)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ocpp.v16 import call as call16

from tests.integration.answering import (
    Answer,
    answering_charger,
    boot16,
    refused_command,
    send_command,
)
from tests.integration.harness import ServerProcess, create_api_token
from tests.integration.ocpp201 import iso

PASSWORD = "correct-horse-battery"
ACCEPTED = {"status": "Accepted"}


def by_connector(statuses: dict[int, str]) -> Any:
    """An answer whose status depends on the request's connectorId."""
    return lambda payload: {"status": statuses[payload["connector_id"]]}


def by_key(statuses: dict[str, str]) -> Any:
    return lambda payload: {"status": statuses[payload["key"]]}


async def test_reset_clear_cache_remote_start_and_remote_stop(server: ServerProcess) -> None:
    await server.register_charger("CP-A", PASSWORD)
    await server.add_id_token("TAG-A")
    answers: dict[str, Answer] = {
        "Reset": ACCEPTED,
        "ClearCache": ACCEPTED,
        "RemoteStartTransaction": ACCEPTED,
        "RemoteStopTransaction": {"status": "Rejected"},
    }
    async with (
        answering_charger(server, "CP-A", PASSWORD, answers) as charger,
        server.api() as api,
    ):
        await boot16(charger)

        body, calls = await send_command(api, charger, "CP-A", "reset", {"type": "soft"})
        assert calls == [("Reset", {"type": "Soft"})]
        assert (body["state"], body["action"], body["request"], body["response"]) == (
            "accepted",
            "Reset",
            {"type": "Soft"},
            ACCEPTED,
        )

        body, calls = await send_command(api, charger, "CP-A", "clear-cache", {})
        assert calls == [("ClearCache", {})]
        assert (body["state"], body["action"], body["request"], body["response"]) == (
            "accepted",
            "ClearCache",
            {},
            ACCEPTED,
        )

        body, calls = await send_command(
            api, charger, "CP-A", "remote-start", {"id_token": "TAG-A", "evse_id": 1}
        )
        assert calls == [("RemoteStartTransaction", {"id_tag": "TAG-A", "connector_id": 1})]
        assert body["state"] == "accepted"
        assert body["action"] == "RemoteStartTransaction"
        assert body["request"] == {"idTag": "TAG-A", "connectorId": 1}
        assert body["response"] == ACCEPTED

        started = await charger.call(
            call16.StartTransaction(
                connector_id=1, id_tag="TAG-A", meter_start=0, timestamp=iso(datetime.now(UTC))
            )
        )
        listed = (await api.get("/transactions", params={"charger_id": "CP-A"})).json()
        (transaction,) = listed["items"]
        body, calls = await send_command(
            api, charger, "CP-A", "remote-stop", {"transaction_id": transaction["id"]}
        )
        assert calls == [("RemoteStopTransaction", {"transaction_id": started.transaction_id})]
        assert body["action"] == "RemoteStopTransaction"
        assert body["request"] == {"transactionId": started.transaction_id}
        assert body["response"] == {"status": "Rejected"}
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered Rejected"
        assert body["transaction_id"] == transaction["id"]


async def test_unlock_change_availability_and_trigger_message(server: ServerProcess) -> None:
    await server.register_charger("CP-B", PASSWORD)
    answers: dict[str, Answer] = {
        "UnlockConnector": by_connector({1: "Unlocked", 2: "UnlockFailed", 3: "NotSupported"}),
        "ChangeAvailability": by_connector({0: "Scheduled", 2: "Rejected"}),
        "TriggerMessage": lambda payload: {
            "status": "NotImplemented"
            if payload["requested_message"] == "DiagnosticsStatusNotification"
            else "Accepted"
        },
        "ExtendedTriggerMessage": ACCEPTED,
    }
    async with (
        answering_charger(server, "CP-B", PASSWORD, answers) as charger,
        server.api() as api,
    ):
        await boot16(charger)

        # unlock: accepted only when Unlocked.
        body, calls = await send_command(api, charger, "CP-B", "unlock", {"evse_id": 1})
        assert calls == [("UnlockConnector", {"connector_id": 1})]
        assert body["state"] == "accepted"
        assert body["action"] == "UnlockConnector"
        assert body["request"] == {"connectorId": 1}
        assert body["response"] == {"status": "Unlocked"}
        for evse_id, status in [(2, "UnlockFailed"), (3, "NotSupported")]:
            body, calls = await send_command(api, charger, "CP-B", "unlock", {"evse_id": evse_id})
            assert calls == [("UnlockConnector", {"connector_id": evse_id})]
            assert body["state"] == "rejected"
            assert body["response"] == {"status": status}
            assert body["error"] == f"the charger answered {status}"
        body, calls = await refused_command(
            api, charger, "CP-B", "unlock", {"evse_id": 1, "connector_id": 2}
        )
        assert calls == []
        assert "give its connector id as evse_id" in body["error"]

        # change-availability: the whole charger is connector 0.
        body, calls = await send_command(
            api, charger, "CP-B", "change-availability", {"operative": False}
        )
        assert calls == [("ChangeAvailability", {"connector_id": 0, "type": "Inoperative"})]
        assert body["state"] == "accepted"
        assert body["action"] == "ChangeAvailability"
        assert body["request"] == {"connectorId": 0, "type": "Inoperative"}
        assert body["response"] == {"status": "Scheduled"}
        body, calls = await send_command(
            api, charger, "CP-B", "change-availability", {"evse_id": 2, "operative": True}
        )
        assert calls == [("ChangeAvailability", {"connector_id": 2, "type": "Operative"})]
        assert body["request"] == {"connectorId": 2, "type": "Operative"}
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered Rejected"
        body, calls = await refused_command(
            api,
            charger,
            "CP-B",
            "change-availability",
            {"evse_id": 1, "connector_id": 1, "operative": True},
        )
        assert calls == []
        assert body["error"] == (
            "connector_id is OCPP 2.0.1 only: an OCPP 1.6 connector is addressed by evse_id"
        )

        # trigger-message: TriggerMessage, or the security extension's ExtendedTriggerMessage.
        body, calls = await send_command(
            api, charger, "CP-B", "trigger-message", {"message": "StatusNotification", "evse_id": 2}
        )
        assert calls == [
            ("TriggerMessage", {"requested_message": "StatusNotification", "connector_id": 2})
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "TriggerMessage"
        assert body["request"] == {"requestedMessage": "StatusNotification", "connectorId": 2}
        assert body["response"] == ACCEPTED
        body, calls = await send_command(
            api, charger, "CP-B", "trigger-message", {"message": "DiagnosticsStatusNotification"}
        )
        assert calls == [("TriggerMessage", {"requested_message": "DiagnosticsStatusNotification"})]
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered NotImplemented"
        body, calls = await send_command(
            api, charger, "CP-B", "trigger-message", {"message": "SignChargePointCertificate"}
        )
        assert calls == [
            ("ExtendedTriggerMessage", {"requested_message": "SignChargePointCertificate"})
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "ExtendedTriggerMessage"
        assert body["request"] == {"requestedMessage": "SignChargePointCertificate"}
        body, calls = await send_command(
            api,
            charger,
            "CP-B",
            "trigger-message",
            {"message": "SignedFirmwareStatusNotification"},
        )
        assert calls == [
            ("ExtendedTriggerMessage", {"requested_message": "FirmwareStatusNotification"})
        ]
        assert body["request"] == {"requestedMessage": "FirmwareStatusNotification"}
        for refused, reason in [
            ({"message": "TransactionEvent"}, "cannot be asked to send TransactionEvent"),
            ({"message": "Heartbeat", "connector_id": 1}, "connector_id is OCPP 2.0.1 only"),
        ]:
            body, calls = await refused_command(api, charger, "CP-B", "trigger-message", refused)
            assert calls == []
            assert reason in body["error"]
        listing = (
            await refused_command(api, charger, "CP-B", "trigger-message", {"message": "Nope"})
        )[0]["error"]
        assert listing == (
            "an OCPP 1.6 charger cannot be asked to send Nope; it can be asked for "
            "BootNotification, DiagnosticsStatusNotification, FirmwareStatusNotification, "
            "Heartbeat, LogStatusNotification, MeterValues, SignChargePointCertificate, "
            "SignedFirmwareStatusNotification, StatusNotification (those not in "
            "TriggerMessage through the security extension's ExtendedTriggerMessage)"
        )


KEYS = [
    {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
    {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    {"key": "AuthorizationKey", "readonly": False},  # write-only: no value given
]


async def configuration(api: Any, charger_id: str) -> list[dict[str, Any]]:
    response = await api.get(f"/chargers/{charger_id}/configuration")
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert page["total"] == len(page["items"])
    return [{k: v for k, v in item.items() if k != "updated_at"} for item in page["items"]]


async def test_get_and_set_configuration_keep_the_keys(server: ServerProcess) -> None:
    await server.register_charger("CP-C", PASSWORD)
    full_read = {"configuration_key": KEYS}
    answers: dict[str, Answer] = {
        "GetConfiguration": lambda payload: (
            {"configuration_key": KEYS[:1], "unknown_key": ["Bogus"]}
            if payload.get("key")
            else full_read
        ),
        "ChangeConfiguration": by_key(
            {
                "HeartbeatInterval": "Accepted",
                "MeterValueSampleInterval": "RebootRequired",
                "NumberOfConnectors": "Rejected",
                "Fancy": "NotSupported",
            }
        ),
    }
    async with (
        answering_charger(server, "CP-C", PASSWORD, answers) as charger,
        server.api() as api,
    ):
        await boot16(charger)
        assert await configuration(api, "CP-C") == []

        body, calls = await send_command(api, charger, "CP-C", "get-configuration", {})
        assert calls == [("GetConfiguration", {})]
        assert body["state"] == "accepted"
        assert body["error"] is None
        assert body["action"] == "GetConfiguration"
        assert body["request"] == {}
        assert body["response"] == {
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
                {"key": "AuthorizationKey", "readonly": False},
            ]
        }
        assert await configuration(api, "CP-C") == [
            {"key": "AuthorizationKey", "value": None, "readonly": False},
            {"key": "HeartbeatInterval", "value": "300", "readonly": False},
            {"key": "NumberOfConnectors", "value": "2", "readonly": True},
        ]

        # Some keys: the unknown one is named; the others are kept.
        body, calls = await send_command(
            api, charger, "CP-C", "get-configuration", {"keys": ["HeartbeatInterval", "Bogus"]}
        )
        assert calls == [("GetConfiguration", {"key": ["HeartbeatInterval", "Bogus"]})]
        assert body["request"] == {"key": ["HeartbeatInterval", "Bogus"]}
        assert body["state"] == "accepted"
        assert body["response"]["unknownKey"] == ["Bogus"]
        assert body["error"] == "the charger does not know Bogus"
        assert len(await configuration(api, "CP-C")) == 3

        # Accepted and RebootRequired are noted; a refusal leaves the value as it was.
        body, calls = await send_command(
            api, charger, "CP-C", "set-configuration", {"key": "HeartbeatInterval", "value": "60"}
        )
        assert calls == [("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"})]
        assert body["state"] == "accepted"
        assert body["action"] == "ChangeConfiguration"
        assert body["request"] == {"key": "HeartbeatInterval", "value": "60"}
        assert body["response"] == ACCEPTED
        body, calls = await send_command(
            api,
            charger,
            "CP-C",
            "set-configuration",
            {"key": "MeterValueSampleInterval", "value": "15"},
        )
        assert calls == [
            ("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "15"})
        ]
        assert body["state"] == "accepted"
        assert body["error"] is None
        assert body["response"] == {"status": "RebootRequired"}
        for key, status in [("NumberOfConnectors", "Rejected"), ("Fancy", "NotSupported")]:
            body, calls = await send_command(
                api, charger, "CP-C", "set-configuration", {"key": key, "value": "9"}
            )
            assert calls == [("ChangeConfiguration", {"key": key, "value": "9"})]
            assert body["state"] == "rejected"
            assert body["error"] == f"the charger answered {status}"
        assert await configuration(api, "CP-C") == [
            {"key": "AuthorizationKey", "value": None, "readonly": False},
            {"key": "HeartbeatInterval", "value": "60", "readonly": False},
            {"key": "MeterValueSampleInterval", "value": "15", "readonly": False},
            {"key": "NumberOfConnectors", "value": "2", "readonly": True},
        ]

        # A full read is the whole list: a key it no longer has is forgotten.
        full_read["configuration_key"] = KEYS[1:]
        await send_command(api, charger, "CP-C", "get-configuration", {})
        assert [item["key"] for item in await configuration(api, "CP-C")] == [
            "AuthorizationKey",
            "NumberOfConnectors",
        ]

        # What a 1.6 charger cannot take never goes out.
        variable = {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}
        for name, refused, reason in [
            ("get-configuration", {"variables": [variable]}, "give keys"),
            ("set-configuration", {"variable": variable, "value": "1"}, "give key"),
            (
                "set-configuration",
                {"key": "HeartbeatInterval", "value": "9" * 501},
                "not a valid ChangeConfiguration request of OCPP 1.6",
            ),
        ]:
            body, calls = await refused_command(api, charger, "CP-C", name, refused)
            assert calls == []
            assert reason in body["error"]

        missing = await api.get("/chargers/NOPE/configuration")
        assert missing.status_code == 404

    viewer = await create_api_token(server.database_url, "viewer")
    async with server.api(viewer) as api:
        paged = (await api.get("/chargers/CP-C/configuration", params={"limit": 1})).json()
        assert paged["total"] == 2
        assert [item["key"] for item in paged["items"]] == ["AuthorizationKey"]
        assert paged["items"][0]["updated_at"] is not None


CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


async def test_firmware_diagnostics_and_data_transfer(server: ServerProcess) -> None:
    await server.register_charger("CP-D", PASSWORD)
    answers: dict[str, Answer] = {
        "UpdateFirmware": {},
        "SignedUpdateFirmware": lambda payload: {
            "status": "InvalidCertificate" if payload.get("retries") == 9 else "Accepted"
        },
        "GetDiagnostics": lambda payload: (
            {"file_name": "diag-CP-D.zip"} if payload.get("start_time") else {}
        ),
        "GetLog": {"status": "Accepted", "filename": "security.log"},
        "DataTransfer": lambda payload: (
            {"status": "Accepted", "data": "pong"}
            if payload["vendor_id"] == "com.acme"
            else {"status": "UnknownVendorId"}
        ),
    }
    async with (
        answering_charger(server, "CP-D", PASSWORD, answers) as charger,
        server.api() as api,
    ):
        await boot16(charger)

        # update-firmware: UpdateFirmware, times in UTC; no status means accepted.
        body, calls = await send_command(
            api,
            charger,
            "CP-D",
            "update-firmware",
            {
                "location": "https://fw.example/w1-2.0.bin",
                "retrieve_at": "2026-06-01T02:00:00+02:00",
                "retries": 3,
                "retry_interval": 60,
            },
        )
        assert calls == [
            (
                "UpdateFirmware",
                {
                    "location": "https://fw.example/w1-2.0.bin",
                    "retrieve_date": "2026-06-01T00:00:00Z",
                    "retries": 3,
                    "retry_interval": 60,
                },
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "UpdateFirmware"
        assert body["request"] == {
            "location": "https://fw.example/w1-2.0.bin",
            "retrieveDate": "2026-06-01T00:00:00Z",
            "retries": 3,
            "retryInterval": 60,
        }
        assert body["response"] == {}

        # With a signature: the security extension's SignedUpdateFirmware.
        signed = {
            "location": "https://fw.example/w1-2.1.bin",
            "retrieve_at": "2026-06-01T00:00:00Z",
            "install_at": "2026-06-02T00:00:00Z",
            "signing_certificate": CERTIFICATE,
            "signature": "c2lnbmF0dXJl",
        }
        body, calls = await send_command(api, charger, "CP-D", "update-firmware", signed)
        assert calls == [
            (
                "SignedUpdateFirmware",
                {
                    "request_id": body["id"],
                    "firmware": {
                        "location": "https://fw.example/w1-2.1.bin",
                        "retrieve_date_time": "2026-06-01T00:00:00Z",
                        "install_date_time": "2026-06-02T00:00:00Z",
                        "signing_certificate": CERTIFICATE,
                        "signature": "c2lnbmF0dXJl",
                    },
                },
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "SignedUpdateFirmware"
        assert body["request"] == {
            "requestId": body["id"],
            "firmware": {
                "location": "https://fw.example/w1-2.1.bin",
                "retrieveDateTime": "2026-06-01T00:00:00Z",
                "installDateTime": "2026-06-02T00:00:00Z",
                "signingCertificate": CERTIFICATE,
                "signature": "c2lnbmF0dXJl",
            },
        }
        assert body["response"] == ACCEPTED
        body, calls = await send_command(
            api, charger, "CP-D", "update-firmware", {**signed, "retries": 9}
        )
        assert [action for action, _ in calls] == ["SignedUpdateFirmware"]
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered InvalidCertificate"
        firmware_refusals: list[tuple[dict[str, Any], str]] = [
            ({**signed, "signature": None}, "needs both signature and signing_certificate"),
            (
                {
                    "location": "ftp://x",
                    "retrieve_at": "2026-06-01T00:00:00Z",
                    "install_at": "2026-06-02T00:00:00Z",
                },
                "has no install time",
            ),
        ]
        for refused, reason in firmware_refusals:
            body, calls = await refused_command(
                api,
                charger,
                "CP-D",
                "update-firmware",
                {k: v for k, v in refused.items() if v is not None},
            )
            assert calls == []
            assert reason in body["error"]

        # get-diagnostics: GetDiagnostics; the file name (if any) is in the response.
        body, calls = await send_command(
            api,
            charger,
            "CP-D",
            "get-diagnostics",
            {
                "location": "ftp://logs.example/CP-D/",
                "since": "2026-05-01T00:00:00Z",
                "until": "2026-05-02T00:00:00Z",
                "retries": 1,
                "retry_interval": 30,
            },
        )
        assert calls == [
            (
                "GetDiagnostics",
                {
                    "location": "ftp://logs.example/CP-D/",
                    "start_time": "2026-05-01T00:00:00Z",
                    "stop_time": "2026-05-02T00:00:00Z",
                    "retries": 1,
                    "retry_interval": 30,
                },
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "GetDiagnostics"
        assert body["request"] == {
            "location": "ftp://logs.example/CP-D/",
            "retries": 1,
            "retryInterval": 30,
            "startTime": "2026-05-01T00:00:00Z",
            "stopTime": "2026-05-02T00:00:00Z",
        }
        assert body["response"] == {"fileName": "diag-CP-D.zip"}
        body, calls = await send_command(
            api, charger, "CP-D", "get-diagnostics", {"location": "ftp://logs.example/CP-D/"}
        )
        assert calls == [("GetDiagnostics", {"location": "ftp://logs.example/CP-D/"})]
        assert body["state"] == "accepted"
        assert body["response"] == {}  # nothing to upload

        # The security log: the security extension's GetLog.
        body, calls = await send_command(
            api,
            charger,
            "CP-D",
            "get-diagnostics",
            {
                "location": "ftp://logs.example/CP-D/",
                "log_type": "security",
                "since": "2026-05-01T00:00:00Z",
            },
        )
        assert calls == [
            (
                "GetLog",
                {
                    "log": {
                        "remote_location": "ftp://logs.example/CP-D/",
                        "oldest_timestamp": "2026-05-01T00:00:00Z",
                    },
                    "log_type": "SecurityLog",
                    "request_id": body["id"],
                },
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "GetLog"
        assert body["request"] == {
            "log": {
                "remoteLocation": "ftp://logs.example/CP-D/",
                "oldestTimestamp": "2026-05-01T00:00:00Z",
            },
            "logType": "SecurityLog",
            "requestId": body["id"],
        }
        assert body["response"] == {"status": "Accepted", "filename": "security.log"}

        # data-transfer: 1.6 data is a string, so other data goes as JSON text.
        data = {"level": 3, "tags": ["a", "b"]}
        body, calls = await send_command(
            api,
            charger,
            "CP-D",
            "data-transfer",
            {"vendor_id": "com.acme", "message_id": "Ping", "data": data},
        )
        assert calls == [
            (
                "DataTransfer",
                {
                    "vendor_id": "com.acme",
                    "message_id": "Ping",
                    "data": '{"level":3,"tags":["a","b"]}',
                },
            )
        ]
        assert json.loads(calls[0][1]["data"]) == data
        assert body["state"] == "accepted"
        assert body["action"] == "DataTransfer"
        assert body["request"] == {
            "vendorId": "com.acme",
            "messageId": "Ping",
            "data": '{"level":3,"tags":["a","b"]}',
        }
        assert body["response"] == {"status": "Accepted", "data": "pong"}
        body, calls = await send_command(
            api, charger, "CP-D", "data-transfer", {"vendor_id": "com.other", "data": "raw"}
        )
        assert calls == [("DataTransfer", {"vendor_id": "com.other", "data": "raw"})]
        assert body["request"] == {"vendorId": "com.other", "data": "raw"}
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered UnknownVendorId"


async def test_201_only_commands_are_refused_before_they_are_queued(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-E", PASSWORD)
    async with answering_charger(server, "CP-E", PASSWORD, {}) as charger:
        await boot16(charger)
        async with server.api() as api:
            for name, body in [
                ("get-base-report", {"report_base": "FullInventory"}),
                ("set-display-message", {"message": {"content": "Hello"}}),
            ]:
                refused = await api.post(f"/chargers/CP-E/commands/{name}", json=body)
                assert refused.status_code == 422, refused.text
                assert f"{name} does not exist in OCPP 1.6" in refused.text
            assert (await api.get("/chargers/CP-E/commands")).json()["total"] == 0
        assert charger.received.calls == []
