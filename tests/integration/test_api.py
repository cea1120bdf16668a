"""The REST API of a real server: auth, validation, errors, paging, health and metrics.

One server per engine serves the whole module (starting one costs seconds); every test
uses its own ids, so the tests do not depend on each other's data or order.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from ocpp.v16 import call

from tests import dbutil
from tests.integration.conftest import start_server
from tests.integration.harness import (
    ServerProcess,
    create_api_token,
    metric_value,
    scrape_metrics,
)

PASSWORD = "sixteen-chars-ok"  # exactly 16 characters

LIST_PATHS = ["/chargers", "/id-tokens", "/transactions", "/tariffs", "/cdrs"]
PUBLIC_PATHS = {"/api/v1/auth/token"}  # sign-in, the one /api/v1 path without a token


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ],
)
def api_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A running server on a fresh database, shared by this module's tests."""
    directory = tmp_path_factory.mktemp(f"api-{request.param}")
    admin = ""
    name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'chargegrid.db'}"
    else:
        admin = request.getfixturevalue("postgresql_admin_url")
        name = f"chargegrid_it_{secrets.token_hex(6)}"
        url = dbutil.create_database(admin, name)
    try:
        server = start_server(url, Path(directory))
        try:
            yield server
        finally:
            code = server.stop()
            assert code == 0, f"server exited with {code}:\n{server.log()}"
    finally:
        if name:
            dbutil.drop_database(admin, name)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def assert_error(response: httpx.Response, status: int, *fragments: str) -> dict[str, Any]:
    """The response is the API's JSON error with this status and a message saying why."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert error["status"] == status
    for fragment in fragments:
        assert fragment in error["message"], error
    return error


def api_operations(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, concrete path) of every /api/v1 operation the server documents."""
    operations: list[tuple[str, str]] = []
    for path, item in openapi["paths"].items():
        if not path.startswith("/api/v1/") or path in PUBLIC_PATHS:
            continue
        # Every path parameter gets a sample: the charger's id, or 1 for numbers and names.
        concrete = re.sub(r"\{[a-z_]+\}", "1", path.replace("{charger_id}", "CP-1"))
        assert "{" not in concrete, f"no sample value for a parameter of {path}"
        operations.extend((method.upper(), concrete) for method in item)
    return operations


async def test_every_api_endpoint_requires_the_bearer_token(api_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=api_server.http_url, timeout=10) as client:
        openapi = (await client.get("/openapi.json")).json()
        operations = api_operations(openapi)
        assert len(operations) >= 7
        bodies = {"/api/v1/chargers": {"id": "CP-X", "password": PASSWORD}}
        for method, path in operations:
            body = bodies.get(path, {"id_token": "TOKEN-X"}) if method == "POST" else None
            for headers, message in [
                ({}, "missing bearer token"),
                ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "missing bearer token"),
                ({"Authorization": "Bearer"}, "missing bearer token"),
                ({"Authorization": "Bearer not-a-token"}, "invalid bearer token"),
                ({"Authorization": f"Bearer {api_server.token}x"}, "invalid bearer token"),
            ]:
                response = await client.request(method, path, json=body, headers=headers)
                assert_error(response, 401, message)
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
            # The token is checked before the body is even read: bad JSON is still a 401.
            response = await client.request(
                method, path, content=b"{not json", headers={"Content-Type": "application/json"}
            )
            assert_error(response, 401, "missing bearer token")
    # Nothing was created by the refused POSTs.
    async with api_server.api() as api:
        assert (await api.get("/chargers/CP-X")).status_code == 404


async def test_viewer_reads_operator_writes(api_server: ServerProcess) -> None:
    viewer = await create_api_token(api_server.database_url, "viewer")
    operator = await create_api_token(api_server.database_url, "operator")
    charger_id = unique("CP-ROLE")
    async with api_server.api(viewer) as api:
        for path in LIST_PATHS:
            assert (await api.get(path)).status_code == 200, path
        response = await api.post("/chargers", json={"id": charger_id, "password": PASSWORD})
        assert_error(response, 403, "needs the operator role")
        response = await api.post("/id-tokens", json={"id_token": unique("TAG")})
        assert_error(response, 403, "needs the operator role")
        assert (await api.get(f"/chargers/{charger_id}")).status_code == 404
    async with api_server.api(operator) as api:
        response = await api.post("/chargers", json={"id": charger_id, "password": PASSWORD})
        assert response.status_code == 201, response.text
    async with api_server.api(viewer) as api:
        response = await api.get(f"/chargers/{charger_id}")
        assert response.status_code == 200
        assert response.json()["id"] == charger_id


