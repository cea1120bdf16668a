"""What an operator does in the dashboard, in a real browser."""

from __future__ import annotations

import asyncio
import re
import time
from decimal import Decimal

from playwright.async_api import Browser, expect

from chargegrid.dashboard.templating import money
from chargegrid.simulator import Fleet
from tests.e2e.conftest import CHARGER, TOKEN, priced_chargers, screenshot, signed_in_page
from tests.integration.harness import ServerProcess

LIVE = 20_000  # ms to wait for a live update


async def finished_session(fleet: Fleet) -> None:
    """A short charging session on EVSE 2, ended (so that there is energy to show)."""
    charger = fleet.charger(CHARGER)
    assert charger.plug_in(2, id_token=TOKEN, duration=3.0)
    deadline = time.monotonic() + 20
    while not any(record.complete for record in charger.records()):
        assert time.monotonic() < deadline, "the session did not end"
        await asyncio.sleep(0.1)


async def test_an_operator_signs_in_and_sees_the_network(
    browser: Browser, server: ServerProcess, fleet: Fleet
) -> None:
    await priced_chargers(server)
    await finished_session(fleet)
    async with server.api() as api:
        (cdr,) = (await api.get("/cdrs")).json()["items"]
    page = await signed_in_page(browser, server, "operator")
    await expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    await expect(page.locator('[data-stat="total"]')).to_have_text("1")
    await expect(page.locator('[data-stat="online"]')).to_have_text("1", timeout=LIVE)
    await expect(page.locator('[data-stat="energy"]')).to_have_text(re.compile(r"^\d+ Wh$"))
    revenue = money(Decimal(str(cdr["total_cost"]["excl_vat"])), "EUR")
    await expect(page.locator('[data-stat="revenue"]')).to_have_text(revenue)
    await expect(page.locator("#revenue")).to_contain_text(f"{revenue} in all")
    await expect(
        page.get_by_role("img", name="Bar chart of the energy").locator("canvas")
    ).to_be_visible()
    revenue_chart = page.get_by_role("img", name="Bar chart of the revenue in EUR")
    await expect(revenue_chart.locator("canvas")).to_be_visible()
    await expect(page.locator("#map path.leaflet-interactive")).to_have_count(1)  # a marker
    await expect(page.locator("#alerts")).to_contain_text("All quiet")
    await screenshot(page, "overview")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(r"/login$"))
    await page.goto(f"{server.http_url}/chargers")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_a_connector_starts_charging_while_the_page_is_open(
    browser: Browser, server: ServerProcess, fleet: Fleet
) -> None:
    page = await signed_in_page(browser, server, "operator")
    await page.goto(f"{server.http_url}/chargers/{CHARGER}")
    connector = page.locator('#evses [data-evse="1"][data-connector="1"] .pill')
    await expect(connector).to_have_text("Available", timeout=LIVE)
    await page.evaluate("window.stillTheSamePage = true")

    assert fleet.charger(CHARGER).plug_in(1, id_token=TOKEN, duration=120)
    await expect(connector).to_have_text("Charging", timeout=LIVE)
    log = page.locator("#message-rows")
    await expect(log.locator("tr", has_text="StartTransaction").first).to_be_visible(timeout=LIVE)
    assert await page.evaluate("window.stillTheSamePage") is True  # updated, not reloaded
    await screenshot(page, "charger")

    await page.goto(f"{server.http_url}/chargers")
    row = page.locator(f'[data-charger="{CHARGER}"]')
    await expect(row).to_contain_text("1: Charging")
    await expect(page.get_by_role("link", name=CHARGER)).to_be_visible()
    await screenshot(page, "chargers")


async def test_an_operator_resets_a_charger_and_sees_its_answer(
    browser: Browser, server: ServerProcess, fleet: Fleet
) -> None:
    page = await signed_in_page(browser, server, "operator")
    await page.goto(f"{server.http_url}/chargers/{CHARGER}")
    await page.get_by_role("button", name="Soft reset").click()  # the dialog is accepted
    result = page.locator('#command-results [data-command="reset"]').first
    await expect(result.locator("[data-result]")).to_have_text("accepted", timeout=LIVE)
    await expect(result).to_contain_text("as Reset (OCPP 1.6)")
    await result.get_by_text("The charger's answer").click()
    await expect(result.locator("pre")).to_contain_text('"status": "Accepted"')


async def test_a_viewer_sees_no_commands_and_is_refused_if_it_posts(
    browser: Browser, server: ServerProcess, fleet: Fleet
) -> None:
    page = await signed_in_page(browser, server, "viewer")
    await page.goto(f"{server.http_url}/chargers/{CHARGER}")
    await expect(page.locator("#evses")).to_contain_text("Available", timeout=LIVE)
    await expect(page.get_by_role("button", name="Soft reset")).to_have_count(0)
    await expect(page.locator("[data-command-form]")).to_have_count(0)
    await expect(page.locator("#commands")).to_contain_text("can follow commands but not send them")
    status = await page.evaluate(
        """async (charger) => {
            const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
            const response = await fetch(`/chargers/${charger}/commands/reset`, {
                method: "POST",
                headers: {"X-CSRF-Token": token, "HX-Request": "true"},
                body: new URLSearchParams({type: "soft"}),
            });
            return response.status;
        }""",
        CHARGER,
    )
    assert status == 403
    async with server.api() as api:
        assert (await api.get("/commands")).json()["total"] == 0
