"""Dashboard sign-in, sessions, CSRF and roles on a real server, over HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.integration.conftest import start_server
from tests.integration.dashboard.client import (
    PASSWORD,
    change_user,
    create_user,
    csrf_token,
    post_sign_in,
    sign_in,
    visitor,
)
from tests.integration.harness import ServerProcess

PAGES = ["/", "/chargers", "/chargers/CP-1", "/commands/1", "/live/overview"]


async def test_signed_out_visitors_go_to_the_sign_in_page(server: ServerProcess) -> None:
    async with visitor(server) as client:
        for path in PAGES:
            response = await client.get(path)
            assert response.status_code == 303, (path, response.text)
            expected = "/login" if path == "/" else "/login?next=" + path
            assert response.headers["location"] == expected
        # htmx follows redirects silently: it is told where to go instead.
        response = await client.get(
            "/chargers",
            headers={"HX-Request": "true", "HX-Current-URL": f"{server.http_url}/chargers?q=x"},
        )
        assert response.status_code == 401
        assert response.headers["HX-Redirect"] == "/login?next=/chargers%3Fq%3Dx"
        response = await client.post("/chargers/CP-1/commands/reset", data={"type": "soft"})
        assert response.status_code == 303
        # The sign-in page and the static files need no session.
        assert (await client.get("/login")).status_code == 200
        script = await client.get("/static/vendor/htmx.org-2.0.11/htmx.min.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert "htmx" in script.text[:200]


async def test_sign_in_opens_a_session_and_sign_out_ends_it(server: ServerProcess) -> None:
    await create_user(server, "op@example.com", "operator")
    async with visitor(server) as client:
        wrong = await post_sign_in(client, "op@example.com", "not the password")
        assert wrong.status_code == 401
        assert "Wrong e-mail or password" in wrong.text
        assert "chargegrid_session" not in wrong.headers.get("set-cookie", "")

        response = await post_sign_in(client, "OP@example.com", next="/chargers?q=1")
        assert response.status_code == 303
        assert response.headers["location"] == "/chargers?q=1"
        cookie = next(
            c
            for c in response.headers.get_list("set-cookie")
            if c.startswith("chargegrid_session=")
        )
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert "httponly" in flags
        assert "samesite=lax" in flags
        assert "secure" not in flags  # plain http here; https requests get Secure
        assert "max-age=28800" in flags

        overview = await client.get("/")
        assert overview.status_code == 200
        assert "<h1>Overview</h1>" in overview.text
        assert "op@example.com" in overview.text
        assert overview.headers["content-security-policy"].startswith("default-src 'self'")
        assert overview.headers["x-frame-options"] == "DENY"
        # Signed in, the sign-in page sends you on.
        assert (await client.get("/login?next=/chargers")).headers["location"] == "/chargers"

        token = await csrf_token(client)
        refused = await client.post("/logout")
        assert refused.status_code == 403
        assert (await client.get("/")).status_code == 200  # still signed in
        out = await client.post("/logout", data={"csrf_token": token})
        assert out.status_code == 303
        assert out.headers["location"] == "/login"
        assert (await client.get("/")).status_code == 303


async def test_the_sign_in_form_only_works_from_the_sign_in_page(server: ServerProcess) -> None:
    await create_user(server, "op@example.com", "operator")
    async with visitor(server) as client:
        forged = await client.post(
            "/login", data={"email": "op@example.com", "password": PASSWORD, "csrf_token": "x"}
        )
        assert forged.status_code == 403
        assert "chargegrid_session=" not in forged.headers.get("set-cookie", "")
        assert "expired" in forged.text


async def test_failed_sign_ins_count_with_the_apis(server: ServerProcess) -> None:
    """The server allows 5 failures per e-mail and address, through either front end."""
    await create_user(server, "op@example.com", "operator")
    async with visitor(server) as client:
        for _ in range(3):
            assert (await post_sign_in(client, "op@example.com", "wrong")).status_code == 401
        async with visitor(server) as api:
            for _ in range(2):
                response = await api.post(
                    "/api/v1/auth/token", data={"username": "op@example.com", "password": "wrong"}
                )
                assert response.status_code == 401
        limited = await post_sign_in(client, "op@example.com")  # the right password now
        assert limited.status_code == 429
        assert "Too many failed sign-ins" in limited.text
        assert int(limited.headers["Retry-After"]) >= 1


async def test_unsafe_requests_need_the_sessions_csrf_token(server: ServerProcess) -> None:
    await server.register_charger("CP-1", "a-password-of-16-chars")
    await create_user(server, "op@example.com", "operator")
    async with visitor(server) as client:
        token = await sign_in(client, "op@example.com")
        path = "/chargers/CP-1/commands/clear-cache"
        assert (await client.post(path)).status_code == 403
        assert (await client.post(path, headers={"X-CSRF-Token": "forged"})).status_code == 403
        assert (await client.post(path, data={"csrf_token": token[:-1]})).status_code == 403
        sent = await client.post(path, headers={"X-CSRF-Token": token, "HX-Request": "true"})
        assert sent.status_code == 200, sent.text
        assert 'data-state="queued"' in sent.text  # the charger is offline: it waits
        by_form = await client.post(path, data={"csrf_token": token})
        assert by_form.status_code == 303  # without htmx: back to the charger page
        assert by_form.headers["location"] == "/chargers/CP-1#commands"
    async with server.api() as api:
        listed = (await api.get("/commands", params={"charger_id": "CP-1"})).json()
    assert [c["requested_by"] for c in listed["items"]] == ["user:op@example.com"] * 2


async def test_viewers_see_no_commands_and_may_not_send_them(server: ServerProcess) -> None:
    await server.register_charger("CP-1", "a-password-of-16-chars")
    await create_user(server, "view@example.com", "viewer")
    await create_user(server, "op@example.com", "operator")
    async with visitor(server) as viewer, visitor(server) as operator:
        viewer_token = await sign_in(viewer, "view@example.com")
        await sign_in(operator, "op@example.com")
        seen_by_viewer = (await viewer.get("/chargers/CP-1")).text
        seen_by_operator = (await operator.get("/chargers/CP-1")).text
        for control in ("Soft reset", "data-command-form", "/commands/set-configuration"):
            assert control not in seen_by_viewer
            assert control in seen_by_operator
        assert "can follow commands but not send them" in seen_by_viewer
        refused = await viewer.post(
            "/chargers/CP-1/commands/reset",
            data={"type": "soft"},
            headers={"X-CSRF-Token": viewer_token, "HX-Request": "true"},
        )
        assert refused.status_code == 403
        assert "needs the operator role" in refused.text
    async with server.api() as api:
        assert (await api.get("/commands")).json()["total"] == 0


async def test_a_session_follows_its_user(server: ServerProcess) -> None:
    """Demoted, disabled or with a new password, a user's session changes at once."""
    await server.register_charger("CP-1", "a-password-of-16-chars")
    user_id = await create_user(server, "op@example.com", "operator")
    async with visitor(server) as client:
        token = await sign_in(client, "op@example.com")
        await change_user(server, user_id, role="viewer")
        page = await client.get("/chargers/CP-1")
        assert page.status_code == 200
        assert "Soft reset" not in page.text
        refused = await client.post(
            "/chargers/CP-1/commands/clear-cache", headers={"X-CSRF-Token": token}
        )
        assert refused.status_code == 403

        await change_user(server, user_id, disabled=True)
        assert (await client.get("/")).status_code == 303
        await change_user(server, user_id, disabled=False)
        assert (await client.get("/")).status_code == 200  # the session itself holds

        await change_user(server, user_id, password="a brand new password")
        assert (await client.get("/")).status_code == 303


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_sessions_expire(empty_database_url: str, tmp_path: Path) -> None:
    server = start_server(empty_database_url, tmp_path, CHARGEGRID_DASHBOARD_SESSION_TTL="2")
    try:
        await create_user(server, "op@example.com", "operator")
        async with visitor(server) as client:
            await sign_in(client, "op@example.com")
            assert (await client.get("/")).status_code == 200
            await asyncio.sleep(2.2)
            expired = await client.get("/chargers")
            assert expired.status_code == 303
            assert expired.headers["location"] == "/login?next=/chargers"
    finally:
        assert server.stop() == 0, server.log()
