"""Commands through the API: sent to the charger's version, queued while it is away,
expired, kept over a restart, linked to the transaction a remote start began."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from tests.integration.answering import answering_charger, boot16
from tests.integration.conftest import start_server
from tests.integration.harness import ServerProcess, create_api_token
from tests.integration.ocpp201 import boot as boot201
from tests.integration.ocpp201 import iso

PASSWORD = "correct-horse-battery"
ACCEPTED = {"status": "Accepted"}


@pytest.fixture
def fast_server(empty_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that gives up on unanswered calls quickly and sweeps often."""
    process = start_server(
        empty_database_url,
        tmp_path,
        CHARGEGRID_OCPP_CALL_TIMEOUT="2",
        CHARGEGRID_COMMAND_SWEEP_INTERVAL="0.3",
    )
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log()


async def command(
    api: httpx.AsyncClient, charger_id: str, name: str, body: dict[str, Any], **query: Any
) -> httpx.Response:
    return await api.post(f"/chargers/{charger_id}/commands/{name}", json=body, params=query)


async def wait_state(api: httpx.AsyncClient, command_id: int, state: str) -> dict[str, Any]:
    for _ in range(100):
        body: dict[str, Any] = (await api.get(f"/commands/{command_id}")).json()
        if body["state"] == state:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"command {command_id} stayed {body['state']}, not {state}")


