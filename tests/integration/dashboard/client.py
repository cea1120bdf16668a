"""A signed-in dashboard visitor over HTTP (no browser): sign-in, CSRF token, users."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.integration.harness import ServerProcess

PASSWORD = "dashboard pass 1"
CSRF_IN_PAGE = re.compile(r'"X-CSRF-Token": "([^"]+)"')
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def create_user(server: ServerProcess, email: str, role: str) -> int:
    """A user made through the API with the server's admin token; its id."""
    async with server.api() as api:
        response = await api.post(
            "/users", json={"email": email, "password": PASSWORD, "role": role}
        )
        assert response.status_code == 201, response.text
        user_id: int = response.json()["id"]
        return user_id


async def change_user(server: ServerProcess, user_id: int, **changes: Any) -> None:
    async with server.api() as api:
        response = await api.patch(f"/users/{user_id}", json=changes)
        assert response.status_code == 200, response.text


def visitor(server: ServerProcess) -> httpx.AsyncClient:
    """A browser-like client: keeps cookies, does not follow redirects."""
    return httpx.AsyncClient(base_url=server.http_url, timeout=15, follow_redirects=False)


async def post_sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, next: str = "/"
) -> httpx.Response:
    """Fill in and send the sign-in form, as a browser does."""
    form = await client.get("/login")
    assert form.status_code == 200, form.text
    found = FORM_TOKEN.search(form.text)
    assert found is not None
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": found[1], "next": next},
    )


async def sign_in(client: httpx.AsyncClient, email: str) -> str:
    """Sign in; the session's CSRF token (as the pages carry it for htmx)."""
    response = await post_sign_in(client, email)
    assert response.status_code == 303, response.text
    return await csrf_token(client)


async def csrf_token(client: httpx.AsyncClient) -> str:
    page = await client.get("/chargers")
    assert page.status_code == 200, page.text
    found = CSRF_IN_PAGE.search(page.text)
    assert found is not None
    return found[1]
