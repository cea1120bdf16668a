"""Costs in the dashboard on a real server: a transaction's cost panel while it runs and
from its CDR once it ends, corrections by credit CDRs, and the overview's revenue, all
equal to what the API reports."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import httpx
from ocpp.v16 import call

from tests.integration.dashboard.client import create_user, sign_in, visitor
from tests.integration.harness import ServerProcess
from tests.integration.tariffing import MINUTE, add_tariff, assign, cdrs_of, iso, place
from tests.integration.test_cdrs16 import (
    FLAT_FIVE,
    PASSWORD,
    T0,
    TARIFF,
    meter_values,
    status,
    stop,
)


def euros(amount: float | Decimal) -> str:
    """An amount as the dashboard writes it."""
    rounded = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{rounded:,.2f} EUR"


def cost_panel(page: str) -> str:
    found = re.search(r'<section class="card span-4" id="tx-cost".*?</section>', page, re.S)
    assert found is not None, "no cost panel"
    return found[0]


def shown_total(panel: str) -> str:
    found = re.search(r'data-fact="cost"><strong>([^<]+)</strong>', panel)
    assert found is not None, panel
    return found[1]


def revenue_today(page: str) -> str:
    found = re.search(r'data-stat="revenue">([^<]+)<', page)
    assert found is not None, "no revenue figure"
    return found[1]


async def transaction_page(client: httpx.AsyncClient, pk: int) -> str:
    response = await client.get(f"/transactions/{pk}")
    assert response.status_code == 200, response.text
    return response.text


async def test_the_cost_panel_and_revenue_follow_the_cdrs(server: ServerProcess) -> None:
    await server.register_charger("CP-COST", PASSWORD)
    await place(server, "CP-COST")
    await server.add_id_token("TAG-1")
    await create_user(server, "op@example.com", "operator")
    async with server.api() as api, visitor(server) as browser:
        await sign_in(browser, "op@example.com")
        before = (await browser.get("/")).text
        assert revenue_today(before) == euros(0)
        assert "No revenue in the last 30 days" in before

        await add_tariff(api, TARIFF)
        await add_tariff(api, FLAT_FIVE)
        await assign(api, "CP-COST", 1, "AMS-DAY")
        async with server.charger16("CP-COST", PASSWORD) as charger:
            await charger.call(
                call.BootNotification(charge_point_vendor="A", charge_point_model="B")
            )
            await charger.call(status("Preparing", T0 - MINUTE))
            started = await charger.call(
                call.StartTransaction(
                    connector_id=1, id_tag="TAG-1", meter_start=1000, timestamp=iso(T0)
                )
            )
            pk = started.transaction_id
            await charger.call(status("Charging", T0 + MINUTE))
            await charger.call(meter_values(pk, T0 + 15 * MINUTE, 4000))

            # Running: priced so far, as the API prices it.
            so_far = (await api.get(f"/transactions/{pk}")).json()["cost"]["total_cost"]
            running = cost_panel(await transaction_page(browser, pk))
            assert "So far" in running
            assert "AMS-DAY" in running
            assert "The CDR is issued when the transaction ends." in running
            assert re.search(r"<dt>Energy</dt><dd>3\.00 kWh · ", running)
            # Both price up to their own "now" (the session started months ago at T0): the
            # page, asked later, shows at least what the API said.
            amount, currency = shown_total(running).split(" ")
            assert currency == "EUR"
            api_amount = euros(so_far["incl_vat"]).split(" ")[0]
            assert Decimal(amount.replace(",", "")) >= Decimal(api_amount.replace(",", ""))

            await charger.call(meter_values(pk, T0 + 40 * MINUTE, 7600))
            await charger.call(stop(pk))

        (cdr,) = await cdrs_of(api, "CP-COST")
        final = cost_panel(await transaction_page(browser, pk))
        assert "Final" in final
        assert shown_total(final) == euros(cdr["total_cost"]["incl_vat"])
        assert f'<dd class="mono">{cdr["id"]}</dd>' in final
        assert f"{euros(cdr['total_cost']['excl_vat'])} excl. VAT" in final
        energy_cost = euros(cdr["total_energy_cost"]["incl_vat"])
        assert f"<dt>Energy</dt><dd>6.60 kWh · {energy_cost}</dd>" in final
        assert "<dt>Flat fee</dt><dd>per session · 0.61 EUR</dd>" in final  # 0.50 + 21%
        assert "The CDR as OCPI JSON" in final

        overview = (await browser.get("/")).text
        assert revenue_today(overview) == euros(cdr["total_cost"]["excl_vat"])
        assert 'id="revenue-EUR-data"' in overview

        # Priced again with a flat 5.00: the credit cancels the first CDR.
        response = await api.post(f"/cdrs/{cdr['id']}/credit", json={"tariff_id": "FLAT-5"})
        assert response.status_code == 201, response.text
        replacement = response.json()["replacement"]
        corrected = cost_panel(await transaction_page(browser, pk))
        assert shown_total(corrected) == euros(6.05)
        assert f'<dd class="mono">{replacement["id"]}</dd>' in corrected
        assert "1 earlier CDR credited" in corrected
        assert revenue_today((await browser.get("/")).text) == euros(5)


async def test_a_session_without_a_tariff_has_a_free_cdr(server: ServerProcess) -> None:
    await server.register_charger("CP-FREE", PASSWORD)
    await server.add_id_token("TAG-1")
    await create_user(server, "op@example.com", "operator")
    async with server.api() as api, visitor(server) as browser:
        await sign_in(browser, "op@example.com")
        async with server.charger16("CP-FREE", PASSWORD) as charger:
            await charger.call(
                call.BootNotification(charge_point_vendor="A", charge_point_model="B")
            )
            started = await charger.call(
                call.StartTransaction(
                    connector_id=1, id_tag="TAG-1", meter_start=1000, timestamp=iso(T0)
                )
            )
            pk = started.transaction_id
            running = cost_panel(await transaction_page(browser, pk))
            assert "No tariff applied" in running
            assert "no cost accrues" in running
            await charger.call(stop(pk))
        (cdr,) = await cdrs_of(api, "CP-FREE")
        final = cost_panel(await transaction_page(browser, pk))
        assert "None: the session was not priced" in final
        assert shown_total(final) == euros(0)
        assert f'<dd class="mono">{cdr["id"]}</dd>' in final
