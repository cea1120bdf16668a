"""Authorize and StartTransaction answer from the stored id tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call

from tests.integration.harness import ServerProcess

PASSWORD = "correct-horse-battery"


async def test_token_states_and_concurrent_transactions(server: ServerProcess) -> None:
    expiry = datetime.now(UTC) + timedelta(days=30)
    await server.register_charger("CP-A", PASSWORD)
    await server.register_charger("CP-B", PASSWORD)
    await server.add_id_token("GOOD", expires_at=expiry.isoformat(), group_id="PARENT")
    await server.add_id_token("BLOCKED", status="Blocked")
    await server.add_id_token("OLD", expires_at="2020-01-01T00:00:00+00:00")
    await server.add_id_token("INVALID", status="Invalid")

    async with server.charger16("CP-A", PASSWORD) as a, server.charger16("CP-B", PASSWORD) as b:
        good = (await a.call(call.Authorize(id_tag="GOOD"))).id_tag_info
        assert good["status"] == "Accepted"
        assert good["parent_id_tag"] == "PARENT"
        assert datetime.fromisoformat(good["expiry_date"]) == expiry
        for tag, status in [
            ("BLOCKED", "Blocked"),
            ("OLD", "Expired"),
            ("INVALID", "Invalid"),
            ("NEVER-SEEN", "Invalid"),
        ]:
            assert (await a.call(call.Authorize(id_tag=tag))).id_tag_info["status"] == status

        started = await a.call(
            call.StartTransaction(
                connector_id=1, id_tag="GOOD", meter_start=0, timestamp="2026-03-01T08:00:00Z"
            )
        )
        assert started.id_tag_info["status"] == "Accepted"
        # The same token, busy on CP-A, is refused elsewhere.
        busy = (await b.call(call.Authorize(id_tag="GOOD"))).id_tag_info
        assert busy["status"] == "ConcurrentTx"
        second = await b.call(
            call.StartTransaction(
                connector_id=1, id_tag="GOOD", meter_start=0, timestamp="2026-03-01T08:01:00Z"
            )
        )
        # The charger decides what to do with it; the transaction is recorded either way.
        assert second.id_tag_info["status"] == "ConcurrentTx"
        assert second.transaction_id != started.transaction_id

        blocked = await a.call(
            call.StartTransaction(
                connector_id=2, id_tag="BLOCKED", meter_start=0, timestamp="2026-03-01T08:02:00Z"
            )
        )
        assert blocked.id_tag_info["status"] == "Blocked"

    async with server.api() as api:
        listed = (await api.get("/transactions", params={"status": "active"})).json()
    by_token = {(t["charger_id"], t["id_token"]): t for t in listed["items"]}
    assert by_token[("CP-B", "GOOD")]["authorization_status"] == "ConcurrentTx"
    assert by_token[("CP-A", "BLOCKED")]["authorization_status"] == "Blocked"
    assert listed["total"] == 3
