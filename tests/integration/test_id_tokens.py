"""Id tokens through the API: read, changed, blocked, expired, grouped and deleted, and
what chargers are told when they ask about them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call

from tests.integration.harness import ServerProcess, create_api_token

PASSWORD = "correct-horse-battery"


async def test_tokens_are_read_changed_and_deleted(server: ServerProcess) -> None:
    expiry = datetime.now(UTC) + timedelta(days=7)
    await server.add_id_token("T-1", expires_at=expiry.isoformat(), group_id="G-1", type="ISO14443")
    await server.add_id_token("T-2", group_id="G-1")
    await server.add_id_token("T-3", group_id="G-2")
    viewer = await create_api_token(server.database_url, "viewer")
    async with server.api() as api, server.api(viewer) as viewing:
        one = (await viewing.get("/id-tokens/T-1")).json()
        assert one["status"] == "Accepted"
        assert (one["group_id"], one["type"]) == ("G-1", "ISO14443")
        assert datetime.fromisoformat(one["expires_at"]) == expiry
        assert (await api.get("/id-tokens/NOPE")).status_code == 404

        grouped = (await viewing.get("/id-tokens", params={"group_id": "G-1"})).json()
        assert [t["id_token"] for t in grouped["items"]] == ["T-1", "T-2"]
        assert grouped["total"] == 2
        both = await viewing.get("/id-tokens", params={"group_id": "G-1", "status": "Blocked"})
        assert both.json()["total"] == 0

        # Viewers read; only operators change.
        assert (
            await viewing.patch("/id-tokens/T-1", json={"status": "Blocked"})
        ).status_code == 403
        assert (await viewing.delete("/id-tokens/T-1")).status_code == 403

        changed = await api.patch("/id-tokens/T-1", json={"status": "Blocked", "group_id": "G-2"})
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert (body["status"], body["group_id"], body["type"]) == ("Blocked", "G-2", "ISO14443")
        assert datetime.fromisoformat(body["expires_at"]) == expiry, "left out: unchanged"
        assert body["local_list_commands"] == []
        cleared = (
            await api.patch("/id-tokens/T-1", json={"expires_at": None, "type": None})
        ).json()
        assert (cleared["expires_at"], cleared["type"], cleared["status"]) == (
            None,
            None,
            "Blocked",
        )
        assert (await api.get("/id-tokens/T-1")).json() == {
            k: v for k, v in cleared.items() if k != "local_list_commands"
        }
        regrouped = (await api.get("/id-tokens", params={"group_id": "G-2"})).json()
        assert [t["id_token"] for t in regrouped["items"]] == ["T-1", "T-3"]

        no_status = await api.patch("/id-tokens/T-1", json={"status": None})
        assert no_status.status_code == 422
        assert "status" in no_status.json()["error"]["message"]
        bogus = await api.patch("/id-tokens/T-1", json={"status": "Sideways"})
        assert bogus.status_code == 422
        stranger = await api.patch("/id-tokens/T-1", json={"colour": "red"})
        assert stranger.status_code == 422
        assert (await api.patch("/id-tokens/NOPE", json={"status": "Blocked"})).status_code == 404

        deleted = await api.delete("/id-tokens/T-2")
        assert deleted.status_code == 200
        assert deleted.json()["id_token"] == "T-2"
        assert deleted.json()["local_list_commands"] == []
        assert (await api.get("/id-tokens/T-2")).status_code == 404
        assert (await api.delete("/id-tokens/T-2")).status_code == 404
        # The id is free again.
        again = await api.post("/id-tokens", json={"id_token": "T-2"})
        assert again.status_code == 201


async def test_authorization_follows_block_expiry_and_deletion(server: ServerProcess) -> None:
    await server.register_charger("CP-T", PASSWORD)
    await server.add_id_token("CARD", group_id="FLEET")
    async with server.charger16("CP-T", PASSWORD) as charger, server.api() as api:

        async def status_of(tag: str) -> str:
            info = (await charger.call(call.Authorize(id_tag=tag))).id_tag_info
            return str(info["status"])

        assert await status_of("CARD") == "Accepted"
        await api.patch("/id-tokens/CARD", json={"status": "Blocked"})
        assert await status_of("CARD") == "Blocked"
        await api.patch("/id-tokens/CARD", json={"status": "Accepted"})
        past = datetime.now(UTC) - timedelta(minutes=1)
        await api.patch("/id-tokens/CARD", json={"expires_at": past.isoformat()})
        assert await status_of("CARD") == "Expired"
        future = datetime.now(UTC) + timedelta(days=1)
        await api.patch("/id-tokens/CARD", json={"expires_at": future.isoformat()})
        info = (await charger.call(call.Authorize(id_tag="CARD"))).id_tag_info
        assert info["status"] == "Accepted"
        assert datetime.fromisoformat(info["expiry_date"]) == future
        assert info["parent_id_tag"] == "FLEET"
        await api.patch("/id-tokens/CARD", json={"expires_at": None, "group_id": None})
        info = (await charger.call(call.Authorize(id_tag="CARD"))).id_tag_info
        assert info == {"status": "Accepted"}
        await api.delete("/id-tokens/CARD")
        assert await status_of("CARD") == "Invalid"
