"""Id tokens, users and webhooks managed from the dashboard on a real server, over HTTP:
forms with CSRF tokens, problems shown next to their field, roles, and the same
services as the API (checked through the API)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import start_server
from tests.integration.dashboard.client import create_user, sign_in, visitor
from tests.integration.harness import ServerProcess, free_port


def field_error(page: str, field: str) -> str:
    """The problem shown next to a form field, which points at it (aria-describedby)."""
    found = re.search(
        rf'<span class="field-error" id="{re.escape(field)}-error">([^<]*)</span>', page
    )
    assert found is not None, f"no problem shown next to {field}"
    control = re.search(rf'<(?:input|select)[^>]*id="{re.escape(field)}"[^>]*>', page)
    assert control is not None
    assert 'aria-invalid="true"' in control[0]
    assert f"{field}-error" in control[0]
    return found[1]


async def test_operators_manage_id_tokens_and_viewers_only_see_them(
    server: ServerProcess,
) -> None:
    await create_user(server, "op@example.com", "operator")
    await create_user(server, "view@example.com", "viewer")
    async with visitor(server) as operator, visitor(server) as viewer:
        token = await sign_in(operator, "op@example.com")
        empty = await operator.get("/id-tokens")
        assert "No id tokens yet" in empty.text
        assert 'id="add-token"' in empty.text

        assert (await operator.post("/id-tokens", data={"id_token": "X"})).status_code == 403
        wrong = await operator.post(
            "/id-tokens",
            data={"csrf_token": token, "id_token": " ", "status": "Sure", "expires_at": "soon"},
        )
        assert wrong.status_code == 422
        assert field_error(wrong.text, "new-id_token") == "The token is required."
        assert field_error(wrong.text, "new-status").startswith("Choose a status")
        assert "like 2030-01-31T18:00" in field_error(wrong.text, "new-expires_at")
        assert 'id="form-problems"' in wrong.text

        created = await operator.post(
            "/id-tokens",
            data={
                "csrf_token": token,
                "id_token": "04A2B3C4",
                "status": "Accepted",
                "expires_at": "2031-02-03T04:05",
                "group_id": "FLEET",
                "type": "ISO14443",
            },
        )
        assert created.status_code == 303
        shown = await operator.get(created.headers["location"])
        assert "Id token 04A2B3C4 was added." in shown.text
        assert 'data-token="04A2B3C4"' in shown.text
        again = await operator.post(
            "/id-tokens", data={"csrf_token": token, "id_token": "04A2B3C4", "status": "Accepted"}
        )
        assert again.status_code == 422
        assert "exists already" in field_error(again.text, "new-id_token")

        edit = await operator.get("/id-tokens/edit", params={"token": "04A2B3C4"})
        assert 'value="2031-02-03T04:05"' in edit.text
        saved = await operator.post(
            "/id-tokens/edit",
            data={"csrf_token": token, "token": "04A2B3C4", "status": "Blocked", "group_id": "B"},
        )
        assert saved.status_code == 303
        async with server.api() as api:
            stored = (await api.get("/id-tokens/04A2B3C4")).json()
        assert (stored["status"], stored["group_id"], stored["expires_at"]) == (
            "Blocked",
            "B",
            None,
        )
        for query in ("?status=Blocked", "?group=B", "?q=a2b3"):
            assert 'data-token="04A2B3C4"' in (await operator.get("/id-tokens" + query)).text
        assert "No id tokens match" in (await operator.get("/id-tokens?status=Accepted")).text

        viewer_token = await sign_in(viewer, "view@example.com")
        seen = await viewer.get("/id-tokens")
        assert 'data-token="04A2B3C4"' in seen.text
        assert 'id="add-token"' not in seen.text
        assert "/id-tokens/edit" not in seen.text
        assert (await viewer.get("/id-tokens/edit?token=04A2B3C4")).status_code == 403
        for path, data in (
            ("/id-tokens", {"id_token": "NEW", "status": "Accepted"}),
            ("/id-tokens/edit", {"token": "04A2B3C4", "status": "Accepted"}),
            ("/id-tokens/delete", {"token": "04A2B3C4"}),
        ):
            refused = await viewer.post(path, data={"csrf_token": viewer_token, **data})
            assert refused.status_code == 403, path
            assert "needs the operator role" in refused.text

        removed = await operator.post(
            "/id-tokens/delete", data={"csrf_token": token, "token": "04A2B3C4"}
        )
        assert removed.status_code == 303
        assert "was removed" in (await operator.get(removed.headers["location"])).text
        async with server.api() as api:
            assert (await api.get("/id-tokens/04A2B3C4")).status_code == 404


async def test_only_admins_manage_users_and_one_admin_always_remains(
    server: ServerProcess,
) -> None:
    admin_id = await create_user(server, "admin@example.com", "admin")
    await create_user(server, "op@example.com", "operator")
    async with visitor(server) as admin, visitor(server) as operator:
        await sign_in(operator, "op@example.com")
        assert 'href="/users"' not in (await operator.get("/")).text
        assert (await operator.get("/users")).status_code == 403

        token = await sign_in(admin, "admin@example.com")
        assert 'href="/users"' in (await admin.get("/")).text
        listed = await admin.get("/users")
        assert 'data-user="op@example.com"' in listed.text
        refused = await operator.post("/users", data={"csrf_token": token, "email": "x@y.z"})
        assert refused.status_code == 403  # another session's token is no token

        wrong = await admin.post(
            "/users",
            data={"csrf_token": token, "email": "not-mail", "password": "short", "role": "boss"},
        )
        assert wrong.status_code == 422
        assert field_error(wrong.text, "new-email") == "This is not an e-mail address."
        assert "8 to 1024 characters" in field_error(wrong.text, "new-password")
        assert 'value="short"' not in wrong.text  # a password is never sent back
        taken = await admin.post(
            "/users",
            data={
                "csrf_token": token,
                "email": "OP@example.com",
                "password": "long enough",
                "role": "viewer",
            },
        )
        assert "exists already" in field_error(taken.text, "new-email")

        created = await admin.post(
            "/users",
            data={
                "csrf_token": token,
                "email": "New@Example.com",
                "name": "New Person",
                "password": "long enough",
                "role": "viewer",
            },
        )
        assert created.status_code == 303
        async with server.api() as api:
            people = {u["email"]: u for u in (await api.get("/users")).json()["items"]}
        new = people["new@example.com"]
        assert (new["role"], new["name"], new["disabled"]) == ("viewer", "New Person", False)

        base = f"/users/{new['id']}"
        assert (
            await admin.post(f"{base}/role", data={"csrf_token": token, "role": "operator"})
        ).status_code == 303
        assert (await admin.post(f"{base}/disable", data={"csrf_token": token})).status_code == 303
        async with server.api() as api:
            changed = (await api.get(f"/users/{new['id']}")).json()
        assert (changed["role"], changed["disabled"]) == ("operator", True)
        assert 'data-state="disabled"' in (await admin.get("/users")).text
        assert (await admin.post(f"{base}/enable", data={"csrf_token": token})).status_code == 303

        for action, data in (("role", {"role": "viewer"}), ("disable", {}), ("delete", {})):
            last = await admin.post(
                f"/users/{admin_id}/{action}", data={"csrf_token": token, **data}
            )
            assert last.status_code == 409, action
            assert "last enabled admin" in last.text
            assert 'class="row-invalid"' in last.text

        assert (await admin.post(f"{base}/delete", data={"csrf_token": token})).status_code == 303
        async with server.api() as api:
            assert (await api.get(f"/users/{new['id']}")).status_code == 404


@pytest.fixture
def webhook_server(empty_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """Deliveries are tried once, soon: a receiver that is down fails them at once."""
    process = start_server(
        empty_database_url,
        tmp_path,
        CHARGEGRID_WEBHOOK_MAX_ATTEMPTS="1",
        CHARGEGRID_WEBHOOK_POLL_INTERVAL="0.2",
        CHARGEGRID_WEBHOOK_TIMEOUT="2",
    )
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log()


async def deliveries(server: ServerProcess, webhook_id: int) -> list[dict[str, object]]:
    async with server.api() as api:
        response = await api.get(f"/webhooks/{webhook_id}/deliveries")
        items: list[dict[str, object]] = response.json()["items"]
        return items


async def until_failed(server: ServerProcess, webhook_id: int, attempts: int) -> int:
    """The id of the webhook's first delivery, once it has failed ``attempts`` times."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = await deliveries(server, webhook_id)
        if found and found[-1]["state"] == "failed" and found[-1]["attempts"] == attempts:
            return int(str(found[-1]["id"]))
        await asyncio.sleep(0.2)
    raise AssertionError(f"no failed delivery: {await deliveries(server, webhook_id)}")


