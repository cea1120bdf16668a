"""Transactions in the dashboard on a real server with a simulated charger, over HTTP:
the list and its filters, the CSV export, a transaction's page and its live updates,
and the commands a charger's page offers for its OCPP version."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
from datetime import UTC, datetime

from chargegrid.dashboard.csv_export import HEADER
from chargegrid.dashboard.meter_chart import register_wh
from chargegrid.dashboard.templating import kwh
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import chargers as charger_repo
from chargegrid.storage.repositories import meter_series
from tests.integration.dashboard.client import create_user, sign_in, visitor
from tests.integration.dashboard.test_live import CHARGER, TOKEN, Events, one_charger, server
from tests.integration.harness import ServerProcess

__all__ = ["server"]  # the live tests' server: chargers register themselves, fast updates


def chart_data(page: str, name: str) -> dict[str, list[float]]:
    found = re.search(rf'<script type="application/json" id="{name}-data">([^<]*)</script>', page)
    assert found is not None, f"no {name} chart data"
    data: dict[str, list[float]] = json.loads(found[1])
    return data


async def energy_readings(database_url: str, transaction_pk: int) -> int:
    db = Database(database_url)
    try:
        async with db.connect() as conn:
            samples = await meter_series.chart_samples(conn, transaction_pk)
    finally:
        await db.dispose()
    return sum(1 for sample in samples if register_wh(sample) is not None)


async def transactions_of(server: ServerProcess, **filters: str) -> list[dict[str, object]]:
    async with server.api() as api:
        items: list[dict[str, object]] = (
            await api.get("/transactions", params={"charger_id": CHARGER, **filters})
        ).json()["items"]
        return items


async def test_a_finished_and_an_active_transaction(server: ServerProcess) -> None:
    await create_user(server, "op@example.com", "operator")
    async with one_charger(server) as fleet, visitor(server) as client:
        token = await sign_in(client, "op@example.com")
        charger = fleet.charger(CHARGER)
        assert charger.plug_in(1, id_token=TOKEN, duration=2.5)
        deadline = time.monotonic() + 30
        while not any(record.complete for record in charger.records()):
            assert time.monotonic() < deadline, "the session did not end"
            await asyncio.sleep(0.1)
        while not await transactions_of(server, status="completed"):
            assert time.monotonic() < deadline, "the session was not recorded as ended"
            await asyncio.sleep(0.1)
        (done,) = await transactions_of(server, status="completed")
        assert charger.plug_in(1, id_token=TOKEN, duration=120)
        while not await transactions_of(server, status="active"):
            assert time.monotonic() < deadline + 30, "the second session did not start"
            await asyncio.sleep(0.1)
        (running,) = await transactions_of(server, status="active")

        listed = await client.get("/transactions")
        assert listed.status_code == 200
        for pk in (done["id"], running["id"]):
            assert f'data-transaction="{pk}"' in listed.text
        today = datetime.now(UTC).date().isoformat()
        for query, shown, hidden in (
            ("?status=active", running, done),
            ("?status=completed", done, running),
            (f"?charger={CHARGER}&token={TOKEN}&from={today}&to={today}", done, None),
            ("?sort=energy&dir=desc", done, running),  # ended ones only
        ):
            page = (await client.get("/transactions" + query)).text
            assert f'data-transaction="{shown["id"]}"' in page, query
            if hidden is not None:
                assert f'data-transaction="{hidden["id"]}"' not in page, query
        assert "No transactions match" in (await client.get("/transactions?token=NOBODY")).text
        missing = await client.get("/transactions/999999")
        assert missing.status_code == 404
        assert "There is no transaction 999999." in missing.text
        assert (await client.get("/transactions/latest")).status_code == 400

        exported = await client.get("/transactions.csv?status=completed")
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.headers["content-disposition"].startswith("attachment; filename=")
        lines = list(csv.reader(io.StringIO(exported.text)))
        assert tuple(lines[0]) == HEADER
        assert [line[0] for line in lines[1:]] == [str(done["id"])]
        row = dict(zip(HEADER, lines[1], strict=True))
        assert float(row["energy_wh"]) == done["energy_wh"]
        assert (row["charger_id"], row["id_token"], row["status"]) == (CHARGER, TOKEN, "completed")
        every = list(csv.reader(io.StringIO((await client.get("/transactions.csv")).text)))
        assert [line[0] for line in every[1:]] == [str(running["id"]), str(done["id"])]

        detail = await client.get(f"/transactions/{done['id']}")
        assert detail.status_code == 200
        assert f'data-fact="energy">{kwh(float(str(done["energy_wh"])))}<' in detail.text
        energy = chart_data(detail.text, "energy")
        assert len(energy["x"]) == await energy_readings(server.database_url, int(str(done["id"])))
        assert len(energy["x"]) >= 2
        assert energy["y"][-1] * 1000 == float(str(done["energy_wh"]))
        assert chart_data(detail.text, "power")["y"]
        # No tariff: a CDR at no cost was issued when it ended.
        assert "None: the session was not priced" in detail.text
        assert 'data-fact="cost"><strong>0.00 EUR</strong>' in detail.text
        assert 'id="tx-cdr"' in detail.text
        assert 'data-event="Started"' in detail.text
        assert "sse-connect" not in detail.text  # nothing changes any more

        live_page = await client.get(f"/transactions/{running['id']}")
        assert "Stop this transaction" in live_page.text
        url = re.search(r'sse-connect="([^"]+)"', live_page.text)
        assert url is not None
        async with client.stream("GET", url[1].replace("&amp;", "&")) as response:
            events = Events(response)
            appended = await events.until('id="meter-append"')
            points = re.search(r'data-energy="([^"]+)"', appended)
            assert points is not None
            assert json.loads(points[1].replace("&#34;", '"'))["x"]
            assert 'data-fact="energy"' in await events.until('data-fact="energy"')
            stop = await client.post(
                f"/chargers/{CHARGER}/commands/remote-stop",
                data={"transaction_id": str(running["id"])},
                headers={"X-CSRF-Token": token, "HX-Request": "true"},
            )
            assert stop.status_code == 200, stop.text
            ended = await events.until('data-fact="status">Completed')
            assert 'id="tx-summary"' in ended
        stopped = await client.get(f"/transactions/{running['id']}")
        assert 'data-command="remote-stop"' in stopped.text  # the command that touched it
        assert "Stop this transaction" not in stopped.text


async def test_a_charger_is_offered_the_commands_of_its_version(server: ServerProcess) -> None:
    """A 1.6 charger has no forms for what only 2.0.1 carries, and the other way round."""
    await create_user(server, "op@example.com", "operator")
    for charger_id in ("CP-16", "CP-201", "CP-NEW"):
        await server.register_charger(charger_id, "a-password-of-16-chars")
    db = Database(server.database_url)
    try:
        async with db.begin() as conn:
            now = datetime.now(UTC)
            await charger_repo.update_fields(conn, "CP-16", ocpp_version="1.6", updated_at=now)
            await charger_repo.update_fields(conn, "CP-201", ocpp_version="2.0.1", updated_at=now)
    finally:
        await db.dispose()
    async with visitor(server) as client:
        token = await sign_in(client, "op@example.com")
        forms = {}
        for charger_id in ("CP-16", "CP-201", "CP-NEW"):
            page = (await client.get(f"/chargers/{charger_id}")).text
            forms[charger_id] = set(re.findall(r'data-command-form="([a-z-]+)"', page))
        for only_201 in ("get-base-report", "set-display-message"):
            assert only_201 not in forms["CP-16"]
            assert only_201 in forms["CP-201"]
        assert {"reset", "remote-start", "unlock"} <= forms["CP-16"] & forms["CP-201"]
        assert len(forms["CP-NEW"]) == 21  # its version is not known yet
        assert forms["CP-16"] | forms["CP-201"] == forms["CP-NEW"]
        refused = await client.post(
            "/chargers/CP-16/commands/get-base-report",
            data={"report_base": "FullInventory"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert refused.status_code == 422
        assert "does not exist in OCPP 1.6" in refused.text
