"""An OCPP 1.6 session on a connector with a tariff ends in a CDR priced as the engine
prices the same timeline; the CDR is made once, corrected with credit CDRs, exported."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ocpp.v16 import call

from tests.integration.harness import ServerProcess, create_api_token, query
from tests.integration.tariffing import (
    AMSTERDAM,
    MINUTE,
    add_tariff,
    amounts,
    assign,
    cdr_totals,
    cdrs_of,
    engine_price,
    iso,
    period,
    place,
    totals,
)

PASSWORD = "correct-horse-battery"
# 11:50 in Amsterdam: energy costs more from 12:00 local time on.
T0 = datetime(2026, 5, 4, 9, 50, tzinfo=UTC)
OCMF = 'OCMF|{"FV":"1.0","RD":[{"RV":7.6,"RU":"kWh"}]}|{"SD":"3045022100AB"}'
TARIFF: dict[str, Any] = {
    "id": "AMS-DAY",
    "currency": "EUR",
    "type": "REGULAR",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 0.50, "vat": 21.0, "step_size": 1}]},
        {
            "price_components": [{"type": "ENERGY", "price": 0.35, "vat": 21.0, "step_size": 1}],
            "restrictions": {"start_time": "12:00", "end_time": "18:00"},
        },
        {
            "price_components": [
                {"type": "ENERGY", "price": 0.25, "vat": 21.0, "step_size": 1},
                {"type": "TIME", "price": 1.20, "vat": 21.0, "step_size": 60},
                {"type": "PARKING_TIME", "price": 6.00, "vat": 21.0, "step_size": 300},
            ]
        },
    ],
}
FLAT_FIVE: dict[str, Any] = {
    "id": "FLAT-5",
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 5.00, "vat": 21.0, "step_size": 1}]}
    ],
}


def status(state: str, at: datetime) -> call.StatusNotification:
    return call.StatusNotification(
        connector_id=1, error_code="NoError", status=state, timestamp=iso(at)
    )


def meter_values(transaction_id: int, at: datetime, wh: int) -> call.MeterValues:
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[
            {
                "timestamp": iso(at),
                "sampledValue": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register"},
                    {"value": "11040", "measurand": "Power.Active.Import", "unit": "W"},
                    *(
                        {"value": "16", "measurand": "Current.Import", "phase": p, "unit": "A"}
                        for p in ("L1", "L2", "L3")
                    ),
                ],
            }
        ],
    )


def stop(transaction_id: int) -> call.StopTransaction:
    end = T0 + 45 * MINUTE
    return call.StopTransaction(
        meter_stop=7600,
        timestamp=iso(end),
        transaction_id=transaction_id,
        id_tag="TAG-1",
        reason="EVDisconnected",
        transaction_data=[
            {
                "timestamp": iso(end),
                "sampledValue": [
                    {"value": OCMF, "format": "SignedData", "context": "Transaction.End"}
                ],
            }
        ],
    )


async def test_session_ends_in_a_cdr_priced_like_the_engine(server: ServerProcess) -> None:
    await server.register_charger("CP-TARIFF", PASSWORD)
    await place(server, "CP-TARIFF")
    await server.add_id_token("TAG-1")
    async with server.api() as api:
        stored = await add_tariff(api, TARIFF)
        assert (stored["country_code"], stored["party_id"]) == ("ZZ", "CGR")
        await add_tariff(api, FLAT_FIVE)
        await assign(api, "CP-TARIFF", 1, "AMS-DAY")

        async with server.charger16("CP-TARIFF", PASSWORD) as charger:
            await charger.call(
                call.BootNotification(
                    charge_point_vendor="Acme", charge_point_model="W", meter_serial_number="M-7"
                )
            )
            await charger.call(status("Preparing", T0 - MINUTE))
            started = await charger.call(
                call.StartTransaction(
                    connector_id=1, id_tag="TAG-1", meter_start=1000, timestamp=iso(T0)
                )
            )
            transaction_id = started.transaction_id
            await charger.call(status("Charging", T0 + timedelta(seconds=10)))
            await charger.call(meter_values(transaction_id, T0 + 15 * MINUTE, 4000))

            # Running: the cost so far, priced up to now; the tariff was frozen at the start.
            running = (await api.get(f"/transactions/{transaction_id}")).json()
            assert running["tariff_id"] == "AMS-DAY"
            assert running["cost"]["cdr_id"] is None
            assert running["cost"]["currency"] == "EUR"
            assert running["cost"]["total_energy"] == 3.0
            assert running["cost"]["total_cost"]["excl_vat"] > 0

            # A later edit of the tariff does not reach the running transaction.
            edited = {**TARIFF, "elements": [TARIFF["elements"][0]]}
            assert (await api.put("/tariffs/AMS-DAY", json=edited)).status_code == 200

            await charger.call(status("SuspendedEV", T0 + 30 * MINUTE))
            await charger.call(meter_values(transaction_id, T0 + 40 * MINUTE, 7600))
            stopped = await charger.call(stop(transaction_id))
            assert stopped.id_tag_info["status"] == "Accepted"
            # The charger repeats its StopTransaction (no answer came, say): still one CDR.
            await charger.call(stop(transaction_id))
            await charger.call(status("Available", T0 + 46 * MINUTE))

        (cdr,) = await cdrs_of(api, "CP-TARIFF")
        assert cdr == (await api.get(f"/cdrs/{cdr['id']}")).json()
        detail = (await api.get(f"/transactions/{transaction_id}")).json()

    # The timeline the test drove: charging until 10:20, parking (SuspendedEV) after; the
    # energy between the readings at 10:05 and 10:30 was charged before 10:20.
    end = T0 + 45 * MINUTE
    expected = engine_price(
        stored,
        "Europe/Amsterdam",
        T0,
        end,
        [
            period(T0, energy="3", time="0.25"),
            period(T0 + 15 * MINUTE, energy="3.6", time="0.25"),
            period(T0 + 30 * MINUTE, parking="0.1667"),
            period(T0 + 40 * MINUTE, parking="0.0833"),
        ],
    )
    assert cdr_totals(cdr) == totals(expected)
    assert amounts(cdr["charging_periods"]) == amounts(expected.charging_periods)
    # 12:00 local time cuts the first period: two energy prices.
    assert [p["start_date_time"] for p in cdr["charging_periods"]][:3] == [
        "2026-05-04T09:50:00Z",
        "2026-05-04T10:00:00Z",
        "2026-05-04T10:05:00Z",
    ]
    assert cdr["total_cost"] == {"excl_vat": 4.71, "incl_vat": 5.6991}
    assert {p["tariff_id"] for p in cdr["charging_periods"]} == {"AMS-DAY"}
    first = {d["type"]: d["volume"] for d in cdr["charging_periods"][0]["dimensions"]}
    assert (first["MAX_POWER"], first["MAX_CURRENT"]) == (11.04, 48.0)

    assert cdr["id"] == str(transaction_id)
    assert cdr["session_id"] == str(transaction_id)
    assert cdr["currency"] == "EUR"
    assert (cdr["start_date_time"], cdr["end_date_time"]) == (iso(T0), iso(end))
    assert cdr["cdr_token"] == {
        "country_code": "ZZ",
        "party_id": "CGR",
        "uid": "TAG-1",
        "type": "RFID",
        "contract_id": "TAG-1",
    }
    assert cdr["auth_method"] == "AUTH_REQUEST"
    assert cdr["cdr_location"] == {
        "id": AMSTERDAM.id,
        "name": "Stationsplein",
        "address": "Stationsplein 1",
        "city": "Amsterdam",
        "postal_code": "1012 AB",
        "country": "NLD",
        "coordinates": {"latitude": "52.378901", "longitude": "4.900272"},
        "evse_uid": "CP-TARIFF*1",
        "evse_id": "CP-TARIFF*1",
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_3_PHASE",
    }
    assert cdr["meter_id"] == "M-7"
    assert cdr["signed_data"] == {
        "encoding_method": "OCMF",
        "signed_values": [{"nature": "End", "plain_data": "", "signed_data": OCMF}],
    }
    assert cdr["remark"] == "stopped: EVDisconnected"
    # The tariff as it was when the session started, not as edited during it.
    assert [t["id"] for t in cdr["tariffs"]] == ["AMS-DAY"]
    assert len(cdr["tariffs"][0]["elements"]) == 3

    assert detail["cost"] == {
        "currency": "EUR",
        "total_cost": cdr["total_cost"],
        "total_energy": 6.6,
        "total_time": 0.75,
        "total_parking_time": 0.25,
        "tariff_id": "AMS-DAY",
        "cdr_id": cdr["id"],
        "as_of": detail["cost"]["as_of"],
    }


async def test_credit_cdrs_correct_a_cdr_and_the_export_adds_up(server: ServerProcess) -> None:
    await server.register_charger("CP-CREDIT", PASSWORD)
    await server.add_id_token("TAG-2")
    viewer = await create_api_token(server.database_url, "viewer")
    operator = await create_api_token(server.database_url, "operator")
    async with server.api() as api:
        await add_tariff(api, {**TARIFF, "id": "DAY-2"})
        await add_tariff(api, FLAT_FIVE)
        response = await api.put("/chargers/CP-CREDIT/tariffs", json={"tariff_ids": ["DAY-2"]})
        assert response.status_code == 200, response.text
        async with server.charger16("CP-CREDIT", PASSWORD) as charger:
            await charger.call(
                call.BootNotification(charge_point_vendor="A", charge_point_model="B")
            )
            started = await charger.call(
                call.StartTransaction(
                    connector_id=2, id_tag="TAG-2", meter_start=1000, timestamp=iso(T0)
                )
            )
            await charger.call(stop(started.transaction_id))
        (original,) = await cdrs_of(api, "CP-CREDIT")
    # Without a location the tariff is read in the platform's time zone (UTC).
    assert original["tariffs"][0]["id"] == "DAY-2"
    assert original["cdr_location"]["evse_id"] == "CP-CREDIT*2"
    cdr_id = original["id"]

    async with server.api(viewer) as api:
        refused = await api.post(f"/cdrs/{cdr_id}/credit", json={})
        assert refused.status_code == 403, refused.text
        assert (await api.get(f"/cdrs/{cdr_id}")).status_code == 200

    async with server.api(operator) as api:
        response = await api.post(f"/cdrs/{cdr_id}/credit", json={"remark": "meter replaced"})
        assert response.status_code == 201, response.text
        first = response.json()
        credit, again = first["credit"], first["replacement"]
        assert credit["id"] == f"{cdr_id}-C"
        assert (credit["credit"], credit["credit_reference_id"]) == (True, cdr_id)
        negated = {k: -v for k, v in original["total_cost"].items()}
        assert credit["total_cost"] == negated
        # Everything else is the original's (mod_cdrs: only total_cost is negated).
        same = {"id", "credit", "credit_reference_id", "total_cost", "remark", "last_updated"}
        assert {k: v for k, v in credit.items() if k not in same} == {
            k: v for k, v in original.items() if k not in same
        }
        assert again["id"] == f"{cdr_id}-2"
        assert "credit" not in again
        assert cdr_totals(again) == cdr_totals(original)  # priced again, nothing changed
        assert again["remark"].startswith("meter replaced")

        twice = await api.post(f"/cdrs/{cdr_id}/credit")  # the body may be left out
        assert twice.status_code == 409, twice.text
        of_credit = await api.post(f"/cdrs/{cdr_id}-C/credit", json={})
        assert of_credit.status_code == 422, of_credit.text
        unknown = await api.post(f"/cdrs/{cdr_id}-2/credit", json={"tariff_id": "NOPE"})
        assert unknown.status_code == 404, unknown.text
        missing = await api.post("/cdrs/NO-SUCH-CDR/credit", json={})
        assert missing.status_code == 404, missing.text

        # Priced again with another tariff, then credited without a new CDR.
        response = await api.post(f"/cdrs/{cdr_id}-2/credit", json={"tariff_id": "FLAT-5"})
        assert response.status_code == 201, response.text
        third = response.json()["replacement"]
        assert third["id"] == f"{cdr_id}-3"
        assert third["total_cost"] == {"excl_vat": 5.0, "incl_vat": 6.05}
        assert [t["id"] for t in third["tariffs"]] == ["FLAT-5"]
        response = await api.post(f"/cdrs/{cdr_id}-3/credit", json={"reissue": False})
        assert response.status_code == 201, response.text
        assert response.json()["replacement"] is None

        listed = (await api.get("/cdrs", params={"charger_id": "CP-CREDIT"})).json()
        ids = [c["id"] for c in listed["items"]]
        suffixes = ["-3-C", "-3", "-2-C", "-2", "-C", ""]
        assert ids == [cdr_id + suffix for suffix in suffixes]
        assert listed["total"] == 6
        assert (await api.get("/cdrs", params={"id_token": "NOBODY"})).json()["total"] == 0
        later = {"since": iso(datetime.now(UTC) + timedelta(hours=1))}
        assert (await api.get("/cdrs", params=later)).json()["total"] == 0
        page = (await api.get("/cdrs", params={"charger_id": "CP-CREDIT", "limit": 2})).json()
        assert [c["id"] for c in page["items"]] == ids[:2]

        export = await api.get("/cdrs.csv", params={"charger_id": "CP-CREDIT"})
        assert export.status_code == 200, export.text
        assert export.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(export.text)))
        # Oldest first; the corrections cancel out what they credit.
        assert [r["cdr_id"] for r in rows] == ids[::-1]
        assert sum(Decimal(r["total_cost_excl_vat"]) for r in rows) == 0
        assert rows[0] | {"created_at": ""} == {
            "cdr_id": cdr_id,
            "credit": "false",
            "credit_reference_id": "",
            "session_id": cdr_id,
            "charger_id": "CP-CREDIT",
            "evse_id": "2",
            "connector_id": "1",
            "id_token": "TAG-2",
            "start_date_time": iso(T0),
            "end_date_time": iso(T0 + 45 * MINUTE),
            "currency": "EUR",
            "total_cost_excl_vat": f"{original['total_cost']['excl_vat']:.4f}",
            "total_cost_incl_vat": f"{original['total_cost']['incl_vat']:.4f}",
            "total_energy_kwh": "6.6000",
            "total_time_h": "0.7500",
            "total_parking_time_h": "0.0000",
            "tariff_id": "DAY-2",
            "created_at": "",
        }
        assert rows[1]["credit"] == "true"
        assert rows[1]["credit_reference_id"] == cdr_id
        empty = await api.get("/cdrs.csv", params={"charger_id": "NO-SUCH"})
        assert empty.text.splitlines() == [",".join(_csv_header())]


def _csv_header() -> list[str]:
    from chargegrid.api.routes.cdrs import CSV_COLUMNS

    return list(CSV_COLUMNS)


async def test_a_cdr_the_database_cannot_hold_leaves_its_end_answered(
    server: ServerProcess,
) -> None:
    """A session of 5 x 10^14 kWh: priced, but more than a CDR's figures hold on
    PostgreSQL (NUMERIC(18, 4)). Its end is answered and recorded all the same, and its
    CDR waits to be tried again. (The CDR is stored with its group's other writes, whose
    statement it then fails: the end runs again alone, where its savepoint keeps the
    failure the CDR's. SQLite stores any number.)"""
    await server.register_charger("CP-HUGE", PASSWORD)
    await server.add_id_token("TAG-H")
    async with server.charger16("CP-HUGE", PASSWORD) as charger:
        await charger.call(call.BootNotification(charge_point_vendor="A", charge_point_model="W"))
        started = await charger.call(
            call.StartTransaction(connector_id=1, id_tag="TAG-H", meter_start=0, timestamp=iso(T0))
        )
        ended = await charger.call(
            call.StopTransaction(
                transaction_id=started.transaction_id,
                meter_stop=5 * 10**17,
                timestamp=iso(T0 + 60 * MINUTE),
                id_tag="TAG-H",
            )
        )
    assert ended.id_tag_info == {"status": "Accepted"}
    rows = await query(
        server.database_url,
        "SELECT t.status, t.energy_wh, (SELECT count(*) FROM cdrs) AS cdrs,"
        " (SELECT count(*) FROM pending_cdrs) AS pending FROM transactions t",
    )
    held = not server.database_url.startswith("postgresql")
    assert [(r["status"], r["energy_wh"], r["cdrs"], r["pending"]) for r in rows] == [
        ("completed", 5e17, 1 if held else 0, 0 if held else 1)
    ]
