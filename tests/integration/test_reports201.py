"""The 2.0.1 device model, and every other charger-initiated 2.0.1 message answered and kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call

from chargegrid.ocpp.versions import OcppVersion, actions
from tests.integration.harness import ServerProcess, query
from tests.integration.ocpp201 import charger201, iso

PASSWORD = "correct-horse-battery"
AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def entry(
    component: str,
    variable: str,
    *attributes: dict[str, Any],
    evse: dict[str, int] | None = None,
    instance: str | None = None,
    characteristics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "component": {"name": component, **({"evse": evse} if evse else {})},
        "variable": {"name": variable, **({"instance": instance} if instance else {})},
        "variable_attribute": list(attributes) or [{"value": "x"}],
    }
    if characteristics is not None:
        data["variable_characteristics"] = characteristics
    return data


def report(
    request_id: int, seq_no: int, data: list[dict[str, Any]], *, tbc: bool, at: datetime
) -> call.NotifyReport:
    return call.NotifyReport(
        request_id=request_id, generated_at=iso(at), seq_no=seq_no, report_data=data, tbc=tbc
    )


PARTS = [
    [
        entry("ChargingStation", "Model", {"value": "Wallbox 2", "mutability": "ReadOnly"}),
        entry(
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            {"value": "300", "persistent": True},
            {"type": "MinSet", "value": "30", "mutability": "ReadOnly", "constant": True},
            characteristics={
                "data_type": "integer",
                "unit": "s",
                "min_limit": 30,
                "max_limit": 86400,
                "supports_monitoring": False,
            },
        ),
    ],
    [
        entry("EVSE", "AvailabilityState", {"value": "Available"}, evse={"id": 1}),
        entry(
            "Connector",
            "ConnectorType",
            {"value": "cType2", "mutability": "ReadOnly"},
            evse={"id": 1, "connector_id": 1},
        ),
        entry("EVSE", "AvailabilityState", {"value": "Available"}, evse={"id": 2}),
    ],
    [
        entry(
            "Connector",
            "ConnectorType",
            {"value": "cCCS2", "mutability": "ReadOnly"},
            evse={"id": 2, "connector_id": 1},
        ),
        entry(
            "Connector",
            "ConnectorType",
            {"value": "sType2", "mutability": "ReadOnly"},
            evse={"id": 2, "connector_id": 2},
        ),
        entry(
            "TxCtrlr",
            "TxStartPoint",
            {"value": "PowerPathClosed"},
            characteristics={
                "data_type": "MemberList",
                "values_list": "EVConnected,Authorized,PowerPathClosed",
                "supports_monitoring": False,
            },
        ),
        entry("SampledDataCtrlr", "TxUpdatedMeasurands", {"value": "SoC"}, instance="Extra"),
    ],
]


async def variables(server: ServerProcess, **params: Any) -> dict[str, Any]:
    async with server.api() as api:
        response = await api.get("/chargers/CP-DM/variables", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_a_multi_part_report_stores_the_whole_device_model(server: ServerProcess) -> None:
    await server.register_charger("CP-DM", PASSWORD)
    async with charger201(server, "CP-DM", PASSWORD) as charger:
        for seq_no, data in enumerate(PARTS):
            last = seq_no == len(PARTS) - 1
            await charger.call(report(5, seq_no, data, tbc=not last, at=AT))
        # A later report changes a value; an older one arriving late does not undo it.
        newer = [entry("OCPPCommCtrlr", "HeartbeatInterval", {"value": "600"})]
        older = [entry("OCPPCommCtrlr", "HeartbeatInterval", {"value": "120"})]
        await charger.call(report(6, 0, newer, tbc=False, at=AT + timedelta(hours=1)))
        await charger.call(report(7, 0, older, tbc=False, at=AT + timedelta(minutes=30)))

    everything = await variables(server)
    assert everything["total"] == 9
    assert {(v["component"]["name"], v["variable"]) for v in everything["items"]} == {
        ("ChargingStation", "Model"),
        ("OCPPCommCtrlr", "HeartbeatInterval"),
        ("EVSE", "AvailabilityState"),
        ("Connector", "ConnectorType"),
        ("TxCtrlr", "TxStartPoint"),
        ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    }
    heartbeat = (await variables(server, component="OCPPCommCtrlr"))["items"]
    assert heartbeat == [
        {
            "component": {
                "name": "OCPPCommCtrlr",
                "instance": None,
                "evse_id": None,
                "connector_id": None,
            },
            "variable": "HeartbeatInterval",
            "variable_instance": None,
            "attributes": [
                {
                    "type": "Actual",
                    "value": "600",
                    "mutability": "ReadWrite",
                    "persistent": False,
                    "constant": False,
                },
                {
                    "type": "MinSet",
                    "value": "30",
                    "mutability": "ReadOnly",
                    "persistent": False,
                    "constant": True,
                },
            ],
            # Kept from the full report: the later ones did not describe it.
            "characteristics": {
                "data_type": "integer",
                "unit": "s",
                "min_limit": 30.0,
                "max_limit": 86400.0,
                "values_list": None,
                "supports_monitoring": False,
            },
            "reported_at": "2026-03-01T11:00:00Z",
            "updated_at": heartbeat[0]["updated_at"],
        }
    ]
    connectors = await variables(server, variable="ConnectorType", limit=2, offset=1)
    assert connectors["total"] == 3
    assert [
        (v["component"]["evse_id"], v["component"]["connector_id"], v["attributes"][0]["value"])
        for v in connectors["items"]
    ] == [(2, 1, "cCCS2"), (2, 2, "sType2")]
    extra = (await variables(server, component="SampledDataCtrlr"))["items"][0]
    assert extra["variable_instance"] == "Extra"
    assert (await variables(server, evse_id=2))["total"] == 3

    async with server.api() as api:
        view = (await api.get("/chargers/CP-DM")).json()
        parts = (await api.get("/chargers/CP-DM/reports", params={"kind": "device_model"})).json()
        missing = await api.get("/chargers/NOPE/variables")
    # EVSEs and connectors learned from the device model, no status reported yet.
    assert [
        (e["id"], [(c["id"], c["status"]) for c in e["connectors"]]) for e in view["evses"]
    ] == [
        (1, [(1, None)]),
        (2, [(1, None), (2, None)]),
    ]
    assert sorted((p["request_id"], p["seq_no"], p["tbc"]) for p in parts["items"]) == [
        (5, 0, True),
        (5, 1, True),
        (5, 2, False),
        (6, 0, False),
        (7, 0, False),
    ]
    assert missing.status_code == 404


async def reports_of(server: ServerProcess, charger_id: str, kind: str) -> list[dict[str, Any]]:
    async with server.api() as api:
        page = (await api.get(f"/chargers/{charger_id}/reports", params={"kind": kind})).json()
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_every_other_message_is_answered_and_kept(server: ServerProcess) -> None:
    await server.register_charger("CP-ALL", PASSWORD)
    component = {"name": "Connector", "evse": {"id": 1, "connector_id": 1}}
    schedule = {
        "id": 1,
        "charging_rate_unit": "A",
        "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
    }
    ocsp = {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": "ab" * 32,
        "issuer_key_hash": "cd" * 32,
        "serial_number": "0123",
        "responder_url": "http://ocsp.example.com",
    }
    async with charger201(server, "CP-ALL", PASSWORD) as charger:
        beat = await charger.call(call.Heartbeat())
        assert datetime.fromisoformat(beat.current_time).tzinfo is not None
        await charger.call(
            call.StatusNotification(
                timestamp=iso(AT), connector_status="Faulted", evse_id=2, connector_id=1
            )
        )
        await charger.call(
            call.MeterValues(
                evse_id=0,
                meter_value=[
                    {
                        "timestamp": iso(AT),
                        "sampled_value": [
                            {
                                "value": 230.1,
                                "measurand": "Voltage",
                                "phase": "L1-N",
                                "unit_of_measure": {"unit": "V"},
                                "location": "Inlet",
                                "context": "Sample.Clock",
                            }
                        ],
                    }
                ],
            )
        )
        await charger.call(
            call.NotifyEvent(
                generated_at=iso(AT),
                seq_no=0,
                event_data=[
                    {
                        "event_id": 17,
                        "timestamp": iso(AT),
                        "trigger": "Delta",
                        "actual_value": "Faulted",
                        "component": component,
                        "variable": {"name": "AvailabilityState"},
                        "event_notification_type": "HardWiredNotification",
                        "tech_code": "E42",
                    }
                ],
            )
        )
        await charger.call(
            call.NotifyMonitoringReport(
                request_id=3,
                seq_no=0,
                generated_at=iso(AT),
                monitor=[
                    {
                        "component": component,
                        "variable": {"name": "AvailabilityState"},
                        "variable_monitoring": [
                            {
                                "id": 1,
                                "transaction": False,
                                "value": 0,
                                "type": "Delta",
                                "severity": 5,
                            }
                        ],
                    }
                ],
            )
        )
        await charger.call(
            call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": "EMS", "is_grid_critical": True},
                evse_id=1,
                charging_schedule=[schedule],
            )
        )
        await charger.call(call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1))
        needs = await charger.call(
            call.NotifyEVChargingNeeds(
                charging_needs={
                    "requested_energy_transfer": "AC_three_phase",
                    "ac_charging_parameters": {
                        "energy_amount": 20000,
                        "ev_min_current": 6,
                        "ev_max_current": 32,
                        "ev_max_voltage": 400,
                    },
                },
                evse_id=1,
            )
        )
        assert needs.status == "Rejected"
        ev_schedule = await charger.call(
            call.NotifyEVChargingSchedule(time_base=iso(AT), charging_schedule=schedule, evse_id=1)
        )
        assert ev_schedule.status == "Accepted"
        await charger.call(
            call.ReportChargingProfiles(
                request_id=4,
                charging_limit_source="CSO",
                evse_id=1,
                charging_profile=[
                    {
                        "id": 9,
                        "stack_level": 0,
                        "charging_profile_purpose": "TxDefaultProfile",
                        "charging_profile_kind": "Absolute",
                        "charging_schedule": [schedule],
                    }
                ],
            )
        )
        await charger.call(
            call.ReservationStatusUpdate(reservation_id=21, reservation_update_status="Expired")
        )
        await charger.call(
            call.NotifyCustomerInformation(
                data="card 04E91C5A: 3 sessions", seq_no=0, generated_at=iso(AT), request_id=5
            )
        )
        await charger.call(
            call.NotifyDisplayMessages(
                request_id=6,
                message_info=[
                    {
                        "id": 1,
                        "priority": "NormalCycle",
                        "message": {"format": "UTF8", "content": "Welcome"},
                    }
                ],
            )
        )
        await charger.call(
            call.PublishFirmwareStatusNotification(
                status="Published", location=["http://lc/fw.bin"], request_id=8
            )
        )
        await charger.call(call.FirmwareStatusNotification(status="Installing", request_id=2))
        await charger.call(call.LogStatusNotification(status="Uploading", request_id=7))
        await charger.call(
            call.SecurityEventNotification(
                type="FirmwareUpdated", timestamp=iso(AT), tech_info="v2.0.6 -> v2.0.7"
            )
        )
        signing = await charger.call(
            call.SignCertificate(
                csr="not a certificate request", certificate_type="ChargingStationCertificate"
            )
        )
        assert signing.status == "Rejected"
        ev_certificate = await charger.call(
            call.Get15118EVCertificate(
                iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
                action="Install",
                exi_request="gAA=",
            )
        )
        assert (ev_certificate.status, ev_certificate.exi_response) == ("Failed", "")
        certificate_status = await charger.call(call.GetCertificateStatus(ocsp_request_data=ocsp))
        assert certificate_status.status == "Failed"
        assert certificate_status.status_info["reason_code"] == "NotEnabled"
        contract = await charger.call(
            call.Authorize(
                id_token={"id_token": "NL-ABC-123456789", "type": "eMAID"},
                iso15118_certificate_hash_data=[ocsp],
            )
        )
        # The contract certificate cannot be verified here (C07.FR.17).
        assert contract.certificate_status == "CertChainError"
        assert contract.id_token_info == {"status": "Invalid"}
        transfer = await charger.call(
            call.DataTransfer(vendor_id="com.acme", message_id="hello", data={"a": 1})
        )
        assert transfer.status == "UnknownVendorId"

    async with server.api() as api:
        view = (await api.get("/chargers/CP-ALL")).json()
        events = (await api.get("/chargers/CP-ALL/events")).json()
        log = (await api.get("/chargers/CP-ALL/messages", params={"limit": 1000})).json()
    assert view["last_heartbeat"] is not None
    assert view["firmware_status"] == "Installing"
    assert view["evses"][0]["id"] == 2
    assert view["evses"][0]["connectors"][0]["status"] == "Faulted"
    assert events["total"] == 1
    event = events["items"][0]
    assert (event["event_id"], event["actual_value"], event["tech_code"]) == (17, "Faulted", "E42")
    assert event["component"] == {
        "name": "Connector",
        "instance": None,
        "evse_id": 1,
        "connector_id": 1,
    }
    assert event["variable"] == "AvailabilityState"
    assert event["notification_type"] == "HardWiredNotification"

    kept = {
        kind: await reports_of(server, "CP-ALL", kind)
        for kind in (
            "monitoring",
            "charging_limit",
            "charging_limit_cleared",
            "ev_charging_needs",
            "ev_charging_schedule",
            "charging_profiles",
            "reservation_status",
            "customer_information",
            "display_messages",
            "firmware_publication",
            "ev_certificate_request",
            "certificate_status_request",
        )
    }
    assert {kind: len(items) for kind, items in kept.items()} == dict.fromkeys(kept, 1)
    assert kept["monitoring"][0]["request_id"] == 3
    assert kept["monitoring"][0]["payload"]["monitor"][0]["variableMonitoring"][0]["severity"] == 5
    assert kept["charging_limit"][0]["evse_id"] == 1
    assert kept["charging_limit"][0]["payload"]["chargingLimit"] == {
        "chargingLimitSource": "EMS",
        "isGridCritical": True,
    }
    assert kept["ev_charging_needs"][0]["status"] == "Rejected"
    assert kept["charging_profiles"][0]["payload"]["chargingProfile"][0]["id"] == 9
    assert kept["reservation_status"][0]["status"] == "Expired"
    assert kept["reservation_status"][0]["payload"]["reservationId"] == 21
    assert kept["customer_information"][0]["payload"]["data"] == "card 04E91C5A: 3 sessions"
    assert kept["display_messages"][0]["request_id"] == 6
    assert kept["firmware_publication"][0]["status"] == "Published"
    assert kept["ev_certificate_request"][0]["payload"]["action"] == "Install"
    assert kept["certificate_status_request"][0]["status"] == "Failed"

    # Every message was answered (no CALLERROR) and is in the message log.
    assert all(item["error_code"] is None for item in log["items"])
    # With BootNotification, TransactionEvent and NotifyReport (tested elsewhere): all of them.
    from_charger = {name for name, spec in actions(OcppVersion.V201).items() if spec.from_charger}
    assert {item["action"] for item in log["items"]} == from_charger - {
        "BootNotification",
        "TransactionEvent",
        "NotifyReport",
    }
    charger_row = await query(
        server.database_url, "SELECT log_status FROM chargers WHERE id = 'CP-ALL'"
    )
    assert charger_row == [{"log_status": "Uploading"}]
    security = await query(
        server.database_url,
        "SELECT type, tech_info FROM security_events WHERE charger_id = 'CP-ALL'",
    )
    assert security == [{"type": "FirmwareUpdated", "tech_info": "v2.0.6 -> v2.0.7"}]
    samples = await query(
        server.database_url,
        "SELECT evse_id, transaction_pk, measurand, unit, value, location FROM meter_samples "
        "WHERE charger_id = 'CP-ALL'",
    )
    assert samples == [
        {
            "evse_id": 0,
            "transaction_pk": None,
            "measurand": "Voltage",
            "unit": "V",
            "value": 230.1,
            "location": "Inlet",
        }
    ]
