"""Browser tests: Debian's chromium (headless) against a real server with a simulated
charger. Each test signs in like a person and looks at what the page shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from chargegrid.domain.clock import SystemClock
from chargegrid.domain.model import Location
from chargegrid.domain.services import locations
from chargegrid.simulator import BackOff, Fleet, FleetConfig
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import chargers as charger_repo
from tests.integration.conftest import start_server
from tests.integration.dashboard.client import PASSWORD, create_user
from tests.integration.harness import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TOKEN = "E2E-TOKEN-1"
CHARGER = "SIM-00001"
DEPOT = Location(id="depot", name="Harbour Depot", city="Hamburg", latitude=53.54, longitude=9.98)
USERS = {"admin": "admin@example.com", "operator": "op@example.com", "viewer": "view@example.com"}


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium; the tests fail (never skip) without it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Debian's chromium at {CHROMIUM}: run `make browser` "
            "(as root it installs it; otherwise it prints the command to run)",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = start_server(
        f"sqlite:///{tmp_path / 'chargegrid.db'}",
        tmp_path,
        CHARGEGRID_AUTO_REGISTER="true",
        CHARGEGRID_DASHBOARD_POLL_INTERVAL="0.3",
    )
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log()


@pytest.fixture
async def fleet(server: ServerProcess) -> AsyncIterator[Fleet]:
    """One OCPP 1.6 charger with two EVSEs, connected and booted, and its users."""
    for role, email in USERS.items():
        await create_user(server, email, role)
    await server.add_id_token(TOKEN)
    simulated = Fleet(
        FleetConfig(
            url=server.ocpp_url,
            count=1,
            version="1.6",
            password="simulated-chargers-pass",
            meter_interval=0.5,
            session_rate=0.0,
            id_tokens=(TOKEN,),
            evses=(2, 2),
            fault_rate=0.0,
            backoff=BackOff(wait_minimum=0.2, random_range=0.3, repeat_times=4),
            seed=5,
        )
    )
    stop = asyncio.Event()
    task = asyncio.create_task(simulated.run(stop))
    try:
        deadline = time.monotonic() + 20
        while simulated.stats.booted < 1:
            assert time.monotonic() < deadline, "the simulated charger did not boot"
            await asyncio.sleep(0.05)
        await place_at_a_location(server.database_url, CHARGER)
        yield simulated
    finally:
        stop.set()
        await task


async def place_at_a_location(database_url: str, charger_id: str) -> None:
    """Put the charger at a location with coordinates (shown on the overview's map)."""
    db = Database(database_url)
    try:
        async with db.begin() as conn:
            now = SystemClock().now()
            await locations.create(conn, DEPOT, now)
            await charger_repo.update_fields(conn, charger_id, location_id=DEPOT.id, updated_at=now)
    finally:
        await db.dispose()


PHONE: ViewportSize = {"width": 390, "height": 844}


async def signed_in_page(
    browser: Browser, server: ServerProcess, role: str, *, viewport: ViewportSize | None = None
) -> Page:
    """A new page, signed in through the sign-in form as the user of ``role``."""
    page = await browser.new_page(viewport=viewport or {"width": 1280, "height": 800})
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(f"{server.http_url}/")
    assert page.url.endswith("/login")
    await page.get_by_label("E-mail").fill(USERS[role])
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{server.http_url}/")
    return page


async def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# 0.30 EUR/kWh and 1 EUR per session, both with 21% VAT.
TARIFF: dict[str, Any] = {
    "id": "E2E-STANDARD",
    "currency": "EUR",
    "tariff_alt_text": [{"language": "en", "text": "0.30 EUR/kWh + 1 EUR per session"}],
    "elements": [
        {
            "price_components": [
                {"type": "ENERGY", "price": 0.30, "vat": 21.0, "step_size": 1},
                {"type": "FLAT", "price": 1.00, "vat": 21.0, "step_size": 1},
            ]
        }
    ],
}


async def priced_chargers(server: ServerProcess) -> None:
    """The charger's sessions priced with TARIFF (its default for every connector)."""
    async with server.api() as api:
        if (await api.get(f"/tariffs/{TARIFF['id']}")).status_code == 404:
            assert (await api.post("/tariffs", json=TARIFF)).status_code == 201
        assigned = await api.put(
            f"/chargers/{CHARGER}/tariffs", json={"tariff_ids": [TARIFF["id"]]}
        )
        assert assigned.status_code == 200, assigned.text
