"""Integration fixtures: a real server process on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import dbutil
from tests.integration.harness import ServerProcess

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


@pytest.fixture(params=ENGINES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty (unmigrated) database: the server must migrate it on start."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chargegrid.db'}"
        return
    admin: str = request.getfixturevalue("postgresql_admin_url")
    name = f"chargegrid_it_{secrets.token_hex(6)}"
    url = dbutil.create_database(admin, name)
    try:
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        dbutil.drop_database(admin, name)


def start_server(database_url: str, tmp_path: Path, **env: str) -> ServerProcess:
    server = ServerProcess(database_url, tmp_path / f"server-{secrets.token_hex(3)}.log", env)
    server.start()
    return server


@pytest.fixture
def server(empty_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A running server on a fresh database; stopped (gracefully) after the test."""
    process = start_server(
        empty_database_url,
        tmp_path,
        CHARGEGRID_AUTH_FAILURE_LIMIT="5",
        CHARGEGRID_OCPP_MAX_FRAME_BYTES="8192",
    )
    try:
        yield process
    finally:
        code = process.stop()
        assert code == 0, f"server exited with {code}:\n{process.log()}"
