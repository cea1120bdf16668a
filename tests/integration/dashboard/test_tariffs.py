"""The tariffs page on a real server: tariffs added, edited and deleted as OCPI JSON with
the field at fault named, where each applies, the price of a sample session (equal to
the engine's), and what a viewer may do."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chargegrid.tariffs import SampleSession, parse_tariff, price_session
from tests.integration.dashboard.client import create_user, sign_in, visitor
from tests.integration.harness import ServerProcess
from tests.integration.tariffing import assign

TARIFF: dict[str, Any] = {
    "id": "EVENING",
    "currency": "EUR",
    "tariff_alt_text": [{"language": "en", "text": "Cheaper after eight"}],
    "elements": [
        {
            "price_components": [{"type": "ENERGY", "price": 0.40, "vat": 21.0, "step_size": 1}],
            "restrictions": {"start_time": "07:00", "end_time": "20:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21.0, "step_size": 1}]},
        {"price_components": [{"type": "PARKING_TIME", "price": 3, "vat": 21.0, "step_size": 60}]},
    ],
}


def field_error(page: str) -> str:
    found = re.search(r'<span class="field-error" id="tariff-document-error">([^<]*)</span>', page)
    assert found is not None, "no problem shown next to the tariff"
    assert 'aria-invalid="true"' in page
    return found[1]


def preview_total(page: str) -> tuple[str, str]:
    excl = re.search(r'data-preview="excl">([^<]+)<', page)
    incl = re.search(r'data-preview="incl"><strong>([^<]+)<', page)
    assert excl is not None, page
    assert incl is not None, page
    return excl[1], incl[1]


def euros(amount: Decimal | None) -> str:
    assert amount is not None
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f} EUR"


async def test_operators_manage_tariffs_and_preview_their_price(server: ServerProcess) -> None:
    await create_user(server, "op@example.com", "operator")
    await server.register_charger("CP-T1", "correct-horse-battery")
    async with visitor(server) as operator, server.api() as api:
        token = await sign_in(operator, "op@example.com")
        empty = await operator.get("/tariffs")
        assert "No tariffs yet" in empty.text
        assert 'id="add-tariff"' in empty.text
        assert 'href="/tariffs" aria-current="page"' in empty.text

        # Bad JSON, and a tariff the engine refuses: nothing saved, the field named.
        broken = await operator.post("/tariffs", data={"csrf_token": token, "document": "{"})
        assert broken.status_code == 422
        assert field_error(broken.text).startswith("not valid JSON")
        negative = json.loads(json.dumps(TARIFF))
        negative["elements"][1]["price_components"][0]["vat"] = -1
        refused = await operator.post(
            "/tariffs", data={"csrf_token": token, "document": json.dumps(negative)}
        )
        assert refused.status_code == 422
        problem = field_error(refused.text)
        assert problem.startswith("elements[1].price_components[0].vat:"), problem
        assert "&#34;vat&#34;: -1" in refused.text  # what was typed comes back
        assert (await api.get("/tariffs")).json()["total"] == 0

        created = await operator.post(
            "/tariffs", data={"csrf_token": token, "document": json.dumps(TARIFF)}
        )
        assert created.status_code == 303, created.text
        assert created.headers["location"].startswith("/tariffs/EVENING?")
        shown = (await operator.get(created.headers["location"])).text
        assert "Tariff EVENING was added." in shown
        assert "0.4 EUR per kWh, 21% VAT" in shown
        assert "when from 07:00 to 20:00 local time" in shown
        assert "3 EUR per hour parked, 21% VAT, billed per 60 s" in shown
        assert "Not assigned" in shown
        again = await operator.post(
            "/tariffs", data={"csrf_token": token, "document": json.dumps(TARIFF)}
        )
        assert again.status_code == 422
        assert "already exists" in field_error(again.text)

        # The sample session's price is the engine's for the same session.
        stored = parse_tariff((await api.get("/tariffs/EVENING")).json())
        params = {"day": "2026-07-01", "start": "19:00", "hours": "2", "power": "11"}
        params |= {"parking": "30", "zone": "Europe/Amsterdam"}
        preview = await operator.get("/tariffs/EVENING", params=params)
        sample = SampleSession(
            start=dt.datetime(2026, 7, 1, 19, 0),
            time_zone="Europe/Amsterdam",
            charging=dt.timedelta(hours=2),
            power_kw=Decimal(11),
            parking=dt.timedelta(minutes=30),
        )
        expected = price_session(stored, "Europe/Amsterdam", sample.timeline()).total_cost
        # 11 kWh at 0.40 before 20:00, 11 kWh at 0.25 after, 30 min parked at 3/h: 8.65.
        assert expected.excl_vat == Decimal("8.6500")
        assert preview_total(preview.text) == (euros(expected.excl_vat), euros(expected.incl_vat))
        fragment = await operator.get(
            "/tariffs/EVENING", params=params, headers={"HX-Request": "true"}
        )
        assert fragment.text.lstrip().startswith('<div id="preview-result"')
        assert preview_total(fragment.text) == preview_total(preview.text)
        nonsense = await operator.get(
            "/tariffs/EVENING", params={**params, "hours": "-1", "start": "late"}
        )
        assert "like 18:30" in nonsense.text
        assert "from 0 to 72" in nonsense.text
        assert "Correct the sample session" in nonsense.text
        unknown_zone = await operator.get("/tariffs/EVENING", params={**params, "zone": "Mars/X"})
        assert "is not an IANA time zone" in unknown_zone.text

        # Where it applies, counted in the list.
        await assign(api, "CP-T1", 1, "EVENING")
        listed = (await operator.get("/tariffs")).text
        row = re.search(r'<tr data-tariff="EVENING">.*?</tr>', listed, re.S)
        assert row is not None
        assert '<td class="num">1</td>' in row[0]
        assert "Cheaper after eight" in row[0]
        page = (await operator.get("/tariffs/EVENING")).text
        assert '<a href="/chargers/CP-T1">CP-T1</a>, EVSE 1 connector 1' in page
        in_use = await operator.post("/tariffs/EVENING/delete", data={"csrf_token": token})
        assert in_use.status_code == 409
        assert "unassign it first" in in_use.text
        assert (await api.get("/tariffs/EVENING")).status_code == 200

        # Edited: a new price, the id in the path kept.
        cheaper = json.loads(json.dumps(TARIFF))
        cheaper["elements"][1]["price_components"][0]["price"] = 0.2
        mismatch = await operator.post(
            "/tariffs/EVENING",
            data={"csrf_token": token, "document": json.dumps({**cheaper, "id": "OTHER"})},
        )
        assert mismatch.status_code == 422
        assert "the id in the path" in field_error(mismatch.text)
        saved = await operator.post(
            "/tariffs/EVENING", data={"csrf_token": token, "document": json.dumps(cheaper)}
        )
        assert saved.status_code == 303
        assert "0.2 EUR per kWh" in (await operator.get(saved.headers["location"])).text
        assert (await api.get("/tariffs/EVENING")).json()["elements"][1]["price_components"][0][
            "price"
        ] == 0.2

        await assign(api, "CP-T1", 1)
        removed = await operator.post("/tariffs/EVENING/delete", data={"csrf_token": token})
        assert removed.status_code == 303
        assert (
            "Tariff EVENING was deleted." in (await operator.get(removed.headers["location"])).text
        )
        assert (await api.get("/tariffs/EVENING")).status_code == 404
        assert (await operator.get("/tariffs/EVENING")).status_code == 404


async def test_viewers_see_tariffs_and_previews_but_change_nothing(server: ServerProcess) -> None:
    await create_user(server, "view@example.com", "viewer")
    async with server.api() as api:
        assert (await api.post("/tariffs", json=TARIFF)).status_code == 201
    async with visitor(server) as viewer:
        token = await sign_in(viewer, "view@example.com")
        listed = (await viewer.get("/tariffs")).text
        assert 'data-tariff="EVENING"' in listed
        assert 'id="add-tariff"' not in listed
        page = (await viewer.get("/tariffs/EVENING")).text
        assert "<textarea" not in page
        assert "Delete tariff" not in page
        assert "&#34;id&#34;: &#34;EVENING&#34;" in page  # the OCPI JSON, read-only
        assert preview_total(page)[0].endswith(" EUR")
        for path, data in (
            ("/tariffs", {"document": json.dumps({**TARIFF, "id": "NEW"})}),
            ("/tariffs/EVENING", {"document": json.dumps(TARIFF)}),
            ("/tariffs/EVENING/delete", {}),
        ):
            refused = await viewer.post(path, data={"csrf_token": token, **data})
            assert refused.status_code == 403, path
            assert "needs the operator role" in refused.text
    async with server.api() as api:
        assert (await api.get("/tariffs")).json()["total"] == 1


async def test_operators_set_a_chargers_tariffs_from_its_page(server: ServerProcess) -> None:
    await create_user(server, "op@example.com", "operator")
    await create_user(server, "view@example.com", "viewer")
    await server.register_charger("CP-T2", "correct-horse-battery")
    async with server.api() as api:
        assert (await api.post("/tariffs", json=TARIFF)).status_code == 201
        assert (await api.post("/tariffs", json={**TARIFF, "id": "NIGHT"})).status_code == 201
    async with visitor(server) as operator, visitor(server) as viewer, server.api() as api:
        token = await sign_in(operator, "op@example.com")
        page = (await operator.get("/chargers/CP-T2")).text
        assert '<tr data-tariffs="0-0">' in page
        assert 'placeholder="none"' in page

        htmx = {"HX-Request": "true"}
        saved = await operator.post(
            "/chargers/CP-T2/tariffs",
            data={"csrf_token": token, "evse_id": "0", "connector_id": "0", "tariff_ids": "NIGHT"},
            headers=htmx,
        )
        assert saved.status_code == 200, saved.text
        assert saved.text.lstrip().startswith('<section class="card span-12" id="tariffs"')
        assert 'id="tariff-saved"' in saved.text
        assert (await api.get("/chargers/CP-T2/tariffs")).json()["tariff_ids"] == ["NIGHT"]

        # A connector's own list, in order; typed with commas and spaces.
        plain = await operator.post(
            "/chargers/CP-T2/tariffs",
            data={
                "csrf_token": token,
                "evse_id": "2",
                "connector_id": "1",
                "tariff_ids": " EVENING,  NIGHT ",
            },
        )
        assert plain.status_code == 303
        assert plain.headers["location"] == "/chargers/CP-T2#tariffs"
        connector = await api.get("/chargers/CP-T2/evses/2/connectors/1/tariffs")
        assert connector.json()["tariff_ids"] == ["EVENING", "NIGHT"]
        page = (await operator.get("/chargers/CP-T2")).text
        assert 'value="EVENING, NIGHT"' in page
        assert '<tr data-tariffs="2-1">' in page

        unknown = await operator.post(
            "/chargers/CP-T2/tariffs",
            data={"csrf_token": token, "evse_id": "2", "connector_id": "1", "tariff_ids": "NOPE"},
            headers=htmx,
        )
        assert unknown.status_code == 422
        assert "unknown tariff &#39;NOPE&#39;" in unknown.text
        assert (await api.get("/chargers/CP-T2/evses/2/connectors/1/tariffs")).json()[
            "tariff_ids"
        ] == ["EVENING", "NIGHT"]
        half = await operator.post(
            "/chargers/CP-T2/tariffs",
            data={"csrf_token": token, "evse_id": "2", "connector_id": "0", "tariff_ids": ""},
            headers=htmx,
        )
        assert half.status_code == 422
        assert "EVSE and connector ids start at 1" in half.text

        viewer_token = await sign_in(viewer, "view@example.com")
        seen = (await viewer.get("/chargers/CP-T2")).text
        assert '<a class="mono" href="/tariffs/NIGHT">NIGHT</a>' in seen
        assert 'name="tariff_ids"' not in seen
        refused = await viewer.post(
            "/chargers/CP-T2/tariffs",
            data={
                "csrf_token": viewer_token,
                "evse_id": "0",
                "connector_id": "0",
                "tariff_ids": "",
            },
        )
        assert refused.status_code == 403
    async with server.api() as api:
        assert (await api.get("/chargers/CP-T2/tariffs")).json()["tariff_ids"] == ["NIGHT"]
