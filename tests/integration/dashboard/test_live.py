"""Live updates and commands on a real server with a simulated charger, over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from chargegrid.simulator import BackOff, Fleet, FleetConfig
from tests.integration.conftest import start_server
from tests.integration.dashboard.client import change_user, create_user, sign_in, visitor
from tests.integration.harness import ServerProcess

TOKEN = "LIVE-TOKEN-1"
CHARGER = "SIM-00001"


@pytest.fixture
def server(empty_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that registers chargers on their first connection; fast live updates."""
    process = start_server(
        empty_database_url,
        tmp_path,
        CHARGEGRID_AUTO_REGISTER="true",
        CHARGEGRID_DASHBOARD_POLL_INTERVAL="0.2",
    )
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log()


@contextlib.asynccontextmanager
async def one_charger(server: ServerProcess, version: str = "1.6") -> AsyncIterator[Fleet]:
    await server.add_id_token(TOKEN)
    fleet = Fleet(
        FleetConfig(
            url=server.ocpp_url,
            count=1,
            version=version,
            password="simulated-chargers-pass",
            meter_interval=0.5,
            session_rate=0.0,
            id_tokens=(TOKEN,),
            evses=(1, 1),
            fault_rate=0.0,
            backoff=BackOff(wait_minimum=0.2, random_range=0.3, repeat_times=4),
            seed=3,
        )
    )
    stop = asyncio.Event()
    task = asyncio.create_task(fleet.run(stop))
    try:
        deadline = time.monotonic() + 20
        while fleet.stats.booted < 1:
            assert time.monotonic() < deadline, "the charger did not boot"
            await asyncio.sleep(0.05)
        yield fleet
    finally:
        stop.set()
        await task


class Events:
    """Reads a server-sent event stream event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()

    async def next(self) -> tuple[str, str]:
        name, data = "message", []
        async for line in self._lines:
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and data:
                return name, "\n".join(data)
        raise EOFError("the stream ended")

    async def until(self, fragment: str, within: float = 20.0) -> str:
        async with asyncio.timeout(within):
            while True:
                _, data = await self.next()
                if fragment in data:
                    return data


async def test_a_charger_page_streams_what_changes(server: ServerProcess) -> None:
    user_id = await create_user(server, "op@example.com", "operator")
    async with one_charger(server) as fleet, visitor(server) as client:
        await sign_in(client, "op@example.com")
        async with client.stream("GET", f"/live/chargers/{CHARGER}") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = Events(response)
            first = await events.until('id="evses"')
            assert 'hx-swap-oob="true"' in first
            assert 'data-status="Available"' in first
            assert fleet.charger(CHARGER).plug_in(1, id_token=TOKEN, duration=60)
            await events.until('data-status="Charging"')
            rows = await events.until("StatusNotification")
            assert rows.startswith('<tbody id="message-rows" hx-swap-oob="afterbegin">')

            await change_user(server, user_id, disabled=True)
            ended = await events.until("Your session has ended")
            assert 'id="signed-out"' in ended
            assert await events.next() == ("close", "signed out")
            with pytest.raises(EOFError):
                await events.next()


async def test_an_operator_resets_a_charger_and_sees_its_answer(server: ServerProcess) -> None:
    await create_user(server, "op@example.com", "operator")
    async with one_charger(server, "2.0.1"), visitor(server) as client:
        token = await sign_in(client, "op@example.com")
        page = await client.get(f"/chargers/{CHARGER}")
        assert 'hx-post="/chargers/SIM-00001/commands/reset"' in page.text
        sent = await client.post(
            f"/chargers/{CHARGER}/commands/reset",
            data={"type": "soft"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert sent.status_code == 200, sent.text
        assert 'data-command="reset"' in sent.text
        assert 'data-state="accepted"' in sent.text
        assert "as Reset (OCPP 2.0.1)" in sent.text
        assert '"status": "Accepted"' in sent.text  # the answer

        invalid = await client.post(
            f"/chargers/{CHARGER}/commands/unlock",
            data={"evse_id": "zero"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert invalid.status_code == 422
        assert "unlock was not sent" in invalid.text
        assert "evse_id" in invalid.text


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_open_pages_do_not_hold_the_server_on_shutdown(server: ServerProcess) -> None:
    await create_user(server, "op@example.com", "operator")
    async with visitor(server) as client:
        await sign_in(client, "op@example.com")
        async with client.stream("GET", "/live/overview") as response:
            events = Events(response)
            await events.until('id="stats"')
            assert server.process is not None
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            with pytest.raises((EOFError, httpx.HTTPError)):
                await events.until("never sent", within=10)
            code = await asyncio.to_thread(server.process.wait, 10)
    assert code == 0, server.log()
    assert time.monotonic() - started < 5
