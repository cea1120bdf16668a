"""OCPP 2.0.1 sessions land in the API like 1.6 ones, whatever order their events arrive in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call

from tests.integration.harness import ServerProcess, query
from tests.integration.ocpp201 import boot, charger201, iso, session_events

PASSWORD = "correct-horse-battery"
START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


async def test_full_session_lands_in_the_api(server: ServerProcess) -> None:
    await server.register_charger("CP-201", PASSWORD)
    await server.add_id_token("TAG-201", group_id="FLEET-7", type="ISO14443")
    events = session_events("TX-201-A", START)

    async with charger201(server, "CP-201", PASSWORD) as charger:
        booted = await charger.call(boot())
        assert booted.status == "Accepted"
        assert booted.interval == 300
        assert datetime.fromisoformat(booted.current_time).tzinfo is not None
        await charger.call(
            call.StatusNotification(
                timestamp=iso(START), connector_status="Occupied", evse_id=1, connector_id=1
            )
        )
        auth = await charger.call(
            call.Authorize(id_token={"id_token": "TAG-201", "type": "ISO14443"})
        )
        assert auth.id_token_info == {
            "status": "Accepted",
            "group_id_token": {"id_token": "FLEET-7", "type": "Central"},
        }
        unknown = await charger.call(
            call.Authorize(id_token={"id_token": "NEVER-SEEN", "type": "ISO14443"})
        )
        assert unknown.id_token_info == {"status": "Unknown"}
        # The same id as another kind of token is another token.
        other_type = await charger.call(
            call.Authorize(id_token={"id_token": "TAG-201", "type": "KeyCode"})
        )
        assert other_type.id_token_info == {"status": "Unknown"}

        answers = [await charger.call(event) for event in events]
        # Events with an id token are answered with its status (and a busy token is busy).
        assert answers[0].id_token_info["status"] == "Accepted"
        assert answers[1].id_token_info is None
        assert answers[3].id_token_info["status"] == "Accepted"
        await charger.call(
            call.StatusNotification(
                timestamp=iso(START + timedelta(minutes=46)),
                connector_status="Available",
                evse_id=1,
                connector_id=1,
            )
        )

    async with server.api() as api:
        listed = (await api.get("/transactions", params={"charger_id": "CP-201"})).json()
        assert listed["total"] == 1
        transaction = listed["items"][0]
        detail = (await api.get(f"/transactions/{transaction['id']}")).json()
        # The transaction itself, with its cost: without a tariff, its free CDR's.
        assert transaction == {k: v for k, v in detail.items() if k != "cost"}
        assert detail["cost"]["cdr_id"] == str(transaction["id"])
        assert detail["cost"]["total_cost"] == {"excl_vat": 0, "incl_vat": 0}
        assert detail["cost"]["total_energy"] == 8.5
        timeline = (await api.get(f"/transactions/{transaction['id']}/events")).json()
        view = (await api.get("/chargers/CP-201")).json()

    assert {k: v for k, v in transaction.items() if k != "id"} == {
        "charger_id": "CP-201",
        "transaction_id": "TX-201-A",
        "evse_id": 1,
        "connector_id": 1,
        "id_token": "TAG-201",
        "id_token_type": "ISO14443",
        "authorization_status": "Accepted",
        "status": "completed",
        "started_at": "2026-05-04T10:00:00Z",
        "stopped_at": "2026-05-04T10:45:00Z",
        "meter_start_wh": 1250.0,
        "meter_stop_wh": 9750.0,
        "energy_wh": 8500.0,
        "stop_reason": "EVDisconnected",
        "stop_id_token": "TAG-201",
        "reservation_id": 11,
        "remote_start_id": None,
        "charging_state": "Idle",
        "trigger_reason": "EVCommunicationLost",
        "offline": True,
        "number_of_phases": 3,
        "cable_max_current": 32,
        "time_spent_charging_s": 2400,
        "last_seq_no": 3,
        "seq_gaps": 0,
        "tariff_id": None,
    }
    assert [(e["seq_no"], e["event_type"]) for e in timeline["items"]] == [
        (0, "Started"),
        (1, "Updated"),
        (2, "Updated"),
        (3, "Ended"),
    ]
    assert view["ocpp_version"] == "2.0.1"
    assert (view["vendor"], view["model"]) == ("Acme", "Wallbox 2")
    assert (view["serial_number"], view["firmware_version"]) == ("SN-201", "2.0.7")
    assert view["last_boot_reason"] == "PowerUp"
    assert [
        (e["id"], [(c["id"], c["status"]) for c in e["connectors"]]) for e in view["evses"]
    ] == [(1, [(1, "Available")])]
    samples = await query(
        server.database_url,
        "SELECT measurand, phase, unit, value, context FROM meter_samples "
        "WHERE charger_id = 'CP-201' AND transaction_pk = :pk ORDER BY sampled_at, id",
        pk=transaction["id"],
    )
    assert samples == [
        {
            "measurand": "Energy.Active.Import.Register",
            "phase": None,
            "unit": "Wh",
            "value": 1250.0,
            "context": "Transaction.Begin",
        },
        {
            "measurand": "Energy.Active.Import.Register",
            "phase": None,
            "unit": "Wh",
            "value": 4250.0,
            "context": "Sample.Periodic",
        },
        {
            "measurand": "Power.Active.Import",
            "phase": None,
            "unit": "kW",
            "value": 11.04,
            "context": "Sample.Periodic",
        },
        {
            "measurand": "Current.Import",
            "phase": "L1",
            "unit": "A",
            "value": 16.0,
            "context": "Sample.Periodic",
        },
        {
            "measurand": "SoC",
            "phase": None,
            "unit": "Percent",
            "value": 62.0,
            "context": "Sample.Periodic",
        },
        {
            "measurand": "Energy.Active.Import.Register",
            "phase": None,
            "unit": "kWh",
            "value": 9.75,
            "context": "Transaction.End",
        },
    ]


def without_identity(transaction: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in transaction.items() if k not in ("id", "charger_id")}


async def test_events_twice_and_shuffled_give_the_same_result(server: ServerProcess) -> None:
    """Retried (new message id) and out-of-order events: the same transaction in the end."""
    for charger_id in ("CP-ORDER", "CP-SHUFFLE", "CP-GAP"):
        await server.register_charger(charger_id, PASSWORD)
    await server.add_id_token("TAG-201")

    async with charger201(server, "CP-ORDER", PASSWORD) as charger:
        for event in session_events("TX-1", START):
            await charger.call(event)

    events = session_events("TX-1", START)
    arrivals = [*events, *events]
    random.Random(7).shuffle(arrivals)
    arrivals.sort(key=lambda e: e.event_type != "Ended")  # the end arrives first of all
    async with charger201(server, "CP-SHUFFLE", PASSWORD) as charger:
        await charger.call(arrivals[0])
        async with server.api() as api:
            early = (await api.get("/transactions", params={"charger_id": "CP-SHUFFLE"})).json()
        for event in arrivals[1:]:
            answer = await charger.call(event)
            if event.id_token is not None:  # its own transaction does not make it busy
                assert answer.id_token_info["status"] == "Accepted"

    # A gap: the second update (seqNo 2) never arrives.
    async with charger201(server, "CP-GAP", PASSWORD) as charger:
        for event in session_events("TX-1", START):
            if event.seq_no != 2:
                await charger.call(event)

    async with server.api() as api:
        found = {
            charger_id: (await api.get("/transactions", params={"charger_id": charger_id})).json()
            for charger_id in ("CP-ORDER", "CP-SHUFFLE", "CP-GAP")
        }
    # After the end alone the transaction was already complete, start still unknown.
    first = early["items"][0]
    assert (first["status"], first["stop_reason"], first["started_at"]) == (
        "completed",
        "EVDisconnected",
        None,
    )
    assert (first["meter_stop_wh"], first["energy_wh"], first["seq_gaps"]) == (9750, None, 3)

    assert [page["total"] for page in found.values()] == [1, 1, 1]
    in_order = found["CP-ORDER"]["items"][0]
    assert without_identity(found["CP-SHUFFLE"]["items"][0]) == without_identity(in_order)
    assert in_order["energy_wh"] == 8500
    assert in_order["started_at"] == "2026-05-04T10:00:00Z"
    gap = found["CP-GAP"]["items"][0]
    assert gap["seq_gaps"] == 1
    assert gap["last_seq_no"] == 3
    assert gap["energy_wh"] == 8500  # first and last readings arrived
    events_stored = await query(
        server.database_url,
        "SELECT count(*) AS n FROM transaction_events e JOIN transactions t "
        "ON t.id = e.transaction_pk WHERE t.charger_id = 'CP-SHUFFLE'",
    )
    assert events_stored == [{"n": 4}]