async def test_webhooks_are_added_paused_and_their_deliveries_sent_again(
    webhook_server: ServerProcess,
) -> None:
    server = webhook_server
    await create_user(server, "op@example.com", "operator")
    await create_user(server, "view@example.com", "viewer")
    down = f"http://127.0.0.1:{free_port()}/hook"  # nobody listens there
    async with visitor(server) as operator, visitor(server) as viewer:
        token = await sign_in(operator, "op@example.com")
        assert "No webhooks yet" in (await operator.get("/webhooks")).text
        wrong = await operator.post(
            "/webhooks", data={"csrf_token": token, "url": "ftp://x", "secret": "short"}
        )
        assert wrong.status_code == 422
        assert "http://" in field_error(wrong.text, "new-url")
        assert "16 characters" in field_error(wrong.text, "new-secret")
        assert "Choose one event" in wrong.text

        created = await operator.post(
            "/webhooks",
            data={
                "csrf_token": token,
                "url": down,
                "event_types": ["charger.connected", "transaction.ended"],
                "description": "Billing",
            },
        )
        assert created.status_code == 200
        secret = re.search(r'<pre class="secret"[^>]*>([^<]+)</pre>', created.text)
        assert secret is not None
        assert len(secret[1]) >= 16
        async with server.api() as api:
            (hook,) = (await api.get("/webhooks")).json()["items"]
        assert (hook["url"], hook["event_types"]) == (
            down,
            ["charger.connected", "transaction.ended"],
        )
        assert secret[1] not in (await operator.get("/webhooks")).text  # shown that once only

        paused = await operator.post(
            f"/webhooks/{hook['id']}/active", data={"csrf_token": token, "active": "false"}
        )
        assert paused.status_code == 303
        assert "is paused" in (await operator.get(paused.headers["location"])).text
        async with server.api() as api:
            assert (await api.get(f"/webhooks/{hook['id']}")).json()["active"] is False
        await operator.post(
            f"/webhooks/{hook['id']}/active", data={"csrf_token": token, "active": "true"}
        )

        await server.register_charger("CP-HOOK", "a-password-of-16-chars", security_profile=0)
        async with server.websocket("CP-HOOK", None):
            delivery_id = await until_failed(server, hook["id"], attempts=1)
        page = await operator.get(f"/webhooks/{hook['id']}?state=failed")
        assert f'data-delivery="{delivery_id}" data-state="failed"' in page.text
        assert "Send again" in page.text
        listed = await operator.get("/webhooks")
        assert f'href="/webhooks/{hook["id"]}?state=failed" class="bad-text">1<' in listed.text

        viewer_token = await sign_in(viewer, "view@example.com")
        seen = await viewer.get(f"/webhooks/{hook['id']}")
        assert f'data-delivery="{delivery_id}"' in seen.text
        assert "Send again" not in seen.text
        assert 'id="add-webhook"' not in (await viewer.get("/webhooks")).text
        retry = f"/webhooks/{hook['id']}/deliveries/{delivery_id}/retry"
        assert (await viewer.post(retry, data={"csrf_token": viewer_token})).status_code == 403
        viewer_post = await viewer.post(
            "/webhooks", data={"csrf_token": viewer_token, "url": down, "event_types": "x"}
        )
        assert viewer_post.status_code == 403

        sent = await operator.post(retry, data={"csrf_token": token})
        assert sent.status_code == 303
        assert "will be sent again" in (await operator.get(sent.headers["location"])).text
        assert await until_failed(server, hook["id"], attempts=2) == delivery_id


async def test_the_list_pages_answer_htmx_with_the_same_results(server: ServerProcess) -> None:
    """The filter forms swap only the results in (htmx selects them from the page)."""
    await create_user(server, "op@example.com", "operator")
    async with visitor(server) as client:
        await sign_in(client, "op@example.com")
        for path in ("/transactions?status=active", "/id-tokens?q=x"):
            response = await client.get(path, headers={"HX-Request": "true"})
            assert response.status_code == 200
            assert '<section id="results"' in response.text