async def test_register_charger_validates_and_refuses_duplicates(
    api_server: ServerProcess,
) -> None:
    async with api_server.api() as api:

        async def register(charger_id: str, password: str | None = PASSWORD) -> httpx.Response:
            return await api.post("/chargers", json={"id": charger_id, "password": password})

        for password in ["x" * 15, "", "x" * 41]:
            response = await register(unique("CP-PW"), password)
            assert_error(response, 422, "password must be 16-40 characters")
        response = await register(unique("CP-PW"), None)
        assert_error(response, 422, "needs a password")

        for bad_id in ["a/b", "a:b", "a b", "", "x" * 49, "ünïcode"]:
            response = await register(bad_id)
            assert_error(response, 422, "charger id must be 1-48 characters")
            if bad_id and "/" not in bad_id:
                assert (await api.get(f"/chargers/{bad_id}")).status_code == 404

        response = await api.post("/chargers", json={"password": PASSWORD})
        error = assert_error(response, 422, "body.id")
        assert error["details"] == [{"location": "body.id", "message": "Field required"}]
        response = await api.post(
            "/chargers", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert_error(response, 422, "JSON")

        longest = "L" + secrets.token_hex(4) + "x" * 39  # 48 characters
        for charger_id, password in [(longest, "y" * 40), (unique("CP-16"), "z" * 16)]:
            response = await register(charger_id, password)
            assert response.status_code == 201, response.text
            created = response.json()
            assert created["id"] == charger_id
            assert created["connected"] is False
            assert password not in response.text
            assert "password" not in created

        response = await register(longest, "another-password-x")
        assert_error(response, 409, "already exists")


async def test_concurrent_duplicates_get_one_created_and_conflicts(
    api_server: ServerProcess,
) -> None:
    charger_id = unique("CP-DUP")
    tag = unique("TAG-DUP")
    async with api_server.api() as api:
        chargers = await asyncio.gather(
            *(
                api.post("/chargers", json={"id": charger_id, "password": PASSWORD})
                for _ in range(6)
            )
        )
        tags = await asyncio.gather(
            *(api.post("/id-tokens", json={"id_token": tag}) for _ in range(6))
        )
    for responses in (chargers, tags):
        codes = sorted(r.status_code for r in responses)
        assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
        for response in responses:
            if response.status_code == 409:
                assert_error(response, 409)


REFUSE_AT_COMMIT = """
CREATE FUNCTION test_refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'commit refused for %', NEW.id;
END $$;
CREATE CONSTRAINT TRIGGER test_refuse_doomed AFTER INSERT ON chargers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.id LIKE 'DOOMED-%') EXECUTE FUNCTION test_refuse_doomed();
"""


@pytest.mark.postgresql
@pytest.mark.parametrize("api_server", ["postgresql"], indirect=True)
async def test_a_write_is_acknowledged_only_after_it_is_committed(
    api_server: ServerProcess,
) -> None:
    """A commit that fails (here: a deferred check that runs at COMMIT) gets no 201."""
    with psycopg.connect(api_server.database_url, autocommit=True) as connection:
        connection.execute(REFUSE_AT_COMMIT)
    try:
        charger_id = unique("DOOMED")
        async with api_server.api() as api:
            response = await api.post("/chargers", json={"id": charger_id, "password": PASSWORD})
        assert_error(response, 500, "internal error")
        async with api_server.api() as api:  # the server drops a connection after a 500
            assert (await api.get(f"/chargers/{charger_id}")).status_code == 404
            # The database was not left in a bad state: other writes still commit.
            fine = unique("CP-FINE")
            response = await api.post("/chargers", json={"id": fine, "password": PASSWORD})
            assert response.status_code == 201, response.text
            assert (await api.get(f"/chargers/{fine}")).status_code == 200
    finally:
        with psycopg.connect(api_server.database_url, autocommit=True) as connection:
            connection.execute("DROP TRIGGER test_refuse_doomed ON chargers")
            connection.execute("DROP FUNCTION test_refuse_doomed()")


async def test_unknown_resources_are_404_json(api_server: ServerProcess) -> None:
    async with api_server.api() as api:
        response = await api.get("/chargers/NO-SUCH-CP")
        assert response.json() == {
            "error": {"status": 404, "message": "charger 'NO-SUCH-CP' not found"}
        }
        assert response.status_code == 404
        assert_error(await api.get("/chargers/NO-SUCH-CP/messages"), 404, "not found")
        assert_error(await api.get("/transactions/987654321"), 404, "transaction 987654321")
        assert_error(await api.get("/transactions/abc"), 422, "transaction_pk")
        assert_error(await api.get("/no-such-resource"), 404)
        page = (await api.get("/transactions", params={"charger_id": "NO-SUCH-CP"})).json()
        assert page == {"items": [], "total": 0, "limit": 100, "offset": 0}


async def test_lists_page_with_limit_and_offset(api_server: ServerProcess) -> None:
    prefix = unique("CP-PAGE")
    mine = {f"{prefix}-{n}" for n in range(5)}
    for charger_id in sorted(mine):
        await api_server.register_charger(charger_id, PASSWORD)
    async with api_server.api() as api:
        everything = (await api.get("/chargers", params={"limit": 1000})).json()
        total = everything["total"]
        assert everything["limit"] == 1000
        assert everything["offset"] == 0
        assert len(everything["items"]) == total
        assert mine <= {c["id"] for c in everything["items"]}

        default = (await api.get("/chargers")).json()
        assert (default["limit"], default["offset"], default["total"]) == (100, 0, total)

        seen: list[str] = []
        for offset in range(0, total + 2, 2):
            page = (await api.get("/chargers", params={"limit": 2, "offset": offset})).json()
            assert set(page) == {"items", "total", "limit", "offset"}
            assert (page["total"], page["limit"], page["offset"]) == (total, 2, offset)
            assert len(page["items"]) == min(2, max(0, total - offset))
            seen.extend(c["id"] for c in page["items"])
        assert sorted(seen) == sorted(c["id"] for c in everything["items"])
        assert len(set(seen)) == total  # no charger on two pages

        beyond = (await api.get("/chargers", params={"offset": total + 10})).json()
        assert beyond["items"] == []
        assert beyond["total"] == total

        for path in [*LIST_PATHS, f"/chargers/{prefix}-0/messages"]:
            bad_paging: list[tuple[dict[str, str | int], str]] = [
                ({"limit": 0}, "query.limit"),
                ({"limit": 1001}, "query.limit"),
                ({"limit": "many"}, "query.limit"),
                ({"offset": -1}, "query.offset"),
            ]
            for params, location in bad_paging:
                response = await api.get(path, params=params)
                assert_error(response, 422, location)
            response = await api.get(path, params={"limit": 1000, "offset": 0})
            assert response.status_code == 200, (path, response.text)


async def test_id_tokens_with_expiry_group_and_status_filter(api_server: ServerProcess) -> None:
    accepted = unique("TAG-OK")
    blocked = unique("TAG-BLOCKED")
    expires = datetime(2031, 5, 17, 14, 30, 15, tzinfo=UTC)
    async with api_server.api() as api:
        response = await api.post(
            "/id-tokens",
            json={
                "id_token": accepted,
                "status": "Accepted",
                "expires_at": "2031-05-17T16:30:15+02:00",
                "group_id": "FLEET-1",
            },
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert datetime.fromisoformat(created["expires_at"]) == expires
        assert datetime.fromisoformat(created["expires_at"]).utcoffset() == timedelta(0)
        assert created["group_id"] == "FLEET-1"
        assert created["status"] == "Accepted"

        response = await api.post("/id-tokens", json={"id_token": blocked, "status": "Blocked"})
        assert response.status_code == 201, response.text
        assert response.json()["expires_at"] is None
        assert response.json()["group_id"] is None

        naive = unique("TAG-NAIVE")
        response = await api.post(
            "/id-tokens", json={"id_token": naive, "expires_at": "2031-05-17T14:30:15"}
        )
        assert_error(response, 422, "body.expires_at", "timezone")
        for bad in [{"status": "Sometimes"}, {"id_token": ""}, {"id_token": "x" * 256}]:
            response = await api.post("/id-tokens", json={"id_token": unique("TAG"), **bad})
            assert_error(response, 422, "invalid request")
        response = await api.post("/id-tokens", json={"id_token": accepted})
        assert_error(response, 409, "already exists")

        listed = (await api.get("/id-tokens", params={"limit": 1000})).json()
        by_token = {t["id_token"]: t for t in listed["items"]}
        assert naive not in by_token
        stored = by_token[accepted]  # read back from the database, not echoed
        assert datetime.fromisoformat(stored["expires_at"]) == expires
        assert datetime.fromisoformat(stored["expires_at"]).utcoffset() == timedelta(0)
        assert stored["group_id"] == "FLEET-1"

        only_blocked = (await api.get("/id-tokens", params={"status": "Blocked"})).json()
        assert {t["status"] for t in only_blocked["items"]} == {"Blocked"}
        assert blocked in {t["id_token"] for t in only_blocked["items"]}
        assert only_blocked["total"] == len(only_blocked["items"])
        only_accepted = (await api.get("/id-tokens", params={"status": "Accepted"})).json()
        assert accepted in {t["id_token"] for t in only_accepted["items"]}
        assert blocked not in {t["id_token"] for t in only_accepted["items"]}
        assert_error(await api.get("/id-tokens", params={"status": "Sometimes"}), 422, "status")


async def test_health_and_openapi_need_no_token(api_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=api_server.http_url, timeout=10) as client:
        health = await client.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok"}

        openapi = (await client.get("/openapi.json")).json()
        assert openapi["info"]["title"] == "chargegrid"
        paths = openapi["paths"]
        assert set(paths["/api/v1/chargers"]) == {"get", "post"}
        assert set(paths["/api/v1/chargers/{charger_id}"]) == {"get"}
        assert set(paths["/api/v1/id-tokens"]) == {"get", "post"}
        assert set(paths["/api/v1/transactions"]) == {"get"}
        assert set(paths["/api/v1/transactions/{transaction_pk}"]) == {"get"}
        parameters = {p["name"] for p in paths["/api/v1/chargers"]["get"]["parameters"]}
        assert {"limit", "offset"} <= parameters


BODYLESS_POSTS = {  # actions whose whole input is in the path
    "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
}


async def test_openapi_describes_every_operation(api_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=api_server.http_url, timeout=10) as client:
        openapi = (await client.get("/openapi.json")).json()
    components = openapi["components"]
    assert components["securitySchemes"]["bearer"]["scheme"] == "bearer"

    def resolves(schema: dict[str, Any]) -> bool:
        ref = schema.get("$ref")
        if ref is None:
            return bool(schema)
        return ref.removeprefix("#/components/schemas/") in components["schemas"]

    operations = [
        (path, method, operation)
        for path, item in openapi["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    ]
    assert len(operations) > 50
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert (operation.get("security") is None) == (path in PUBLIC_PATHS), where
        successes = {code: r for code, r in operation["responses"].items() if code[0] == "2"}
        assert successes, where
        for code, response in successes.items():
            if code == "204":
                continue
            content = response.get("content", {})
            assert content, f"{where} {code} has no response schema"
            assert all(resolves(media["schema"]) for media in content.values()), where
        if method in ("post", "put", "patch") and path not in BODYLESS_POSTS:
            body = operation.get("requestBody", {}).get("content", {})
            assert body, f"{where} has no request schema"
            assert all(resolves(media["schema"]) for media in body.values()), where
        assert "422" in operation["responses"] or not operation.get("parameters"), where
    command_paths = [p for p, _, _ in operations if "/commands/" in p and "{command_id}" not in p]
    assert len(command_paths) == 21


async def test_metrics_show_connections_calls_and_latency(api_server: ServerProcess) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{api_server.http_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    before = response.text
    boots_before = (
        metric_value(before, "chargegrid_ocpp_calls_total", action="BootNotification", result="ok")
        or 0.0
    )
    latency_before = (
        metric_value(before, "chargegrid_ocpp_reply_seconds_count", action="BootNotification")
        or 0.0
    )

    charger_id = unique("CP-METRICS")
    await api_server.register_charger(charger_id, PASSWORD)
    async with api_server.charger16(charger_id, PASSWORD) as charger:
        boot = await charger.call(
            call.BootNotification(charge_point_model="M", charge_point_vendor="V")
        )
        assert boot.status == "Accepted"
        text = await scrape_metrics(api_server)
        assert metric_value(text, "chargegrid_connected_chargers", version="1.6") == 1.0
        assert (
            metric_value(
                text, "chargegrid_ocpp_calls_total", action="BootNotification", result="ok"
            )
            == boots_before + 1
        )
        count = metric_value(text, "chargegrid_ocpp_reply_seconds_count", action="BootNotification")
        assert count == latency_before + 1
        total_s = metric_value(text, "chargegrid_ocpp_reply_seconds_sum", action="BootNotification")
        assert total_s is not None
        assert total_s > 0
        infinite = metric_value(
            text, "chargegrid_ocpp_reply_seconds_bucket", action="BootNotification", le="+Inf"
        )
        assert infinite == count
        assert "# TYPE chargegrid_ocpp_reply_seconds histogram" in text
        async with api_server.api() as api:
            listed = (await api.get(f"/chargers/{charger_id}")).json()
        assert listed["connected"] is True
        assert listed["ocpp_version"] == "1.6"

    deadline = time.monotonic() + 5
    while True:
        text = await scrape_metrics(api_server)
        if metric_value(text, "chargegrid_connected_chargers", version="1.6") == 0.0:
            break
        assert time.monotonic() < deadline, "the connected gauge did not drop to 0"
        await asyncio.sleep(0.05)


async def test_status_history_and_message_log_filters(api_server: ServerProcess) -> None:
    charger_id = unique("CP-HIST")
    await api_server.register_charger(charger_id, PASSWORD)
    async with api_server.charger16(charger_id, PASSWORD) as charger:
        for connector, status, stamp in [
            (1, "Preparing", "2026-04-01T10:00:00Z"),
            (1, "Charging", "2026-04-01T10:05:00Z"),
            (2, "Faulted", "2026-04-01T11:00:00Z"),
            (0, "Unavailable", "2026-04-01T12:00:00Z"),
        ]:
            await charger.call(
                call.StatusNotification(
                    connector_id=connector,
                    error_code="NoError" if status != "Faulted" else "GroundFailure",
                    status=status,
                    timestamp=stamp,
                )
            )
    async with api_server.api() as api:
        history = (await api.get(f"/chargers/{charger_id}/status-history")).json()
        assert history["total"] == 4
        assert [(c["evse_id"], c["status"]) for c in history["items"]] == [
            (None, "Unavailable"),
            (2, "Faulted"),
            (1, "Charging"),
            (1, "Preparing"),
        ]
        assert history["items"][1]["error_code"] == "GroundFailure"
        assert history["items"][1]["occurred_at"] == "2026-04-01T11:00:00Z"

        evse_1 = (await api.get(f"/chargers/{charger_id}/status-history?evse_id=1")).json()
        assert [c["status"] for c in evse_1["items"]] == ["Charging", "Preparing"]
        window = (
            await api.get(
                f"/chargers/{charger_id}/status-history",
                params={"since": "2026-04-01T12:05:00+02:00", "until": "2026-04-01T12:00:00Z"},
            )
        ).json()
        # 10:05Z (inclusive) up to 12:00Z (exclusive), given with two different offsets.
        assert [c["status"] for c in window["items"]] == ["Faulted", "Charging"]
        naive = await api.get(
            f"/chargers/{charger_id}/status-history", params={"since": "2026-04-01T10:00:00"}
        )
        assert_error(naive, 422, "since")
        assert_error(await api.get("/chargers/NOPE-HIST/status-history"), 404, "not found")

        inbound = (
            await api.get(f"/chargers/{charger_id}/messages", params={"direction": "in"})
        ).json()
        assert inbound["total"] == 4
        assert {m["action"] for m in inbound["items"]} == {"StatusNotification"}
        outbound = (
            await api.get(f"/chargers/{charger_id}/messages", params={"direction": "out"})
        ).json()
        assert outbound["total"] == 0
        future = (
            await api.get(
                f"/chargers/{charger_id}/messages", params={"since": "2999-01-01T00:00:00Z"}
            )
        ).json()
        assert future["total"] == 0
        recent = (
            await api.get(
                f"/chargers/{charger_id}/messages",
                params={"since": "2000-01-01T00:00:00Z", "until": "2999-01-01T00:00:00Z"},
            )
        ).json()
        assert recent["total"] == 4
        bad = await api.get(f"/chargers/{charger_id}/messages", params={"direction": "sideways"})
        assert_error(bad, 422, "direction")
