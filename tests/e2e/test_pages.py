"""Transactions, id tokens, users and webhooks in a real browser; every page on a phone
and with a keyboard."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from playwright.async_api import Browser, expect

from chargegrid.dashboard.meter_chart import register_wh
from chargegrid.dashboard.templating import kwh, money
from chargegrid.simulator import Fleet
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import meter_series
from tests.e2e.conftest import (
    CHARGER,
    PHONE,
    TARIFF,
    TOKEN,
    priced_chargers,
    screenshot,
    signed_in_page,
)
from tests.e2e.test_dashboard import LIVE, finished_session
from tests.integration.harness import ServerProcess

# What the page shows of its chart: the canvas uPlot drew, how much of it is painted,
# and the number of points it was given.
CHART = """(element) => {
    const canvas = element.querySelector("canvas");
    if (!canvas) return null;
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    return {width: canvas.width, height: canvas.height, painted, points: element.dataset.points};
}"""

# Basic accessibility of a page: its <h1>s, and its form controls that have no label.
A11Y = """() => {
    const unlabelled = [];
    for (const control of document.querySelectorAll("input, select, textarea")) {
        if (control.type === "hidden") continue;
        const named = (control.labels && control.labels.length)
            || control.getAttribute("aria-label") || control.getAttribute("aria-labelledby");
        if (!named) unlabelled.push(control.outerHTML.slice(0, 120));
    }
    return {h1: document.querySelectorAll("h1").length, unlabelled};
}"""


async def energy_readings(database_url: str, transaction_pk: int) -> int:
    db = Database(database_url)
    try:
        async with db.connect() as conn:
            samples = await meter_series.chart_samples(conn, transaction_pk)
    finally:
        await db.dispose()
    return sum(1 for sample in samples if register_wh(sample) is not None)


async def the_finished_transaction(server: ServerProcess) -> dict[str, Any]:
    async with server.api() as api:
        found = await api.get("/transactions", params={"status": "completed"})
    (transaction,) = found.json()["items"]
    assert isinstance(transaction, dict)
    return transaction


async def the_cdr(server: ServerProcess, transaction_pk: int) -> dict[str, Any]:
    async with server.api() as api:
        detail = (await api.get(f"/transactions/{transaction_pk}")).json()
        cdr = (await api.get(f"/cdrs/{detail['cost']['cdr_id']}")).json()
    assert isinstance(cdr, dict)
    return cdr


async def test_an_operator_opens_a_finished_transaction_and_sees_its_energy(
    browser: Browser, server: ServerProcess, fleet: Fleet
) -> None:
    await priced_chargers(server)
    await finished_session(fleet)
    transaction = await the_finished_transaction(server)
    cdr = await the_cdr(server, transaction["id"])
    assert fleet.charger(CHARGER).plug_in(1, id_token=TOKEN, duration=120)  # one more, running
    page = await signed_in_page(browser, server, "operator")
    await page.get_by_role("link", name="Transactions", exact=True).click()
    await expect(page.get_by_role("heading", name="Transactions", level=1)).to_be_visible()
    row = page.locator(f'[data-transaction="{transaction["id"]}"]')
    await expect(row).to_contain_text("Completed")
    await expect(row).to_contain_text(kwh(transaction["energy_wh"]))
    running = page.locator("[data-transaction]", has_text="Active")
    for _ in range(60):  # the list does not update itself: look again until it metered
        if await running.filter(has_text="so far").count():
            break
        await page.wait_for_timeout(250)
        await page.reload()
    await expect(running).to_contain_text("so far", timeout=100)
    await screenshot(page, "transactions")

    await row.get_by_role("link", name=f"#{transaction['id']}").click()
    await expect(
        page.get_by_role("heading", name=f"Transaction {transaction['id']}")
    ).to_be_visible()
    await expect(page.locator('[data-fact="energy"]')).to_have_text(kwh(transaction["energy_wh"]))
    await expect(page.locator('[data-fact="status"]')).to_have_text("Completed")
    chart = page.locator("#energy-chart")
    await expect(chart.locator("canvas")).to_be_visible()
    drawn = await chart.evaluate(CHART)
    assert drawn is not None
    assert drawn["width"] > 200
    assert drawn["height"] > 100
    assert drawn["painted"] > 500  # axes, grid and the line: not a blank canvas
    readings = await energy_readings(server.database_url, transaction["id"])
    assert readings >= 2
    assert int(drawn["points"]) == readings
    await expect(page.locator("#power-chart canvas")).to_be_visible()
    cost = page.locator("#tx-cost")
    await expect(cost).to_contain_text("Final")
    await expect(cost).to_contain_text("E2E-STANDARD")
    await expect(cost.locator('[data-fact="cost"] strong')).to_have_text(
        money(Decimal(str(cdr["total_cost"]["incl_vat"])), "EUR")
    )
    await expect(cost).to_contain_text(cdr["id"])
    # What the CDR says: the energy the charger metered at 0.30, and the 1.00 flat fee.
    energy_kwh = Decimal(str(transaction["energy_wh"])) / 1000
    expected = (energy_kwh * Decimal("0.30") + 1) * Decimal("1.21")
    assert abs(Decimal(str(cdr["total_cost"]["incl_vat"])) - expected) < Decimal("0.001")
    await expect(page.locator(".timeline [data-event='Started']")).to_be_visible()
    await screenshot(page, "transaction")


async def test_an_operator_adds_a_tariff_and_previews_a_session(
    browser: Browser, server: ServerProcess, fleet: Fleet
) -> None:
    page = await signed_in_page(browser, server, "operator")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Tariffs").click()
    await expect(page.get_by_text("No tariffs yet")).to_be_visible()
    document = page.get_by_label("New tariff as OCPI 2.2.1 JSON")
    await document.fill("{not json")
    await page.get_by_role("button", name="Add tariff").click()
    await expect(page.locator("#tariff-document-error")).to_contain_text("not valid JSON")
    await page.get_by_label("New tariff as OCPI 2.2.1 JSON").fill(json.dumps(TARIFF, indent=2))
    await page.get_by_role("button", name="Add tariff").click()
    await expect(page.get_by_role("heading", name="Tariff E2E-STANDARD", level=1)).to_be_visible()
    await expect(page.locator("#notice")).to_contain_text("was added")

    # The preview follows the form: 2 h at 11 kWh by default, then 1 h at 7.4 kW.
    incl = page.locator('[data-preview="incl"]')
    await expect(incl).to_have_text(money((22 * Decimal("0.30") + 1) * Decimal("1.21"), "EUR"))
    await page.get_by_label("Charging hours").fill("1")
    await page.get_by_label("Power (kW)").fill("7.4")
    await page.get_by_role("button", name="Price it").click()
    await expect(incl).to_have_text(
        money((Decimal("7.4") * Decimal("0.30") + 1) * Decimal("1.21"), "EUR")
    )
    await screenshot(page, "tariff")

    await priced_chargers(server)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Tariffs").click()
    row = page.locator('[data-tariff="E2E-STANDARD"]')
    await expect(row.locator("td.num").last).to_have_text("1")  # the charger's default
    await screenshot(page, "tariffs")


async def test_an_admin_adds_a_token_a_user_and_a_webhook(
    browser: Browser, server: ServerProcess, fleet: Fleet
) -> None:
    page = await signed_in_page(browser, server, "admin")
    await page.goto(f"{server.http_url}/id-tokens")
    form = page.locator("#add-token")
    await form.get_by_label("Token").fill("04A2B3C4D5")
    await form.get_by_label("Group").fill("FLEET-NORTH")
    await form.get_by_role("button", name="Add token").click()
    await expect(page.locator("#notice")).to_contain_text("04A2B3C4D5 was added")
    await page.goto(f"{server.http_url}/id-tokens")
    await expect(page.locator('[data-token="04A2B3C4D5"]')).to_contain_text("FLEET-NORTH")
    await screenshot(page, "id-tokens")

    await page.get_by_role("link", name="Users").click()
    form = page.locator("#add-user")
    await form.get_by_label("E-mail").fill("field.engineer@example.com")
    await form.get_by_label("Password").fill("a good long password")
    await form.get_by_role("button", name="Add user").click()
    await expect(page.locator("#notice")).to_contain_text("The user was added")
    await expect(page.locator('[data-user="field.engineer@example.com"]')).to_be_visible()
    await screenshot(page, "users")

    await page.get_by_role("link", name="Webhooks").click()
    form = page.locator("#add-webhook")
    await form.get_by_role("button", name="Add webhook").click()  # nothing filled in
    await expect(page.locator("#new-url-error")).to_have_text("The URL is required.")
    await expect(page.get_by_label("URL")).to_have_attribute("aria-invalid", "true")
    await page.get_by_label("URL").fill("https://billing.example.com/chargegrid")
    await page.get_by_label("Description").fill("Billing")
    await page.locator("#add-webhook").get_by_role("button", name="Add webhook").click()
    await expect(page.locator("#created-secret")).to_contain_text("shown this once")
    await expect(page.locator("[data-webhook]")).to_contain_text("billing.example.com")
    await screenshot(page, "webhooks")


async def pages_of(server: ServerProcess) -> list[str]:
    """Every page of the dashboard, with ids that exist (a webhook is added)."""
    transaction = await the_finished_transaction(server)
    await priced_chargers(server)
    async with server.api() as api:
        hook = await api.post(
            "/webhooks",
            json={"url": "https://example.com/in", "event_types": ["charger.connected"]},
        )
    assert hook.status_code == 201, hook.text
    return [
        "/",
        "/chargers",
        f"/chargers/{CHARGER}",
        "/transactions",
        f"/transactions/{transaction['id']}",
        "/id-tokens",
        "/tariffs",
        f"/tariffs/{TARIFF['id']}",
        "/users",
        "/webhooks",
        f"/webhooks/{hook.json()['id']}",
        f"/id-tokens/edit?token={TOKEN}",
    ]


async def test_every_page_fits_a_phone(
    browser: Browser, server: ServerProcess, fleet: Fleet
) -> None:
    """390 px wide: nothing wider than the screen (no sideways scrolling)."""
    await finished_session(fleet)
    page = await signed_in_page(browser, server, "admin", viewport=PHONE)
    await expect(page.locator('[data-stat="online"]')).to_have_text("1", timeout=LIVE)
    await expect(page.locator(".chart canvas")).to_be_visible()
    await screenshot(page, "overview-phone")
    for path in await pages_of(server):
        await page.goto(server.http_url + path)
        await page.wait_for_load_state("load")
        width = await page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert width[0] <= width[1], (path, width)
        if path == f"/chargers/{CHARGER}":
            await expect(page.locator("#evses")).to_contain_text("Available", timeout=LIVE)
            await screenshot(page, "charger-phone")


async def test_every_page_has_one_heading_labels_and_a_keyboard_path(
    browser: Browser, server: ServerProcess, fleet: Fleet
) -> None:
    await finished_session(fleet)
    page = await signed_in_page(browser, server, "admin")
    nav = await page.locator('nav[aria-label="Main"] a').evaluate_all(
        "(links) => links.map((link) => link.getAttribute('href'))"
    )
    assert nav == [
        "/",
        "/chargers",
        "/transactions",
        "/id-tokens",
        "/tariffs",
        "/webhooks",
        "/users",
    ]
    for path in await pages_of(server):
        await page.goto(server.http_url + path)
        found = await page.evaluate(A11Y)
        assert found["h1"] == 1, (path, found)
        assert found["unlabelled"] == [], path
        reached = []
        for _ in range(len(nav) + 2):
            await page.keyboard.press("Tab")
            reached.append(await page.evaluate("() => document.activeElement.getAttribute('href')"))
        # The skip link first, then the brand, then the main navigation in its order.
        assert reached == ["#main", "/", *nav], (path, reached)
    sign_in = await browser.new_page()
    await sign_in.goto(f"{server.http_url}/login")
    found = await sign_in.evaluate(A11Y)
    assert found == {"h1": 1, "unlabelled": []}
