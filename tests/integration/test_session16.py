"""A complete OCPP 1.6 charging session lands in the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call

from tests.integration.harness import ServerProcess

PASSWORD = "correct-horse-battery"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_full_session_lands_in_the_api(server: ServerProcess) -> None:
    await server.register_charger("CP-1", PASSWORD)
    await server.add_id_token("TAG-1", group_id="FLEET-7")
    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)

    async with server.charger16("CP-1", PASSWORD) as charger:
        boot = await charger.call(
            call.BootNotification(
                charge_point_vendor="Acme",
                charge_point_model="Wallbox 22",
                charge_point_serial_number="SN-001",
                firmware_version="1.2.3",
                meter_type="DC-Meter",
            )
        )
        assert boot.status == "Accepted"
        assert boot.interval == 300
        assert datetime.fromisoformat(boot.current_time).tzinfo is not None

        await charger.call(
            call.StatusNotification(connector_id=0, error_code="NoError", status="Available")
        )
        await charger.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing")
        )
        auth = await charger.call(call.Authorize(id_tag="TAG-1"))
        assert auth.id_tag_info == {"status": "Accepted", "parent_id_tag": "FLEET-7"}

        started = await charger.call(
            call.StartTransaction(
                connector_id=1, id_tag="TAG-1", meter_start=1250, timestamp=iso(start)
            )
        )
        assert started.id_tag_info["status"] == "Accepted"
        transaction_id = started.transaction_id
        assert isinstance(transaction_id, int)

        await charger.call(
            call.StatusNotification(
                connector_id=1,
                error_code="NoError",
                status="Charging",
                timestamp=iso(start + timedelta(seconds=5)),
            )
        )
        await charger.call(
            call.MeterValues(
                connector_id=1,
                transaction_id=transaction_id,
                meter_value=[
                    {
                        "timestamp": iso(start + timedelta(minutes=15)),
                        "sampledValue": [
                            {"value": "4250", "measurand": "Energy.Active.Import.Register"},
                            {
                                "value": "11.04",
                                "measurand": "Power.Active.Import",
                                "unit": "kW",
                                "context": "Sample.Periodic",
                            },
                            {
                                "value": "16.0",
                                "measurand": "Current.Import",
                                "phase": "L1",
                                "unit": "A",
                            },
                            {"value": "62", "measurand": "SoC", "unit": "Percent"},
                        ],
                    }
                ],
            )
        )
        stopped = await charger.call(
            call.StopTransaction(
                meter_stop=9750,
                timestamp=iso(start + timedelta(minutes=45)),
                transaction_id=transaction_id,
                id_tag="TAG-1",
                reason="EVDisconnected",
                transaction_data=[
                    {
                        "timestamp": iso(start + timedelta(minutes=45)),
                        "sampledValue": [
                            {"value": "9750", "context": "Transaction.End", "unit": "Wh"}
                        ],
                    }
                ],
            )
        )
        assert stopped.id_tag_info["status"] == "Accepted"
        await charger.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )

        async with server.api() as api:
            charger_view = (await api.get("/chargers/CP-1")).json()
        assert charger_view["connected"] is True

    async with server.api() as api:
        listed = (await api.get("/transactions", params={"charger_id": "CP-1"})).json()
        assert listed["total"] == 1
        transaction = listed["items"][0]
        detail = (await api.get(f"/transactions/{transaction['id']}")).json()
        # The transaction itself, with its cost: without a tariff, its free CDR's.
        assert transaction == {k: v for k, v in detail.items() if k != "cost"}
        assert detail["cost"]["cdr_id"] == str(transaction["id"])
        assert detail["cost"]["total_cost"] == {"excl_vat": 0, "incl_vat": 0}
        assert detail["cost"]["total_energy"] == 8.5
        charger_view = (await api.get("/chargers/CP-1")).json()
        other = (await api.get("/transactions", params={"charger_id": "NOPE"})).json()

    assert other["total"] == 0
    assert transaction["transaction_id"] == str(transaction_id)
    assert transaction["charger_id"] == "CP-1"
    assert transaction["evse_id"] == 1
    assert transaction["connector_id"] == 1
    assert transaction["id_token"] == "TAG-1"
    assert transaction["status"] == "completed"
    assert transaction["started_at"] == "2026-05-04T10:00:00Z"
    assert transaction["stopped_at"] == "2026-05-04T10:45:00Z"
    assert transaction["meter_start_wh"] == 1250
    assert transaction["meter_stop_wh"] == 9750
    assert transaction["energy_wh"] == 8500
    assert transaction["stop_reason"] == "EVDisconnected"

    assert charger_view["vendor"] == "Acme"
    assert charger_view["model"] == "Wallbox 22"
    assert charger_view["serial_number"] == "SN-001"
    assert charger_view["firmware_version"] == "1.2.3"
    assert charger_view["ocpp_version"] == "1.6"
    assert charger_view["status"] == "Available"
    assert charger_view["connected"] is False
    assert charger_view["last_heartbeat"] is None
    assert charger_view["evses"] == [
        {
            "id": 1,
            "connectors": [
                {
                    "id": 1,
                    "status": "Available",
                    "error_code": "NoError",
                    "info": None,
                    "vendor_error_code": None,
                    "status_at": charger_view["evses"][0]["connectors"][0]["status_at"],
                }
            ],
        }
    ]