async def test_a_command_reaches_a_16_charger_and_its_answer_is_recorded(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-1", PASSWORD)
    async with (
        answering_charger(server, "CP-1", PASSWORD, {"Reset": ACCEPTED}) as charger,
        server.api() as api,
    ):
        await boot16(charger)
        response = await command(api, "CP-1", "reset", {"type": "hard"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["state"] == "accepted"
        assert body["ocpp_version"] == "1.6"
        assert body["action"] == "Reset"
        assert body["request"] == {"type": "Hard"}
        assert body["response"] == {"status": "Accepted"}
        assert body["params"] == {"type": "hard"}
        assert body["sent_at"] is not None
        assert body["answered_at"] is not None
        assert charger.received.calls == [("Reset", {"type": "Hard"})]

        stored = (await api.get(f"/commands/{body['id']}")).json()
        assert stored == body
        listed = (await api.get("/chargers/CP-1/commands")).json()
        assert [item["id"] for item in listed["items"]] == [body["id"]]

        messages = (await api.get("/chargers/CP-1/messages", params={"action": "Reset"})).json()
        assert messages["items"][0]["direction"] == "out"


async def test_a_command_reaches_a_201_charger_in_its_own_words(server: ServerProcess) -> None:
    await server.register_charger("CS-1", PASSWORD)
    answers = {"Reset": {"status": "Scheduled"}}
    async with (
        answering_charger(server, "CS-1", PASSWORD, answers, version="2.0.1") as charger,
        server.api() as api,
    ):
        await charger.call(boot201())
        response = await command(api, "CS-1", "reset", {"type": "soft"})
        body = response.json()
        assert body["state"] == "accepted", body
        assert body["request"] == {"type": "OnIdle"}
        assert body["response"] == {"status": "Scheduled"}
        assert charger.received.calls == [("Reset", {"type": "OnIdle"})]


async def test_a_rejection_an_error_and_a_missing_answer_end_differently(
    fast_server: ServerProcess,
) -> None:
    server = fast_server
    await server.register_charger("CP-2", PASSWORD)
    answers = {"Reset": {"status": "Rejected"}}
    async with (
        answering_charger(server, "CP-2", PASSWORD, answers) as charger,
        server.api() as api,
    ):
        await boot16(charger)
        rejected = (await command(api, "CP-2", "reset", {"type": "soft"})).json()
        assert rejected["state"] == "rejected"
        assert rejected["error"] == "the charger answered Rejected"

        # The charger has no handler for ClearCache: the ocpp package answers NotImplemented.
        failed = (await command(api, "CP-2", "clear-cache", {})).json()
        assert failed["state"] == "failed"
        assert failed["response"]["error_code"] == "NotImplemented"
        assert "NotImplemented" in failed["error"]

    async with server.websocket("CP-2", PASSWORD) as ws, server.api() as api:
        # A charger that boots, then never answers.
        boot = {"chargePointVendor": "A", "chargePointModel": "B"}
        await ws.send(json.dumps([2, "b1", "BootNotification", boot]))
        await ws.recv()
        response = await command(api, "CP-2", "reset", {"type": "soft"}, wait=5)
        assert response.status_code == 200
        assert response.json()["state"] == "timeout"


async def test_commands_wait_for_an_offline_charger_expire_and_survive_a_restart(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = {"CHARGEGRID_COMMAND_SWEEP_INTERVAL": "0.3"}
    server = start_server(empty_database_url, tmp_path, **env)
    try:
        await server.register_charger("CP-3", PASSWORD)
        async with answering_charger(server, "CP-3", PASSWORD, {}) as charger:
            await boot16(charger)  # the platform learns the charger's version
        async with server.api() as api:
            soon = datetime.now(UTC) + timedelta(seconds=3)
            first = await command(api, "CP-3", "reset", {"type": "soft"}, wait=0.2)
            doomed = await command(
                api, "CP-3", "reset", {"type": "hard"}, expires_at=soon.isoformat(), wait=0
            )
            second = await command(api, "CP-3", "clear-cache", {}, wait=0)
            assert first.status_code == second.status_code == doomed.status_code == 202
            assert {first.json()["state"], second.json()["state"]} == {"queued"}
            not_queued = await command(api, "CP-3", "reset", {"type": "soft"}, queue="false")
            assert not_queued.status_code == 200
            assert not_queued.json()["state"] == "failed"
            assert "not connected" in not_queued.json()["error"]
            expired = await wait_state(api, doomed.json()["id"], "expired")
            assert expired["sent_at"] is None
    finally:
        assert server.stop() == 0, server.log()

    # The queue is in the database: a new server process delivers it.
    server = start_server(empty_database_url, tmp_path, **env)
    try:
        answers = {"Reset": ACCEPTED, "ClearCache": ACCEPTED}
        async with (
            answering_charger(server, "CP-3", PASSWORD, answers) as charger,
            server.api() as api,
        ):
            await asyncio.sleep(0.3)
            assert charger.received.calls == [], "nothing goes out before the boot"
            await boot16(charger)
            calls = await charger.received.wait_for(2)
            assert calls == [("Reset", {"type": "Soft"}), ("ClearCache", {})]
            assert (await wait_state(api, first.json()["id"], "accepted"))["action"] == "Reset"
            assert (await wait_state(api, second.json()["id"], "accepted"))["action"] == (
                "ClearCache"
            )
            await asyncio.sleep(0.3)
            assert len(charger.received.calls) == 2, "the expired command is never sent"
    finally:
        assert server.stop() == 0, server.log()


async def test_what_a_version_cannot_carry_is_refused_before_it_is_queued(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-4", PASSWORD)
    await server.register_charger("CP-NEW", PASSWORD)
    async with answering_charger(server, "CP-4", PASSWORD, {"ClearCache": ACCEPTED}) as charger:
        await boot16(charger)
        async with server.api() as api:
            refused = await command(
                api, "CP-4", "get-base-report", {"report_base": "FullInventory"}
            )
            assert refused.status_code == 422
            assert "get-base-report does not exist in OCPP 1.6" in refused.text

            bad_body = await command(api, "CP-4", "reset", {"type": "sideways"})
            assert bad_body.status_code == 422
            unknown_field = await command(api, "CP-4", "reset", {"type": "soft", "x": 1})
            assert unknown_field.status_code == 422

            schema = await api.post("/chargers/CP-4/ocpp/Reset", json={"type": "Bogus"})
            assert schema.status_code == 422
            assert "Reset" in schema.json()["error"]["message"]
            wrong_way = await api.post("/chargers/CP-4/ocpp/BootNotification", json={})
            assert wrong_way.status_code == 422
            assert "not an action the central system sends" in wrong_way.text
            unknown_version = await api.post("/chargers/CP-NEW/ocpp/ClearCache", json={})
            assert unknown_version.status_code == 409
            missing = await command(api, "NOPE", "reset", {"type": "soft"})
            assert missing.status_code == 404

            raw = await api.post("/chargers/CP-4/ocpp/ClearCache", json={})
            assert raw.status_code == 200
            assert raw.json()["state"] == "accepted"
            assert raw.json()["name"] == "ocpp"
            assert raw.json()["params"] == {"action": "ClearCache", "payload": {}}
        assert charger.received.actions == ["ClearCache"]


async def test_viewers_cannot_command_and_strangers_are_refused(server: ServerProcess) -> None:
    await server.register_charger("CP-5", PASSWORD)
    viewer = await create_api_token(server.database_url, "viewer")
    async with server.api(viewer) as api:
        refused = await command(api, "CP-5", "reset", {"type": "soft"})
        assert refused.status_code == 403
        raw = await api.post("/chargers/CP-5/ocpp/Reset", json={"type": "Soft"})
        assert raw.status_code == 403
        assert (await api.get("/chargers/CP-5/commands")).json()["total"] == 0
    async with httpx.AsyncClient(base_url=f"{server.http_url}/api/v1") as anonymous:
        assert (await command(anonymous, "CP-5", "reset", {"type": "soft"})).status_code == 401
    async with server.api("not-a-token") as forged:
        assert (await command(forged, "CP-5", "reset", {"type": "soft"})).status_code == 401


async def test_a_16_remote_start_is_linked_to_the_transaction_it_began(
    server: ServerProcess,
) -> None:
    await server.register_charger("CP-6", PASSWORD)
    await server.add_id_token("TAG-6")
    answers = {"RemoteStartTransaction": ACCEPTED}
    async with (
        answering_charger(server, "CP-6", PASSWORD, answers) as charger,
        server.api() as api,
    ):
        await boot16(charger)
        started = await command(api, "CP-6", "remote-start", {"id_token": "TAG-6", "evse_id": 2})
        body = started.json()
        assert body["state"] == "accepted"
        assert body["request"] == {"idTag": "TAG-6", "connectorId": 2}
        assert body["transaction_id"] is None
        # Another token's start on the same connector is not this command's.
        await server.add_id_token("OTHER")
        other = await charger.call(
            call16.StartTransaction(
                connector_id=2, id_tag="OTHER", meter_start=0, timestamp=iso(datetime.now(UTC))
            )
        )
        ours = await charger.call(
            call16.StartTransaction(
                connector_id=2, id_tag="TAG-6", meter_start=10, timestamp=iso(datetime.now(UTC))
            )
        )
        linked = (await api.get(f"/commands/{body['id']}")).json()
        transaction = (await api.get(f"/transactions/{linked['transaction_id']}")).json()
        assert transaction["transaction_id"] == str(ours.transaction_id)
        assert transaction["transaction_id"] != str(other.transaction_id)
        by_transaction = (
            await api.get("/commands", params={"transaction_id": linked["transaction_id"]})
        ).json()
        assert [item["id"] for item in by_transaction["items"]] == [body["id"]]


async def test_a_201_remote_start_is_linked_by_its_remote_start_id(server: ServerProcess) -> None:
    await server.register_charger("CS-7", PASSWORD)
    answers = {"RequestStartTransaction": ACCEPTED}
    async with (
        answering_charger(server, "CS-7", PASSWORD, answers, version="2.0.1") as charger,
        server.api() as api,
    ):
        await charger.call(boot201())
        body = (
            await command(api, "CS-7", "remote-start", {"id_token": "APP-7", "evse_id": 1})
        ).json()
        assert body["state"] == "accepted", body
        (_, request), *_ = charger.received.calls
        assert request["remote_start_id"] == body["id"]
        assert request["id_token"] == {"id_token": "APP-7", "type": "Central"}
        await charger.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=iso(datetime.now(UTC)),
                trigger_reason="RemoteStart",
                seq_no=0,
                transaction_info={"transaction_id": "tx-7", "remote_start_id": body["id"]},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": "APP-7", "type": "Central"},
            )
        )
        linked = (await api.get(f"/commands/{body['id']}")).json()
        transaction = (await api.get(f"/transactions/{linked['transaction_id']}")).json()
        assert transaction["transaction_id"] == "tx-7"

        stop_answers = (await command(api, "CS-7", "remote-stop", {"transaction_id": 999})).json()
        assert stop_answers["error"]["status"] == 404
