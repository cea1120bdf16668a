"""Operator users on a real server: the CLI, sign-in, roles, revocation, the last admin."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt

from tests.integration.harness import ServerProcess, query, run_cli, run_cli_result

PASSWORD = "correct horse"


def create_user(server: ServerProcess, email: str, role: str, password: str = PASSWORD) -> str:
    """Create a user with ``chargegrid users create``; return what it printed."""
    env = {"CHARGEGRID_DATABASE_URL": server.database_url}
    return run_cli(
        "users", "create", "--email", email, "--password", password, "--role", role, env=env
    )


async def sign_in(
    server: ServerProcess, email: str, password: str = PASSWORD, **form: str
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"{server.http_url}/api/v1", timeout=10) as client:
        return await client.post(
            "/auth/token",
            data={"grant_type": "password", "username": email, "password": password, **form},
        )


async def access_token(server: ServerProcess, email: str, password: str = PASSWORD) -> str:
    response = await sign_in(server, email, password)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    token: str = body["access_token"]
    return token


def assert_error(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert fragment in error["message"], error


async def test_users_sign_in_and_their_roles_decide(server: ServerProcess) -> None:
    printed = create_user(server, "Root@Example.com", "admin")
    assert printed.startswith("id=1 email=root@example.com role=admin"), printed
    create_user(server, "op@example.com", "operator")
    create_user(server, "view@example.com", "viewer")
    listed_by_cli = run_cli(
        "users", "list", env={"CHARGEGRID_DATABASE_URL": server.database_url}
    ).splitlines()
    assert [line.split()[1:3] for line in listed_by_cli] == [
        ["email=root@example.com", "role=admin"],
        ["email=op@example.com", "role=operator"],
        ["email=view@example.com", "role=viewer"],
    ]
    tokens = {
        role: await access_token(server, email)
        for role, email in [
            ("admin", "ROOT@example.com"),  # emails are not case-sensitive
            ("operator", "op@example.com"),
            ("viewer", "view@example.com"),
        ]
    }
    new_user = {"email": "new@example.com", "password": PASSWORD, "role": "viewer"}

    async with server.api(tokens["viewer"]) as api:
        me = (await api.get("/auth/me")).json()
        assert me["principal"] == "user:view@example.com"
        assert me["role"] == "viewer"
        assert me["user"]["email"] == "view@example.com"
        assert "password_hash" not in me["user"]
        assert (await api.get("/chargers")).status_code == 200
        assert_error(await api.post("/id-tokens", json={"id_token": "V1"}), 403, "operator role")
        assert_error(await api.post("/users", json=new_user), 403, "admin role")

    async with server.api(tokens["operator"]) as api:
        assert (await api.post("/id-tokens", json={"id_token": "OP1"})).status_code == 201
        assert_error(await api.get("/users"), 403, "admin role")
        assert_error(await api.post("/users", json=new_user), 403, "admin role")
        assert_error(await api.delete("/users/1"), 403, "admin role")

    async with server.api(tokens["admin"]) as api:
        created = await api.post("/users", json={**new_user, "name": "New"})
        assert created.status_code == 201, created.text
        user = created.json()
        assert (user["email"], user["role"], user["name"], user["disabled"]) == (
            "new@example.com",
            "viewer",
            "New",
            False,
        )
        assert_error(await api.post("/users", json=new_user), 409, "exists")
        assert_error(await api.post("/users", json={**new_user, "role": "root"}), 422, "role")
        listed = (await api.get("/users", params={"limit": 2})).json()
        assert listed["total"] == 4
        assert [u["email"] for u in listed["items"]] == ["root@example.com", "op@example.com"]

        changed = await api.patch(f"/users/{user['id']}", json={"role": "operator", "name": None})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["role"], changed.json()["name"]) == ("operator", None)
        assert (await api.get(f"/users/{user['id']}")).json() == changed.json()
        assert_error(await api.patch(f"/users/{user['id']}", json={"roles": "x"}), 422, "roles")
        assert (await api.delete(f"/users/{user['id']}")).status_code == 204
        assert_error(await api.get(f"/users/{user['id']}"), 404, "no user")

    # API tokens keep working, and name themselves as principals.
    async with server.api() as api:
        me = (await api.get("/auth/me")).json()
        assert me["principal"].startswith("token:")
        assert (me["role"], me["user"]) == ("admin", None)
        assert (await api.get("/users")).status_code == 200


async def test_bad_credentials_and_bad_tokens_are_refused(server: ServerProcess) -> None:
    create_user(server, "ada@example.com", "operator")
    for response in (
        await sign_in(server, "ada@example.com", "wrong password"),
        await sign_in(server, "nobody@example.com"),
    ):
        assert_error(response, 401, "wrong email or password")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(
        await sign_in(server, "ada@example.com", grant_type="client_credentials"),
        400,
        "grant_type",
    )
    token = await access_token(server, "ada@example.com")

    # An expired token, signed with the platform's own key, is refused like garbage.
    rows = await query(
        server.database_url, "SELECT value FROM platform_secrets WHERE name = 'jwt_signing_key'"
    )
    key = rows[0]["value"]
    claims = jwt.decode(token, key, algorithms=["HS256"], issuer="chargegrid")
    past = int(time.time()) - 120
    expired = jwt.encode({**claims, "iat": past - 3600, "exp": past}, key, algorithm="HS256")
    still_valid = jwt.encode({**claims, "exp": int(time.time()) + 120}, key, algorithm="HS256")
    other_key = jwt.encode(claims, "some-other-key-" * 3, algorithm="HS256")
    async with httpx.AsyncClient(base_url=f"{server.http_url}/api/v1", timeout=10) as client:
        assert_error(await client.get("/chargers"), 401, "missing bearer token")
        for bad in (expired, other_key, token[:-3] + "abc", "a.b.c", "garbage"):
            response = await client.get("/chargers", headers={"Authorization": f"Bearer {bad}"})
            assert_error(response, 401, "invalid bearer token")
        for good in (token, still_valid):
            response = await client.get("/chargers", headers={"Authorization": f"Bearer {good}"})
            assert response.status_code == 200, response.text

    # Five failures in a row (the server's CHARGEGRID_AUTH_FAILURE_LIMIT; the sign-in above
    # cleared the earlier one) for one email and address, and even the right password
    # waits; other emails are not held up.
    for _ in range(5):
        assert (await sign_in(server, "ada@example.com", "wrong password")).status_code == 401
    refused = await sign_in(server, "ada@example.com")
    assert_error(refused, 429, "too many failed sign-ins")
    assert int(refused.headers["Retry-After"]) >= 1
    create_user(server, "bob@example.com", "viewer")
    assert (await sign_in(server, "bob@example.com")).status_code == 200


async def test_removing_access_takes_effect_at_once_and_an_admin_remains(
    server: ServerProcess,
) -> None:
    create_user(server, "root@example.com", "admin")
    duplicate = run_cli_result(
        "users",
        "create",
        "--email",
        "ROOT@example.com",
        "--password",
        PASSWORD,
        "--role",
        "viewer",
        env={"CHARGEGRID_DATABASE_URL": server.database_url},
    )
    assert duplicate.returncode == 1
    assert "'root@example.com' exists" in duplicate.stderr
    assert duplicate.stdout == ""

    admin = await access_token(server, "root@example.com")
    async with server.api(admin) as api:
        me = (await api.get("/auth/me")).json()["user"]
        for change in ({"role": "operator"}, {"disabled": True}):
            response = await api.patch(f"/users/{me['id']}", json=change)
            assert_error(response, 409, "last enabled admin")
        assert_error(await api.delete(f"/users/{me['id']}"), 409, "last enabled admin")

        response = await api.post(
            "/users", json={"email": "eve@example.com", "password": PASSWORD, "role": "admin"}
        )
        assert response.status_code == 201, response.text
        eve = response.json()
        eve_token = await access_token(server, "eve@example.com")

        async with server.api(eve_token) as as_eve:
            assert (await as_eve.get("/users")).status_code == 200
            # Demoted: the role that counts is the user's current one, not the token's.
            assert (await api.patch(f"/users/{eve['id']}", json={"role": "viewer"})).is_success
            assert_error(await as_eve.get("/users"), 403, "admin role")
            assert (await as_eve.get("/chargers")).status_code == 200
            # Disabled: the token and the password stop working.
            assert (await api.patch(f"/users/{eve['id']}", json={"disabled": True})).is_success
            assert_error(await as_eve.get("/chargers"), 401, "invalid bearer token")
            assert (await sign_in(server, "eve@example.com")).status_code == 401
            assert (await api.patch(f"/users/{eve['id']}", json={"disabled": False})).is_success
            assert (await as_eve.get("/chargers")).status_code == 200
            # Deleted: refused at once.
            assert (await api.delete(f"/users/{eve['id']}")).status_code == 204
            assert_error(await as_eve.get("/chargers"), 401, "invalid bearer token")

        # A new password: the old one no longer signs in.
        response = await api.patch(f"/users/{me['id']}", json={"password": "a new password"})
        assert response.status_code == 200, response.text
    assert (await sign_in(server, "root@example.com")).status_code == 401
    await access_token(server, "root@example.com", "a new password")
