"""Every version-neutral command an OCPP 2.0.1 charger takes: the call it gets, how its
answer settles the command, and what the answer leaves behind (device model values)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocpp.v201 import call as call201

from tests.integration.answering import Answer, answering_charger, refused_command, send_command
from tests.integration.harness import ServerProcess
from tests.integration.ocpp201 import boot, iso

PASSWORD = "correct-horse-battery"
ACCEPTED = {"status": "Accepted"}


def started(transaction_id: str, token: str = "APP-1") -> call201.TransactionEvent:
    return call201.TransactionEvent(
        event_type="Started",
        timestamp=iso(datetime.now(UTC)),
        trigger_reason="Authorized",
        seq_no=0,
        transaction_info={"transaction_id": transaction_id},
        evse={"id": 1, "connector_id": 1},
        id_token={"id_token": token, "type": "ISO14443"},
    )


async def transaction_pk(api: Any, charger_id: str) -> int:
    listed = (await api.get("/transactions", params={"charger_id": charger_id})).json()
    (transaction,) = listed["items"]
    pk: int = transaction["id"]
    return pk


async def test_reset_clear_cache_remote_start_and_remote_stop(server: ServerProcess) -> None:
    await server.register_charger("CS-A", PASSWORD)
    answers: dict[str, Answer] = {
        "Reset": ACCEPTED,
        "ClearCache": {"status": "Rejected", "status_info": {"reason_code": "Busy"}},
        "RequestStartTransaction": ACCEPTED,
        "RequestStopTransaction": ACCEPTED,
    }
    async with (
        answering_charger(server, "CS-A", PASSWORD, answers, version="2.0.1") as charger,
        server.api() as api,
    ):
        await charger.call(boot())

        body, calls = await send_command(
            api, charger, "CS-A", "reset", {"type": "hard", "evse_id": 2}
        )
        assert calls == [("Reset", {"type": "Immediate", "evse_id": 2})]
        assert body["state"] == "accepted"
        assert body["action"] == "Reset"
        assert body["request"] == {"type": "Immediate", "evseId": 2}
        assert body["response"] == ACCEPTED

        body, calls = await send_command(api, charger, "CS-A", "clear-cache", {})
        assert calls == [("ClearCache", {})]
        assert body["action"] == "ClearCache"
        assert body["request"] == {}
        assert body["response"] == {"status": "Rejected", "statusInfo": {"reasonCode": "Busy"}}
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered Rejected: Busy"

        body, calls = await send_command(
            api, charger, "CS-A", "remote-start", {"id_token": "APP-1", "evse_id": 1}
        )
        assert calls == [
            (
                "RequestStartTransaction",
                {
                    "id_token": {"id_token": "APP-1", "type": "Central"},
                    "remote_start_id": body["id"],
                    "evse_id": 1,
                },
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "RequestStartTransaction"
        assert body["request"] == {
            "idToken": {"idToken": "APP-1", "type": "Central"},
            "remoteStartId": body["id"],
            "evseId": 1,
        }
        assert body["response"] == ACCEPTED

        await charger.call(started("tx-A"))
        pk = await transaction_pk(api, "CS-A")
        body, calls = await send_command(
            api, charger, "CS-A", "remote-stop", {"transaction_id": pk}
        )
        assert calls == [("RequestStopTransaction", {"transaction_id": "tx-A"})]
        assert body["state"] == "accepted"
        assert body["action"] == "RequestStopTransaction"
        assert body["request"] == {"transactionId": "tx-A"}
        assert body["response"] == ACCEPTED
        assert body["transaction_id"] == pk


async def test_unlock_change_availability_and_trigger_message(server: ServerProcess) -> None:
    await server.register_charger("CS-B", PASSWORD)
    answers: dict[str, Answer] = {
        "UnlockConnector": lambda payload: (
            {"status": "Unlocked"}
            if payload["evse_id"] == 1
            else {
                "status": "OngoingAuthorizedTransaction",
                "status_info": {"reason_code": "TxActive", "additional_info": "EV charging"},
            }
        ),
        "ChangeAvailability": lambda payload: (
            {"status": "Scheduled"} if "evse" in payload else ACCEPTED
        ),
        "TriggerMessage": lambda payload: (
            {"status": "NotImplemented"}
            if payload["requested_message"] == "SignV2GCertificate"
            else ACCEPTED
        ),
    }
    async with (
        answering_charger(server, "CS-B", PASSWORD, answers, version="2.0.1") as charger,
        server.api() as api,
    ):
        await charger.call(boot())

        body, calls = await send_command(
            api, charger, "CS-B", "unlock", {"evse_id": 1, "connector_id": 2}
        )
        assert calls == [("UnlockConnector", {"evse_id": 1, "connector_id": 2})]
        assert body["state"] == "accepted"
        assert body["action"] == "UnlockConnector"
        assert body["request"] == {"evseId": 1, "connectorId": 2}
        assert body["response"] == {"status": "Unlocked"}
        body, calls = await send_command(api, charger, "CS-B", "unlock", {"evse_id": 2})
        assert calls == [("UnlockConnector", {"evse_id": 2, "connector_id": 1})]
        assert body["state"] == "rejected"
        assert body["error"] == (
            "the charger answered OngoingAuthorizedTransaction: TxActive (EV charging)"
        )

        body, calls = await send_command(
            api, charger, "CS-B", "change-availability", {"operative": False}
        )
        assert calls == [("ChangeAvailability", {"operational_status": "Inoperative"})]
        assert body["state"] == "accepted"
        assert body["action"] == "ChangeAvailability"
        assert body["request"] == {"operationalStatus": "Inoperative"}
        assert body["response"] == ACCEPTED
        body, calls = await send_command(
            api,
            charger,
            "CS-B",
            "change-availability",
            {"evse_id": 1, "connector_id": 2, "operative": True},
        )
        assert calls == [
            (
                "ChangeAvailability",
                {"operational_status": "Operative", "evse": {"id": 1, "connector_id": 2}},
            )
        ]
        assert body["request"] == {
            "operationalStatus": "Operative",
            "evse": {"id": 1, "connectorId": 2},
        }
        assert body["state"] == "accepted"
        assert body["response"] == {"status": "Scheduled"}
        body, calls = await refused_command(
            api, charger, "CS-B", "change-availability", {"connector_id": 2, "operative": True}
        )
        assert calls == []
        assert body["error"] == "connector_id needs the evse_id it belongs to"

        body, calls = await send_command(
            api,
            charger,
            "CS-B",
            "trigger-message",
            {"message": "MeterValues", "evse_id": 2, "connector_id": 1},
        )
        assert calls == [
            (
                "TriggerMessage",
                {"requested_message": "MeterValues", "evse": {"id": 2, "connector_id": 1}},
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "TriggerMessage"
        assert body["request"] == {
            "requestedMessage": "MeterValues",
            "evse": {"id": 2, "connectorId": 1},
        }
        assert body["response"] == ACCEPTED
        body, calls = await send_command(
            api, charger, "CS-B", "trigger-message", {"message": "SignV2GCertificate"}
        )
        assert calls == [("TriggerMessage", {"requested_message": "SignV2GCertificate"})]
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered NotImplemented"
        # A 1.6 name is not a 2.0.1 one.
        body, calls = await refused_command(
            api, charger, "CS-B", "trigger-message", {"message": "SignChargePointCertificate"}
        )
        assert calls == []
        assert body["error"] == (
            "an OCPP 2.0.1 charger cannot be asked to send SignChargePointCertificate; it can "
            "be asked for BootNotification, FirmwareStatusNotification, Heartbeat, "
            "LogStatusNotification, MeterValues, PublishFirmwareStatusNotification, "
            "SignChargingStationCertificate, SignCombinedCertificate, SignV2GCertificate, "
            "StatusNotification, TransactionEvent"
        )


def report_entry(component: dict[str, Any], variable: str) -> dict[str, Any]:
    return {
        "component": component,
        "variable": {"name": variable},
        "variable_attribute": [
            {"value": "300", "mutability": "ReadWrite", "persistent": True},
            {"type": "Target", "value": "300"},
        ],
        "variable_characteristics": {
            "data_type": "integer",
            "unit": "s",
            "supports_monitoring": False,
        },
    }


def get_result(data: dict[str, Any]) -> dict[str, Any]:
    """What the test charger answers for one variable of a GetVariables."""
    result = {k: v for k, v in data.items() if k in ("component", "variable", "attribute_type")}
    if data["variable"]["name"] == "HeartbeatInterval":
        return {**result, "attribute_status": "Accepted", "attribute_value": "120"}
    if data["variable"]["name"] == "Power":
        return {**result, "attribute_status": "Accepted", "attribute_value": "11000"}
    return {
        **result,
        "attribute_status": "UnknownVariable",
        "attribute_status_info": {"reason_code": "NoSuchVar"},
    }


def set_result(data: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in data.items() if k in ("component", "variable", "attribute_type")}
    statuses = {"HeartbeatInterval": "Accepted", "OfflineThreshold": "RebootRequired"}
    status = statuses.get(data["variable"]["name"], "Rejected")
    if status == "Rejected":
        result["attribute_status_info"] = {"reason_code": "OutOfRange", "additional_info": "max 9"}
    return {**result, "attribute_status": status}


async def variables(api: Any, charger_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(f"/chargers/{charger_id}/variables", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def attributes(variable: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        a["type"]: (a["value"], a["mutability"], a["persistent"]) for a in variable["attributes"]
    }


async def test_get_and_set_configuration_read_and_write_variables(server: ServerProcess) -> None:
    await server.register_charger("CS-C", PASSWORD)
    answers: dict[str, Answer] = {
        "GetVariables": lambda payload: {
            "get_variable_result": [get_result(data) for data in payload["get_variable_data"]]
        },
        "SetVariables": lambda payload: {
            "set_variable_result": [set_result(data) for data in payload["set_variable_data"]]
        },
    }
    comm = {"name": "OCPPCommCtrlr"}
    async with (
        answering_charger(server, "CS-C", PASSWORD, answers, version="2.0.1") as charger,
        server.api() as api,
    ):
        await charger.call(boot())
        # What the device model already knows of HeartbeatInterval, from a report.
        await charger.call(
            call201.NotifyReport(
                request_id=1,
                generated_at=iso(datetime(2026, 1, 1, tzinfo=UTC)),
                seq_no=0,
                report_data=[report_entry(comm, "HeartbeatInterval")],
            )
        )

        # get-configuration: GetVariables, accepted when at least one is read.
        body, calls = await send_command(
            api,
            charger,
            "CS-C",
            "get-configuration",
            {
                "variables": [
                    {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"},
                    {
                        "component": "EVSE",
                        "evse_id": 1,
                        "variable": "Power",
                        "variable_instance": "Max",
                        "attribute": "MaxSet",
                    },
                    {"component": "OCPPCommCtrlr", "variable": "Bogus"},
                ]
            },
        )
        assert calls == [
            (
                "GetVariables",
                {
                    "get_variable_data": [
                        {"component": comm, "variable": {"name": "HeartbeatInterval"}},
                        {
                            "component": {"name": "EVSE", "evse": {"id": 1}},
                            "variable": {"name": "Power", "instance": "Max"},
                            "attribute_type": "MaxSet",
                        },
                        {"component": comm, "variable": {"name": "Bogus"}},
                    ]
                },
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "GetVariables"
        assert body["request"] == {
            "getVariableData": [
                {"component": comm, "variable": {"name": "HeartbeatInterval"}},
                {
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power", "instance": "Max"},
                    "attributeType": "MaxSet",
                },
                {"component": comm, "variable": {"name": "Bogus"}},
            ]
        }
        assert body["response"]["getVariableResult"][0] == {
            "attributeStatus": "Accepted",
            "component": comm,
            "variable": {"name": "HeartbeatInterval"},
            "attributeValue": "120",
        }
        assert body["error"] == "not read: OCPPCommCtrlr/Bogus: UnknownVariable: NoSuchVar"

        # The values read are in the device model; what the report said of them stays.
        (heartbeat,) = await variables(api, "CS-C", variable="HeartbeatInterval")
        assert attributes(heartbeat) == {
            "Actual": ("120", "ReadWrite", True),
            "Target": ("300", "ReadWrite", False),
        }
        assert heartbeat["characteristics"]["unit"] == "s"
        (power,) = await variables(api, "CS-C", variable="Power")
        assert power["component"] == {
            "name": "EVSE",
            "instance": None,
            "evse_id": 1,
            "connector_id": None,
        }
        assert power["variable_instance"] == "Max"
        assert attributes(power) == {"MaxSet": ("11000", None, None)}
        assert power["characteristics"] is None
        assert await variables(api, "CS-C", variable="Bogus") == []

        body, calls = await send_command(
            api,
            charger,
            "CS-C",
            "get-configuration",
            {"variables": [{"component": "SecurityCtrlr", "variable": "Nope"}]},
        )
        assert [action for action, _ in calls] == ["GetVariables"]
        assert body["state"] == "rejected"
        assert body["error"] == (
            "the charger read none of the variables: SecurityCtrlr/Nope: UnknownVariable: NoSuchVar"
        )

        # set-configuration: SetVariables; Accepted and RebootRequired are noted.
        body, calls = await send_command(
            api,
            charger,
            "CS-C",
            "set-configuration",
            {
                "variable": {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"},
                "value": "60",
            },
        )
        assert calls == [
            (
                "SetVariables",
                {
                    "set_variable_data": [
                        {
                            "attribute_value": "60",
                            "component": comm,
                            "variable": {"name": "HeartbeatInterval"},
                        }
                    ]
                },
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "SetVariables"
        assert body["request"] == {
            "setVariableData": [
                {
                    "attributeValue": "60",
                    "component": comm,
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        }
        assert body["response"] == {
            "setVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "component": comm,
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        }
        (heartbeat,) = await variables(api, "CS-C", variable="HeartbeatInterval")
        assert attributes(heartbeat)["Actual"] == ("60", "ReadWrite", True)

        body, calls = await send_command(
            api,
            charger,
            "CS-C",
            "set-configuration",
            {
                "variable": {
                    "component": "OCPPCommCtrlr",
                    "variable": "OfflineThreshold",
                    "attribute": "Target",
                },
                "value": "900",
            },
        )
        assert calls == [
            (
                "SetVariables",
                {
                    "set_variable_data": [
                        {
                            "attribute_value": "900",
                            "component": comm,
                            "variable": {"name": "OfflineThreshold"},
                            "attribute_type": "Target",
                        }
                    ]
                },
            )
        ]
        assert body["state"] == "accepted"
        assert body["error"] is None
        assert body["response"]["setVariableResult"][0]["attributeStatus"] == "RebootRequired"
        (offline,) = await variables(api, "CS-C", variable="OfflineThreshold")
        assert attributes(offline) == {"Target": ("900", None, None)}

        body, calls = await send_command(
            api,
            charger,
            "CS-C",
            "set-configuration",
            {
                "variable": {
                    "component": "TxCtrlr",
                    "evse_id": 1,
                    "variable": "EVConnectionTimeOut",
                },
                "value": "99",
            },
        )
        assert calls == [
            (
                "SetVariables",
                {
                    "set_variable_data": [
                        {
                            "attribute_value": "99",
                            "component": {"name": "TxCtrlr", "evse": {"id": 1}},
                            "variable": {"name": "EVConnectionTimeOut"},
                        }
                    ]
                },
            )
        ]
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered Rejected: OutOfRange (max 9)"
        assert await variables(api, "CS-C", variable="EVConnectionTimeOut") == []

        # What a 2.0.1 charger cannot take never goes out.
        for name, refused, reason in [
            ("get-configuration", {"keys": ["HeartbeatInterval"]}, "use variables"),
            (
                "get-configuration",
                {},
                "GetVariables needs at least one variable; get-base-report reads the whole "
                "device model",
            ),
            ("set-configuration", {"key": "HeartbeatInterval", "value": "1"}, "give variable"),
            (
                "get-configuration",
                {"variables": [{"component": "EVSE", "connector_id": 1, "variable": "Power"}]},
                "connector_id needs the evse_id it belongs to",
            ),
        ]:
            body, calls = await refused_command(api, charger, "CS-C", name, refused)
            assert calls == []
            assert reason in body["error"]
        # The 1.6 keys stay empty for a 2.0.1 charger.
        configuration = (await api.get("/chargers/CS-C/configuration")).json()
        assert configuration["items"] == []


CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


async def test_firmware_logs_data_transfer_and_base_report(server: ServerProcess) -> None:
    await server.register_charger("CS-D", PASSWORD)
    answers: dict[str, Answer] = {
        "UpdateFirmware": lambda payload: {
            "status": "Accepted" if "signature" in payload["firmware"] else "InvalidCertificate"
        },
        "GetLog": lambda payload: {"status": "Accepted", "filename": f"{payload['log_type']}.zip"},
        "DataTransfer": lambda payload: (
            {"status": "Accepted", "data": {"answer": 42}}
            if payload.get("message_id") == "Ask"
            else {"status": "UnknownMessageId"}
        ),
        "GetBaseReport": lambda payload: {
            "status": "Accepted" if payload["report_base"] == "FullInventory" else "NotSupported"
        },
    }
    async with (
        answering_charger(server, "CS-D", PASSWORD, answers, version="2.0.1") as charger,
        server.api() as api,
    ):
        await charger.call(boot())

        body, calls = await send_command(
            api,
            charger,
            "CS-D",
            "update-firmware",
            {
                "location": "https://fw.example/cs-3.0.bin",
                "retrieve_at": "2026-06-01T02:00:00+02:00",
                "install_at": "2026-06-02T00:00:00Z",
                "retries": 2,
                "retry_interval": 120,
                "signing_certificate": CERTIFICATE,
                "signature": "c2lnbmF0dXJl",
            },
        )
        assert calls == [
            (
                "UpdateFirmware",
                {
                    "request_id": body["id"],
                    "firmware": {
                        "location": "https://fw.example/cs-3.0.bin",
                        "retrieve_date_time": "2026-06-01T00:00:00Z",
                        "install_date_time": "2026-06-02T00:00:00Z",
                        "signing_certificate": CERTIFICATE,
                        "signature": "c2lnbmF0dXJl",
                    },
                    "retries": 2,
                    "retry_interval": 120,
                },
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "UpdateFirmware"
        assert body["request"] == {
            "requestId": body["id"],
            "firmware": {
                "location": "https://fw.example/cs-3.0.bin",
                "retrieveDateTime": "2026-06-01T00:00:00Z",
                "installDateTime": "2026-06-02T00:00:00Z",
                "signingCertificate": CERTIFICATE,
                "signature": "c2lnbmF0dXJl",
            },
            "retries": 2,
            "retryInterval": 120,
        }
        assert body["response"] == ACCEPTED
        body, calls = await send_command(
            api,
            charger,
            "CS-D",
            "update-firmware",
            {"location": "https://fw.example/x.bin", "retrieve_at": "2026-06-01T00:00:00Z"},
        )
        assert calls == [
            (
                "UpdateFirmware",
                {
                    "request_id": body["id"],
                    "firmware": {
                        "location": "https://fw.example/x.bin",
                        "retrieve_date_time": "2026-06-01T00:00:00Z",
                    },
                },
            )
        ]
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered InvalidCertificate"

        for log_type, ocpp_log in [("diagnostics", "DiagnosticsLog"), ("security", "SecurityLog")]:
            body, calls = await send_command(
                api,
                charger,
                "CS-D",
                "get-diagnostics",
                {
                    "location": "https://logs.example/up",
                    "log_type": log_type,
                    "since": "2026-05-01T00:00:00Z",
                    "until": "2026-05-02T00:00:00Z",
                    "retries": 1,
                },
            )
            assert calls == [
                (
                    "GetLog",
                    {
                        "log": {
                            "remote_location": "https://logs.example/up",
                            "oldest_timestamp": "2026-05-01T00:00:00Z",
                            "latest_timestamp": "2026-05-02T00:00:00Z",
                        },
                        "log_type": ocpp_log,
                        "request_id": body["id"],
                        "retries": 1,
                    },
                )
            ]
            assert body["state"] == "accepted"
            assert body["action"] == "GetLog"
            assert body["request"] == {
                "log": {
                    "remoteLocation": "https://logs.example/up",
                    "oldestTimestamp": "2026-05-01T00:00:00Z",
                    "latestTimestamp": "2026-05-02T00:00:00Z",
                },
                "logType": ocpp_log,
                "requestId": body["id"],
                "retries": 1,
            }
            assert body["response"] == {"status": "Accepted", "filename": f"{ocpp_log}.zip"}

        # data-transfer: 2.0.1 data is any JSON value and goes as it is.
        body, calls = await send_command(
            api,
            charger,
            "CS-D",
            "data-transfer",
            {"vendor_id": "com.acme", "message_id": "Ask", "data": {"level": [1, 2]}},
        )
        assert calls == [
            (
                "DataTransfer",
                {"vendor_id": "com.acme", "message_id": "Ask", "data": {"level": [1, 2]}},
            )
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "DataTransfer"
        assert body["request"] == {
            "vendorId": "com.acme",
            "messageId": "Ask",
            "data": {"level": [1, 2]},
        }
        assert body["response"] == {"status": "Accepted", "data": {"answer": 42}}
        body, calls = await send_command(
            api, charger, "CS-D", "data-transfer", {"vendor_id": "com.acme", "data": "text"}
        )
        assert calls == [("DataTransfer", {"vendor_id": "com.acme", "data": "text"})]
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered UnknownMessageId"

        body, calls = await send_command(
            api, charger, "CS-D", "get-base-report", {"report_base": "FullInventory"}
        )
        assert calls == [
            ("GetBaseReport", {"request_id": body["id"], "report_base": "FullInventory"})
        ]
        assert body["state"] == "accepted"
        assert body["action"] == "GetBaseReport"
        assert body["request"] == {"requestId": body["id"], "reportBase": "FullInventory"}
        assert body["response"] == ACCEPTED
        body, calls = await send_command(
            api, charger, "CS-D", "get-base-report", {"report_base": "SummaryInventory"}
        )
        assert [action for action, _ in calls] == ["GetBaseReport"]
        assert body["state"] == "rejected"
        assert body["error"] == "the charger answered NotSupported"


async def test_set_display_message(server: ServerProcess) -> None:
    await server.register_charger("CS-E", PASSWORD)
    await server.register_charger("CS-OTHER", PASSWORD)
    answers: dict[str, Answer] = {
        "SetDisplayMessage": lambda payload: (
            {"status": "Accepted"}
            if payload["message"]["message"]["format"] != "HTML"
            else {"status": "NotSupportedMessageFormat"}
        )
    }
    async with server.api() as api:
        async with answering_charger(server, "CS-OTHER", PASSWORD, {}, version="2.0.1") as other:
            await other.call(boot())
            await other.call(started("tx-OTHER"))
            other_pk = await transaction_pk(api, "CS-OTHER")
        async with answering_charger(server, "CS-E", PASSWORD, answers, version="2.0.1") as charger:
            await charger.call(boot())
            await charger.call(started("tx-E"))
            pk = await transaction_pk(api, "CS-E")

            body, calls = await send_command(
                api,
                charger,
                "CS-E",
                "set-display-message",
                {
                    "priority": "InFront",
                    "state": "Charging",
                    "start_at": "2026-06-01T10:00:00+02:00",
                    "end_at": "2026-06-01T12:00:00Z",
                    "transaction_id": pk,
                    "evse_id": 1,
                    "message": {"content": "Welcome", "language": "en"},
                },
            )
            assert calls == [
                (
                    "SetDisplayMessage",
                    {
                        "message": {
                            "id": body["id"],
                            "priority": "InFront",
                            "message": {"format": "UTF8", "content": "Welcome", "language": "en"},
                            "display": {"name": "Display", "evse": {"id": 1}},
                            "state": "Charging",
                            "start_date_time": "2026-06-01T08:00:00Z",
                            "end_date_time": "2026-06-01T12:00:00Z",
                            "transaction_id": "tx-E",
                        }
                    },
                )
            ]
            assert body["state"] == "accepted"
            assert body["action"] == "SetDisplayMessage"
            assert body["request"] == {
                "message": {
                    "id": body["id"],
                    "priority": "InFront",
                    "message": {"format": "UTF8", "content": "Welcome", "language": "en"},
                    "display": {"name": "Display", "evse": {"id": 1}},
                    "state": "Charging",
                    "startDateTime": "2026-06-01T08:00:00Z",
                    "endDateTime": "2026-06-01T12:00:00Z",
                    "transactionId": "tx-E",
                }
            }
            assert body["response"] == ACCEPTED

            # The message's own id; the charger's display (EVSE 0); a format it refuses.
            body, calls = await send_command(
                api,
                charger,
                "CS-E",
                "set-display-message",
                {"id": 7, "evse_id": 0, "message": {"content": "<b>Hi</b>", "format": "HTML"}},
            )
            assert calls == [
                (
                    "SetDisplayMessage",
                    {
                        "message": {
                            "id": 7,
                            "priority": "NormalCycle",
                            "message": {"format": "HTML", "content": "<b>Hi</b>"},
                            "display": {"name": "Display"},
                        }
                    },
                )
            ]
            assert body["state"] == "rejected"
            assert body["error"] == "the charger answered NotSupportedMessageFormat"

            for transaction in (other_pk, 999_999):
                body, calls = await refused_command(
                    api,
                    charger,
                    "CS-E",
                    "set-display-message",
                    {"transaction_id": transaction, "message": {"content": "x"}},
                )
                assert calls == []
                assert body["error"] == f"charger CS-E has no transaction {transaction}"
