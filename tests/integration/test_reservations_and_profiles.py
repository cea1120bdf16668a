"""Reservations and smart charging commands reach 1.6 and 2.0.1 chargers as their
version's messages; the answers (and the composite schedule) show in the command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from tests.integration.answering import Answer, answering_charger, boot16
from tests.integration.harness import ServerProcess
from tests.integration.ocpp201 import boot as boot201
from tests.integration.ocpp201 import iso
from tests.integration.test_commands import command

PASSWORD = "correct-horse-battery"
ACCEPTED = {"status": "Accepted"}
START = "2026-03-01T06:00:00Z"


def max_profile(**changes: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "purpose": "charger_max",
        "kind": "absolute",
        "schedule": {
            "rate_unit": "W",
            "start": START,
            "periods": [
                {"start_period": 0, "limit": 22000},
                {"start_period": 1800, "limit": 11000},
            ],
        },
        **changes,
    }


def tx_profile(**changes: Any) -> dict[str, Any]:
    return {
        "id": 5,
        "stack_level": 1,
        "purpose": "tx",
        "kind": "relative",
        "schedule": {"rate_unit": "A", "periods": [{"start_period": 0, "limit": 16}]},
        **changes,
    }


async def run(
    api: httpx.AsyncClient, charger_id: str, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await command(api, charger_id, name, body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def refused_before_queued(
    api: httpx.AsyncClient, charger_id: str, name: str, body: dict[str, Any]
) -> dict[str, str]:
    """A command refused before it is queued (its version cannot carry it); its error."""
    response = await command(api, charger_id, name, body)
    assert response.status_code in (404, 409, 422), response.text
    return {"error": response.json()["error"]["message"]}


async def active_transaction(api: httpx.AsyncClient, charger_id: str) -> int:
    found = await api.get("/transactions", params={"charger_id": charger_id, "status": "active"})
    (transaction,) = found.json()["items"]
    return int(transaction["id"])


def reserve16(request: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Occupied" if request["id_tag"] == "BUSY" else "Accepted"}


def clear(request: dict[str, Any]) -> dict[str, Any]:
    unknown = request.get("id") == 404 or request.get("charging_profile_id") == 404
    return {"status": "Unknown" if unknown else "Accepted"}


async def test_16_reservations_and_profiles(server: ServerProcess) -> None:
    await server.register_charger("CP-R1", PASSWORD)
    await server.add_id_token("TAG-R", group_id="PARENT")
    expiry = datetime.now(UTC) + timedelta(minutes=30)
    schedule = {
        "status": "Accepted",
        "connector_id": 1,
        "schedule_start": START,
        "charging_schedule": {
            "charging_rate_unit": "A",
            "charging_schedule_period": [{"start_period": 0, "limit": 16}],
        },
    }
    answers: dict[str, Answer] = {
        "ReserveNow": reserve16,
        "CancelReservation": ACCEPTED,
        "SetChargingProfile": ACCEPTED,
        "ClearChargingProfile": clear,
        "GetCompositeSchedule": schedule,
        "RemoteStartTransaction": ACCEPTED,
    }
    async with (
        answering_charger(server, "CP-R1", PASSWORD, answers) as charger,
        server.api() as api,
    ):
        await boot16(charger)
        reserved = await run(
            api,
            "CP-R1",
            "reserve-now",
            {"id_token": "TAG-R", "expires_at": expiry.isoformat(), "evse_id": 1},
        )
        assert reserved["state"] == "accepted"
        assert reserved["response"] == {"status": "Accepted"}
        action, request = charger.received.calls[-1]
        assert action == "ReserveNow"
        assert datetime.fromisoformat(request.pop("expiry_date")) == expiry
        assert request == {
            "connector_id": 1,
            "id_tag": "TAG-R",
            "reservation_id": reserved["id"],
            "parent_id_tag": "PARENT",
        }
        occupied = await run(
            api, "CP-R1", "reserve-now", {"id_token": "BUSY", "expires_at": expiry.isoformat()}
        )
        assert occupied["state"] == "rejected"
        assert occupied["error"] == "the charger answered Occupied"
        assert occupied["request"]["connectorId"] == 0
        assert "parentIdTag" not in occupied["request"]
        cancelled = await run(
            api, "CP-R1", "cancel-reservation", {"reservation_id": reserved["id"]}
        )
        assert cancelled["state"] == "accepted"
        assert charger.received.calls[-1] == (
            "CancelReservation",
            {"reservation_id": reserved["id"]},
        )
        no_type = await refused_before_queued(
            api,
            "CP-R1",
            "reserve-now",
            {"id_token": "TAG-R", "expires_at": expiry.isoformat(), "connector_type": "cType2"},
        )
        assert "no connector type" in no_type["error"]

        # Smart charging: a charger-wide limit, then a limit for the transaction under way.
        limited = await run(
            api, "CP-R1", "set-charging-profile", {"evse_id": 0, "profile": max_profile()}
        )
        assert limited["state"] == "accepted", limited
        assert charger.received.calls[-1] == (
            "SetChargingProfile",
            {
                "connector_id": 0,
                "cs_charging_profiles": {
                    "charging_profile_id": 1,
                    "stack_level": 0,
                    "charging_profile_purpose": "ChargePointMaxProfile",
                    "charging_profile_kind": "Absolute",
                    "charging_schedule": {
                        "charging_rate_unit": "W",
                        "charging_schedule_period": [
                            {"start_period": 0, "limit": 22000},
                            {"start_period": 1800, "limit": 11000},
                        ],
                        "start_schedule": START,
                    },
                },
            },
        )
        started = await charger.call(
            call16.StartTransaction(
                connector_id=1, id_tag="TAG-R", meter_start=0, timestamp=iso(datetime.now(UTC))
            )
        )
        transaction_pk = await active_transaction(api, "CP-R1")
        for_tx = await run(
            api,
            "CP-R1",
            "set-charging-profile",
            {"evse_id": 1, "profile": tx_profile(transaction_id=transaction_pk)},
        )
        assert for_tx["state"] == "accepted", for_tx
        sent = charger.received.calls[-1][1]["cs_charging_profiles"]
        assert sent["transaction_id"] == started.transaction_id
        assert sent["charging_profile_purpose"] == "TxProfile"

        refused = [
            ({"evse_id": 1, "profile": tx_profile()}, "give its transaction_id"),
            (
                {"evse_id": 2, "profile": tx_profile(transaction_id=transaction_pk)},
                "is on EVSE 1, not on 2",
            ),
            ({"evse_id": 1, "profile": max_profile()}, "evse_id 0"),
        ]
        calls_before = len(charger.received.calls)
        for body, rule in refused:
            failed = await refused_before_queued(api, "CP-R1", "set-charging-profile", body)
            assert rule in failed["error"]
        assert len(charger.received.calls) == calls_before, "a broken rule is never sent"

        unknown = await run(api, "CP-R1", "clear-charging-profile", {"profile_id": 404})
        assert unknown["state"] == "rejected"
        assert unknown["error"] == "the charger answered Unknown"
        cleared = await run(
            api,
            "CP-R1",
            "clear-charging-profile",
            {"evse_id": 1, "purpose": "tx_default", "stack_level": 1},
        )
        assert cleared["state"] == "accepted"
        assert charger.received.calls[-1] == (
            "ClearChargingProfile",
            {"connector_id": 1, "charging_profile_purpose": "TxDefaultProfile", "stack_level": 1},
        )
        composite = await run(
            api,
            "CP-R1",
            "get-composite-schedule",
            {"evse_id": 1, "duration": 3600, "rate_unit": "A"},
        )
        assert composite["state"] == "accepted"
        assert charger.received.calls[-1] == (
            "GetCompositeSchedule",
            {"connector_id": 1, "duration": 3600, "charging_rate_unit": "A"},
        )
        assert composite["response"]["chargingSchedule"] == {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        }

        remote = await run(
            api,
            "CP-R1",
            "remote-start",
            {"id_token": "TAG-R", "evse_id": 2, "charging_profile": tx_profile()},
        )
        assert remote["state"] == "accepted", remote
        assert charger.received.calls[-1] == (
            "RemoteStartTransaction",
            {
                "id_tag": "TAG-R",
                "connector_id": 2,
                "charging_profile": {
                    "charging_profile_id": 5,
                    "stack_level": 1,
                    "charging_profile_purpose": "TxProfile",
                    "charging_profile_kind": "Relative",
                    "charging_schedule": {
                        "charging_rate_unit": "A",
                        "charging_schedule_period": [{"start_period": 0, "limit": 16}],
                    },
                },
            },
        )
        not_tx = await refused_before_queued(
            api, "CP-R1", "remote-start", {"id_token": "TAG-R", "charging_profile": max_profile()}
        )
        assert "purpose tx" in not_tx["error"]


def reserve201(request: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Occupied" if request["id_token"]["id_token"] == "BUSY" else "Accepted"}


def cancel201(request: dict[str, Any]) -> dict[str, Any]:
    return {"status": "Rejected" if request["reservation_id"] == 12345 else "Accepted"}


async def test_201_reservations_and_profiles(server: ServerProcess) -> None:
    await server.register_charger("CS-R1", PASSWORD)
    await server.add_id_token("CARD-R", type="ISO14443", group_id="FLEET")
    expiry = datetime.now(UTC) + timedelta(minutes=30)
    schedule = {
        "status": "Accepted",
        "schedule": {
            "evse_id": 1,
            "duration": 600,
            "schedule_start": START,
            "charging_rate_unit": "W",
            "charging_schedule_period": [{"start_period": 0, "limit": 7400}],
        },
    }
    answers: dict[str, Answer] = {
        "ReserveNow": reserve201,
        "CancelReservation": cancel201,
        "SetChargingProfile": ACCEPTED,
        "ClearChargingProfile": clear,
        "GetCompositeSchedule": schedule,
        "RequestStartTransaction": ACCEPTED,
    }
    async with (
        answering_charger(server, "CS-R1", PASSWORD, answers, version="2.0.1") as charger,
        server.api() as api,
    ):
        await charger.call(boot201())
        reserved = await run(
            api,
            "CS-R1",
            "reserve-now",
            {
                "id_token": "CARD-R",
                "expires_at": expiry.isoformat(),
                "evse_id": 1,
                "connector_type": "cType2",
            },
        )
        assert reserved["state"] == "accepted", reserved
        action, request = charger.received.calls[-1]
        assert action == "ReserveNow"
        assert datetime.fromisoformat(request.pop("expiry_date_time")) == expiry
        assert request == {
            "id": reserved["id"],
            "id_token": {"id_token": "CARD-R", "type": "ISO14443"},
            "evse_id": 1,
            "connector_type": "cType2",
            "group_id_token": {"id_token": "FLEET", "type": "Central"},
        }
        occupied = await run(
            api,
            "CS-R1",
            "reserve-now",
            {"id_token": "BUSY", "expires_at": expiry.isoformat(), "evse_id": 0},
        )
        assert occupied["state"] == "rejected"
        assert occupied["error"] == "the charger answered Occupied"
        assert occupied["request"]["idToken"] == {"idToken": "BUSY", "type": "Central"}
        assert "evseId" not in occupied["request"]
        bad_type = await refused_before_queued(
            api,
            "CS-R1",
            "reserve-now",
            {"id_token": "X", "id_token_type": "Badge", "expires_at": expiry.isoformat()},
        )
        assert "not an OCPP 2.0.1 IdTokenEnum" in bad_type["error"]
        cancelled = await run(
            api, "CS-R1", "cancel-reservation", {"reservation_id": reserved["id"]}
        )
        assert cancelled["state"] == "accepted"
        assert charger.received.calls[-1] == (
            "CancelReservation",
            {"reservation_id": reserved["id"]},
        )
        unknown_reservation = await run(
            api, "CS-R1", "cancel-reservation", {"reservation_id": 12345}
        )
        assert unknown_reservation["state"] == "rejected"

        default = await run(
            api,
            "CS-R1",
            "set-charging-profile",
            {
                "evse_id": 0,
                "profile": max_profile(
                    id=3, purpose="tx_default", kind="recurring", recurrency="weekly"
                ),
            },
        )
        assert default["state"] == "accepted", default
        assert charger.received.calls[-1] == (
            "SetChargingProfile",
            {
                "evse_id": 0,
                "charging_profile": {
                    "id": 3,
                    "stack_level": 0,
                    "charging_profile_purpose": "TxDefaultProfile",
                    "charging_profile_kind": "Recurring",
                    "recurrency_kind": "Weekly",
                    "charging_schedule": [
                        {
                            "id": 3,
                            "charging_rate_unit": "W",
                            "charging_schedule_period": [
                                {"start_period": 0, "limit": 22000},
                                {"start_period": 1800, "limit": 11000},
                            ],
                            "start_schedule": START,
                        }
                    ],
                },
            },
        )
        await charger.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=iso(datetime.now(UTC)),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": "tx-r"},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": "CARD-R", "type": "ISO14443"},
            )
        )
        transaction_pk = await active_transaction(api, "CS-R1")
        for_tx = await run(
            api,
            "CS-R1",
            "set-charging-profile",
            {"evse_id": 1, "profile": tx_profile(transaction_id=transaction_pk)},
        )
        assert for_tx["state"] == "accepted", for_tx
        sent = charger.received.calls[-1][1]["charging_profile"]
        assert sent["transaction_id"] == "tx-r"
        assert sent["charging_schedule"][0]["id"] == 5
        no_start = await refused_before_queued(
            api,
            "CS-R1",
            "set-charging-profile",
            {"evse_id": 0, "profile": {**max_profile(), "schedule": tx_profile()["schedule"]}},
        )
        assert "absolute schedule needs its start" in no_start["error"]

        unknown = await run(api, "CS-R1", "clear-charging-profile", {"profile_id": 404})
        assert unknown["state"] == "rejected"
        assert unknown["error"] == "the charger answered Unknown"
        assert charger.received.calls[-1] == (
            "ClearChargingProfile",
            {"charging_profile_id": 404},
        )
        cleared = await run(
            api, "CS-R1", "clear-charging-profile", {"evse_id": 0, "purpose": "charger_max"}
        )
        assert cleared["state"] == "accepted"
        assert charger.received.calls[-1] == (
            "ClearChargingProfile",
            {
                "charging_profile_criteria": {
                    "evse_id": 0,
                    "charging_profile_purpose": "ChargingStationMaxProfile",
                }
            },
        )
        composite = await run(
            api, "CS-R1", "get-composite-schedule", {"evse_id": 1, "duration": 600}
        )
        assert composite["state"] == "accepted"
        assert charger.received.calls[-1] == (
            "GetCompositeSchedule",
            {"duration": 600, "evse_id": 1},
        )
        assert composite["response"]["schedule"] == {
            "evseId": 1,
            "duration": 600,
            "scheduleStart": START,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
        }

        remote = await run(
            api,
            "CS-R1",
            "remote-start",
            {"id_token": "CARD-R", "evse_id": 2, "charging_profile": tx_profile()},
        )
        assert remote["state"] == "accepted", remote
        assert charger.received.calls[-1][1]["charging_profile"] == {
            "id": 5,
            "stack_level": 1,
            "charging_profile_purpose": "TxProfile",
            "charging_profile_kind": "Relative",
            "charging_schedule": [
                {
                    "id": 5,
                    "charging_rate_unit": "A",
                    "charging_schedule_period": [{"start_period": 0, "limit": 16}],
                }
            ],
        }
        with_tx = await refused_before_queued(
            api,
            "CS-R1",
            "remote-start",
            {"id_token": "CARD-R", "charging_profile": tx_profile(transaction_id=transaction_pk)},
        )
        assert "no transaction_id" in with_tx["error"]
