"""Every other charger-initiated 1.6 message is answered and persisted."""

from __future__ import annotations

from ocpp.v16 import call

from tests.integration.harness import ServerProcess, query

PASSWORD = "correct-horse-battery"


async def test_boot_pending_status_history_and_meter_values(server: ServerProcess) -> None:
    await server.register_charger("CP-P", PASSWORD, registration_status="Pending")
    async with server.charger16("CP-P", PASSWORD) as charger:
        boot = await charger.call(
            call.BootNotification(charge_point_vendor="Acme", charge_point_model="X")
        )
        assert boot.status == "Pending"
        assert boot.interval == 60

        newer = call.StatusNotification(
            connector_id=2,
            error_code="GroundFailure",
            status="Faulted",
            info="RCD tripped",
            vendor_error_code="E42",
            timestamp="2026-03-01T10:00:00Z",
        )
        older = call.StatusNotification(
            connector_id=2,
            error_code="NoError",
            status="Available",
            timestamp="2026-03-01T09:00:00Z",
        )
        await charger.call(newer)
        await charger.call(older)  # delivered late: history only

        await charger.call(
            call.MeterValues(
                connector_id=0,
                meter_value=[
                    {
                        "timestamp": "2026-03-01T10:05:00Z",
                        "sampledValue": [
                            {
                                "value": "230.1",
                                "measurand": "Voltage",
                                "phase": "L1-N",
                                "unit": "V",
                                "context": "Sample.Clock",
                                "location": "Inlet",
                            },
                            {"value": "0xABCDEF", "format": "SignedData"},
                        ],
                    }
                ],
            )
        )

    async with server.api() as api:
        view = (await api.get("/chargers/CP-P")).json()
    assert view["registration_status"] == "Pending"
    connector = view["evses"][0]
    assert connector["id"] == 2
    assert connector["connectors"][0]["status"] == "Faulted"
    assert connector["connectors"][0]["error_code"] == "GroundFailure"
    assert connector["connectors"][0]["info"] == "RCD tripped"
    assert connector["connectors"][0]["vendor_error_code"] == "E42"
    history = await query(
        server.database_url,
        "SELECT status, error_code FROM status_changes WHERE charger_id = 'CP-P' ORDER BY id",
    )
    assert history == [
        {"status": "Faulted", "error_code": "GroundFailure"},
        {"status": "Available", "error_code": "NoError"},
    ]
    samples = await query(
        server.database_url,
        "SELECT evse_id, transaction_pk, measurand, phase, unit, context, location, value, "
        "signed_data FROM meter_samples WHERE charger_id = 'CP-P' ORDER BY id",
    )
    assert samples == [
        {
            "evse_id": 0,
            "transaction_pk": None,
            "measurand": "Voltage",
            "phase": "L1-N",
            "unit": "V",
            "context": "Sample.Clock",
            "location": "Inlet",
            "value": 230.1,
            "signed_data": None,
        },
        {
            "evse_id": 0,
            "transaction_pk": None,
            "measurand": "Energy.Active.Import.Register",
            "phase": None,
            "unit": "Wh",
            "context": "Sample.Periodic",
            "location": "Outlet",
            "value": None,
            "signed_data": "0xABCDEF",
        },
    ]


async def test_notifications_security_and_data_transfer(server: ServerProcess) -> None:
    await server.register_charger("CP-N", PASSWORD)
    async with server.charger16("CP-N", PASSWORD) as charger:
        await charger.call(call.DiagnosticsStatusNotification(status="Uploaded"))
        await charger.call(call.FirmwareStatusNotification(status="Installing"))
        await charger.call(call.LogStatusNotification(status="Uploading", request_id=7))
        await charger.call(
            call.SecurityEventNotification(
                type="FirmwareUpdated", timestamp="2026-03-01T11:00:00Z", tech_info="v1.2 -> v1.3"
            )
        )
        transfer = await charger.call(
            call.DataTransfer(vendor_id="com.acme", message_id="hello", data="{}")
        )
        assert transfer.status == "UnknownVendorId"
        signing = await charger.call(
            call.SignCertificate(csr="-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END")
        )
        assert signing.status == "Rejected"
        await charger.call(call.SignedFirmwareStatusNotification(status="Installed", request_id=3))

    async with server.api() as api:
        view = (await api.get("/chargers/CP-N")).json()
        log = (await api.get("/chargers/CP-N/messages", params={"action": "DataTransfer"})).json()
    assert view["diagnostics_status"] == "Uploaded"
    assert view["firmware_status"] == "Installed"
    assert log["total"] == 1
    assert log["items"][0]["payload"] == {
        "vendorId": "com.acme",
        "messageId": "hello",
        "data": "{}",
    }
    assert log["items"][0]["response"] == {"status": "UnknownVendorId"}
    charger_row = await query(
        server.database_url, "SELECT log_status FROM chargers WHERE id = 'CP-N'"
    )
    assert charger_row == [{"log_status": "Uploading"}]
    events = await query(
        server.database_url,
        "SELECT type, tech_info FROM security_events WHERE charger_id = 'CP-N'",
    )
    assert events == [{"type": "FirmwareUpdated", "tech_info": "v1.2 -> v1.3"}]
    requests = await query(
        server.database_url,
        "SELECT status FROM certificate_requests WHERE charger_id = 'CP-N'",
    )
    assert requests == [{"status": "rejected"}]
