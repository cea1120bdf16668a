"""/api/v1/tariffs and tariff assignments: OCPI tariffs kept exactly, errors that name the
field, roles, and which tariff a transaction gets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocpp.v16 import call

from tests.integration.harness import ServerProcess, create_api_token
from tests.integration.tariffing import iso

PASSWORD = "correct-horse-battery"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ocpi-2.2.1"


def simple(tariff_id: str, price: float = 0.25, **extra: Any) -> dict[str, Any]:
    return {
        "id": tariff_id,
        "currency": "EUR",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": price, "vat": 21, "step_size": 1}]}
        ],
        **extra,
    }


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


async def test_tariffs_are_kept_exactly_and_errors_name_the_field(server: ServerProcess) -> None:
    complex_tariff = (FIXTURES / "tariff_4_complex.json").read_bytes()
    async with server.api() as api:
        created = await api.post(
            "/tariffs", content=complex_tariff, headers={"Content-Type": "application/json"}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        original = json.loads(complex_tariff)
        # As sent, but for last_updated, which is the platform's.
        assert {k: v for k, v in body.items() if k != "last_updated"} == {
            k: v for k, v in original.items() if k != "last_updated"
        }
        assert datetime.fromisoformat(body["last_updated"]) > datetime(2026, 1, 1, tzinfo=UTC)
        # Prices keep every digit they were sent with.
        exact = (
            b'{"id":"EXACT","currency":"EUR","elements":[{"price_components":'
            b'[{"type":"ENERGY","price":0.123456789012345678,"step_size":1}]}]}'
        )
        response = await api.post("/tariffs", content=exact)
        assert response.status_code == 201, response.text
        assert b'"price":0.123456789012345678' in response.content
        assert b'"price":0.123456789012345678' in (await api.get("/tariffs/EXACT")).content
        assert (await api.get("/tariffs/EXACT")).json()["country_code"] == "ZZ"

        error = error_of(await api.post("/tariffs", json=simple("14")), 409)
        assert "already exists" in error["message"]
        bad = simple("BAD")
        bad["elements"][0]["price_components"][0]["vat"] = -5
        error = error_of(await api.post("/tariffs", json=bad), 422)
        assert error["message"] == "elements[0].price_components[0].vat: must not be below 0"
        assert error["details"][0]["location"] == "body.elements[0].price_components[0].vat"
        for body_sent, message in [
            ({"id": "X", "currency": "EUR"}, "elements: is required"),
            ({**simple("X"), "currency": "euro"}, "currency:"),
            ({**simple("X"), "start_date_time": "yesterday"}, "start_date_time:"),
            (
                {
                    **simple("X"),
                    "elements": [
                        {
                            "price_components": [{"type": "TIME", "price": 1, "step_size": 60}],
                            "restrictions": {"min_kwh": 10, "max_kwh": 5},
                        }
                    ],
                },
                "elements[0].restrictions.max_kwh: must be above min_kwh",
            ),
            ([1, 2], "a tariff is a JSON object"),
        ]:
            error = error_of(await api.post("/tariffs", json=body_sent), 422)
            assert error["message"].startswith(message), error
        error = error_of(await api.post("/tariffs", content=b"{nope"), 422)
        assert error["message"].startswith("not valid JSON")
        assert (await api.get("/tariffs/BAD")).status_code == 404

        replaced = await api.put("/tariffs/EXACT", json=simple("EXACT", 0.3, type="AD_HOC_PAYMENT"))
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["type"] == "AD_HOC_PAYMENT"
        # The id in the body may be left out, but not differ from the path's.
        without_id = {k: v for k, v in simple("EXACT", 0.31).items() if k != "id"}
        assert (await api.put("/tariffs/EXACT", json=without_id)).status_code == 200
        error = error_of(await api.put("/tariffs/EXACT", json=simple("OTHER")), 422)
        assert "the id in the path" in error["message"]
        assert (await api.put("/tariffs/NONE", json=simple("NONE"))).status_code == 404

        listed = (await api.get("/tariffs")).json()
        assert [t["id"] for t in listed["items"]] == ["14", "EXACT"]
        assert listed["items"][1]["elements"][0]["price_components"][0]["price"] == 0.31
        assert (listed["total"], listed["limit"], listed["offset"]) == (2, 100, 0)
        assert (await api.delete("/tariffs/14")).status_code == 204
        assert (await api.get("/tariffs/14")).status_code == 404


async def test_assignments_pick_the_tariff_a_transaction_gets(server: ServerProcess) -> None:
    await server.register_charger("CP-A", PASSWORD)
    await server.add_id_token("TAG-A")
    viewer = await create_api_token(server.database_url, "viewer")
    operator = await create_api_token(server.database_url, "operator")
    async with server.api(operator) as api:
        for tariff in (
            simple("EXPIRED", end_date_time="2020-01-01T00:00:00Z"),
            simple("ADHOC", type="AD_HOC_PAYMENT"),
            simple("REGULAR", 0.3, type="REGULAR"),
            simple("DEFAULT", 0.2),
        ):
            assert (await api.post("/tariffs", json=tariff)).status_code == 201
        connector = "/chargers/CP-A/evses/1/connectors/1/tariffs"
        response = await api.put(connector, json={"tariff_ids": ["EXPIRED", "ADHOC", "REGULAR"]})
        assert response.status_code == 200, response.text
        assert response.json() == {
            "charger_id": "CP-A",
            "evse_id": 1,
            "connector_id": 1,
            "tariff_ids": ["EXPIRED", "ADHOC", "REGULAR"],
        }
        response = await api.put("/chargers/CP-A/tariffs", json={"tariff_ids": ["DEFAULT"]})
        assert response.json()["tariff_ids"] == ["DEFAULT"]

        error = error_of(await api.put(connector, json={"tariff_ids": ["NOPE"]}), 422)
        assert error["message"] == "tariff_ids: unknown tariff 'NOPE'"
        error = error_of(await api.put(connector, json={"tariff_ids": ["ADHOC", "ADHOC"]}), 422)
        assert "twice" in error["message"]
        zero = "/chargers/CP-A/evses/0/connectors/1/tariffs"
        assert (await api.put(zero, json={"tariff_ids": []})).status_code == 422
        missing = "/chargers/NOBODY/evses/1/connectors/1/tariffs"
        assert (await api.put(missing, json={"tariff_ids": []})).status_code == 404
        assert (await api.get(missing)).status_code == 404
        error = error_of(await api.delete("/tariffs/DEFAULT"), 409)
        assert "assigned (charger CP-A)" in error["message"]

    async with server.api(viewer) as api:
        assert (await api.get(connector)).json()["tariff_ids"] == ["EXPIRED", "ADHOC", "REGULAR"]
        assert (await api.get("/chargers/CP-A/tariffs")).json()["tariff_ids"] == ["DEFAULT"]
        assert (await api.get("/tariffs")).status_code == 200
        for response in [
            await api.post("/tariffs", json=simple("V")),
            await api.put("/tariffs/DEFAULT", json=simple("DEFAULT")),
            await api.delete("/tariffs/DEFAULT"),
            await api.put(connector, json={"tariff_ids": []}),
            await api.put("/chargers/CP-A/tariffs", json={"tariff_ids": []}),
        ]:
            assert error_of(response, 403)["message"] == "this needs the operator role"

    start = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    async with server.charger16("CP-A", PASSWORD) as charger:
        await charger.call(call.BootNotification(charge_point_vendor="A", charge_point_model="B"))
        on_connector = await charger.call(
            call.StartTransaction(
                connector_id=1, id_tag="TAG-A", meter_start=0, timestamp=iso(start)
            )
        )
        on_other = await charger.call(
            call.StartTransaction(
                connector_id=2, id_tag="TAG-A", meter_start=0, timestamp=iso(start)
            )
        )
    async with server.api() as api:
        first = (await api.get(f"/transactions/{on_connector.transaction_id}")).json()
        second = (await api.get(f"/transactions/{on_other.transaction_id}")).json()
        # Unassigning a tariff does not take it from the transactions that have it.
        assert (await api.put(connector, json={"tariff_ids": []})).status_code == 200
        assert (await api.put("/chargers/CP-A/tariffs", json={"tariff_ids": []})).status_code == 200
        assert (await api.delete("/tariffs/REGULAR")).status_code == 204
        still = (await api.get(f"/transactions/{on_connector.transaction_id}")).json()
    # Expired is not in force, REGULAR comes before other types; connector 2 has none of
    # its own: the charger's default.
    assert first["tariff_id"] == "REGULAR"
    assert second["tariff_id"] == "DEFAULT"
    assert still["tariff_id"] == "REGULAR"
    assert still["cost"]["tariff_id"] == "REGULAR"
