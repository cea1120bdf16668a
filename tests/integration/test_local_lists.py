"""Local authorization lists: full and differential updates reach the charger in its
version's words, its answers keep the platform's copy, and a changed token's update
follows it to every list that holds it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.integration.answering import Answer, answering_charger, boot16
from tests.integration.harness import ServerProcess
from tests.integration.ocpp201 import boot as boot201
from tests.integration.test_commands import command, wait_state

PASSWORD = "correct-horse-battery"


class ListKeeper:
    """A charger's list version: a SendLocalList answer that takes any version but 99
    (answered VersionMismatch), and a GetLocalListVersion answer that reports it."""

    def __init__(self, version_field: str) -> None:
        self.version = 0
        self.field = version_field

    def send(self, request: dict[str, Any]) -> dict[str, Any]:
        if request[self.field] == 99:
            return {"status": "VersionMismatch"}
        self.version = request[self.field]
        return {"status": "Accepted"}

    def get(self, request: dict[str, Any]) -> dict[str, Any]:
        return {self.field: self.version}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def local_list(api: httpx.AsyncClient, charger_id: str) -> dict[str, Any]:
    response = await api.get(f"/chargers/{charger_id}/local-list")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_16_list_is_sent_read_and_follows_token_changes(server: ServerProcess) -> None:
    expiry = datetime.now(UTC) + timedelta(days=30)
    await server.register_charger("CP-L1", PASSWORD)
    await server.register_charger("CP-L2", PASSWORD)  # never given a list
    await server.add_id_token("TAG-A", expires_at=expiry.isoformat(), group_id="GRP-1")
    await server.add_id_token("TAG-B")
    await server.add_id_token("TAG-C", status="Blocked")
    keeper = ListKeeper("list_version")
    answers: dict[str, Answer] = {"SendLocalList": keeper.send, "GetLocalListVersion": keeper.get}
    async with (
        answering_charger(server, "CP-L1", PASSWORD, answers) as charger,
        server.api() as api,
    ):
        await boot16(charger)
        assert await local_list(api, "CP-L1") == {
            "version": None,
            "updated_at": None,
            "entries": [],
        }
        assert (await api.get("/chargers/NOPE/local-list")).status_code == 404

        full = await command(
            api,
            "CP-L1",
            "send-local-list",
            {"update_type": "full", "id_tokens": ["TAG-A", "TAG-B"]},
        )
        body = full.json()
        assert body["state"] == "accepted", body
        assert body["action"] == "SendLocalList"
        assert body["response"] == {"status": "Accepted"}
        assert moment(body["request"]["localAuthorizationList"][0]["idTagInfo"]["expiryDate"]) == (
            expiry
        )
        action, sent = charger.received.calls[-1]
        assert action == "SendLocalList"
        assert moment(sent["local_authorization_list"][0]["id_tag_info"].pop("expiry_date")) == (
            expiry
        )
        assert sent == {
            "list_version": 1,
            "update_type": "Full",
            "local_authorization_list": [
                {
                    "id_tag": "TAG-A",
                    "id_tag_info": {"status": "Accepted", "parent_id_tag": "GRP-1"},
                },
                {"id_tag": "TAG-B", "id_tag_info": {"status": "Accepted"}},
            ],
        }

        version = (await command(api, "CP-L1", "get-local-list-version", {})).json()
        assert version["state"] == "accepted"
        assert version["response"] == {"listVersion": 1}
        stored = await local_list(api, "CP-L1")
        assert stored["version"] == 1
        assert [(e["id_token"], e["status"], e["group_id"]) for e in stored["entries"]] == [
            ("TAG-A", "Accepted", "GRP-1"),
            ("TAG-B", "Accepted", None),
        ]
        assert moment(stored["entries"][0]["expires_at"]) == expiry

        unknown = await command(
            api, "CP-L1", "send-local-list", {"update_type": "full", "id_tokens": ["NOPE"]}
        )
        assert unknown.status_code == 422, "refused before it is queued"
        assert "'NOPE' is not known" in unknown.json()["error"]["message"]
        assert charger.received.actions == ["SendLocalList", "GetLocalListVersion"]

        # Blocking a listed token sends the list its new status, then its new expiry: one
        # differential update each, with consecutive versions.
        later = expiry + timedelta(days=1)
        blocked = await api.patch("/id-tokens/TAG-A", json={"status": "Blocked"})
        assert blocked.status_code == 200, blocked.text
        extended = await api.patch("/id-tokens/TAG-A", json={"expires_at": later.isoformat()})
        assert blocked.json()["status"] == "Blocked"
        pushes = [blocked.json()["local_list_commands"], extended.json()["local_list_commands"]]
        assert [len(ids) for ids in pushes] == [1, 1]
        for (push,) in pushes:
            done = await wait_state(api, push, "accepted")
            assert done["name"] == "send-local-list"
            assert done["params"] == {
                "update_type": "differential",
                "id_tokens": ["TAG-A"],
                "remove": [],
            }
        (_, first), (_, second) = (await charger.received.wait_for(4))[2:]
        for update in (first, second):
            update["local_authorization_list"][0]["id_tag_info"].pop("expiry_date")
        assert first == {
            "list_version": 2,
            "update_type": "Differential",
            "local_authorization_list": [
                {"id_tag": "TAG-A", "id_tag_info": {"status": "Blocked", "parent_id_tag": "GRP-1"}}
            ],
        }
        assert second["list_version"] == 3
        stored = await local_list(api, "CP-L1")
        assert stored["version"] == 3
        assert stored["entries"][0]["status"] == "Blocked"
        assert moment(stored["entries"][0]["expires_at"]) == later

        # A token on no list, or a change asked not to be pushed, queues nothing.
        unlisted = (await api.patch("/id-tokens/TAG-C", json={"status": "Accepted"})).json()
        assert unlisted["local_list_commands"] == []
        quiet = await api.patch(
            "/id-tokens/TAG-B", json={"group_id": "GRP-2"}, params={"push_local_lists": "false"}
        )
        assert quiet.json()["local_list_commands"] == []
        assert quiet.json()["group_id"] == "GRP-2"

        # Deleting a listed token takes it off the list.
        deleted = await api.delete("/id-tokens/TAG-B")
        assert deleted.status_code == 200, deleted.text
        (removal,) = deleted.json()["local_list_commands"]
        await wait_state(api, removal, "accepted")
        assert charger.received.calls[4] == (
            "SendLocalList",
            {
                "list_version": 4,
                "update_type": "Differential",
                "local_authorization_list": [{"id_tag": "TAG-B"}],
            },
        )
        assert len(charger.received.calls) == 5
        assert [e["id_token"] for e in (await local_list(api, "CP-L1"))["entries"]] == ["TAG-A"]

        # A refused update changes nothing.
        mismatch = (
            await command(
                api,
                "CP-L1",
                "send-local-list",
                {"update_type": "differential", "id_tokens": ["TAG-C"], "version": 99},
            )
        ).json()
        assert mismatch["state"] == "rejected"
        assert mismatch["error"] == "the charger answered VersionMismatch"
        assert (await local_list(api, "CP-L1"))["version"] == 4

        # The charger lost its list: reading the version says so.
        keeper.version = 0
        emptied = (await command(api, "CP-L1", "get-local-list-version", {})).json()
        assert emptied["response"] == {"listVersion": 0}
        after = await local_list(api, "CP-L1")
        assert (after["version"], after["entries"]) == (0, [])
        assert (await local_list(api, "CP-L2"))["version"] is None


async def test_a_201_list_names_token_types_and_groups(server: ServerProcess) -> None:
    await server.register_charger("CS-L1", PASSWORD)
    await server.add_id_token("CARD-1", type="ISO14443", group_id="FLEET")
    await server.add_id_token("APP-1")
    await server.add_id_token("OLD-1", expires_at="2020-01-01T00:00:00+00:00")
    keeper = ListKeeper("version_number")
    answers: dict[str, Answer] = {"SendLocalList": keeper.send, "GetLocalListVersion": keeper.get}
    async with (
        answering_charger(server, "CS-L1", PASSWORD, answers, version="2.0.1") as charger,
        server.api() as api,
    ):
        await charger.call(boot201())
        full = (
            await command(
                api,
                "CS-L1",
                "send-local-list",
                {"update_type": "full", "id_tokens": ["CARD-1", "APP-1", "OLD-1"], "version": 10},
            )
        ).json()
        assert full["state"] == "accepted", full
        assert full["request"]["versionNumber"] == 10
        assert charger.received.calls == [
            (
                "SendLocalList",
                {
                    "version_number": 10,
                    "update_type": "Full",
                    "local_authorization_list": [
                        {
                            "id_token": {"id_token": "CARD-1", "type": "ISO14443"},
                            "id_token_info": {
                                "status": "Accepted",
                                "group_id_token": {"id_token": "FLEET", "type": "Central"},
                            },
                        },
                        {
                            "id_token": {"id_token": "APP-1", "type": "Central"},
                            "id_token_info": {"status": "Accepted"},
                        },
                        {  # accepted, but its expiry has passed
                            "id_token": {"id_token": "OLD-1", "type": "Central"},
                            "id_token_info": {
                                "status": "Expired",
                                "cache_expiry_date_time": "2020-01-01T00:00:00Z",
                            },
                        },
                    ],
                },
            )
        ]
        stored = await local_list(api, "CS-L1")
        assert stored["version"] == 10
        assert [(e["id_token"], e["type"], e["group_id"]) for e in stored["entries"]] == [
            ("APP-1", "Central", None),
            ("CARD-1", "ISO14443", "FLEET"),
            ("OLD-1", "Central", None),
        ]
        assert stored["entries"][2]["status"] == "Expired"

        # A new type makes the listed IdToken another one: the old goes, the new comes.
        retyped = (
            await api.patch("/id-tokens/CARD-1", json={"type": "MacAddress", "status": "Blocked"})
        ).json()
        (push,) = retyped["local_list_commands"]
        await wait_state(api, push, "accepted")
        assert charger.received.calls[1] == (
            "SendLocalList",
            {
                "version_number": 11,
                "update_type": "Differential",
                "local_authorization_list": [
                    {"id_token": {"id_token": "CARD-1", "type": "ISO14443"}},
                    {
                        "id_token": {"id_token": "CARD-1", "type": "MacAddress"},
                        "id_token_info": {
                            "status": "Blocked",
                            "group_id_token": {"id_token": "FLEET", "type": "Central"},
                        },
                    },
                ],
            },
        )
        deleted = (await api.delete("/id-tokens/CARD-1")).json()
        await wait_state(api, deleted["local_list_commands"][0], "accepted")
        assert charger.received.calls[2][1]["local_authorization_list"] == [
            {"id_token": {"id_token": "CARD-1", "type": "MacAddress"}}
        ]
        stored = await local_list(api, "CS-L1")
        assert stored["version"] == 12
        assert [e["id_token"] for e in stored["entries"]] == ["APP-1", "OLD-1"]

        version = (await command(api, "CS-L1", "get-local-list-version", {})).json()
        assert version["response"] == {"versionNumber": 12}
        mismatch = (
            await command(
                api, "CS-L1", "send-local-list", {"update_type": "differential", "version": 99}
            )
        ).json()
        assert mismatch["state"] == "rejected"
        assert mismatch["error"] == "the charger answered VersionMismatch"
        assert (await local_list(api, "CS-L1"))["version"] == 12
