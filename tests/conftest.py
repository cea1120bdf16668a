"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is the server at ``CHARGEGRID_TEST_POSTGRESQL_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); when none answers there, a
throwaway server is started from the local binaries with pytest-postgresql. Each run
creates, migrates and finally drops its own database ``chargegrid_test_<pid>_<hex>``.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_postgresql import factories

from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import upgrade
from tests import dbutil

chargegrid_postgresql_proc = factories.postgresql_proc(
    executable=dbutil.pg_ctl_executable(),
    host="127.0.0.1",
    port=None,
    user="postgres",
    dbname="chargegrid_proc",
)


@pytest.fixture(scope="session")
def postgresql_admin_url(request: pytest.FixtureRequest) -> str:
    """The maintenance-database URL of the PostgreSQL server for this run."""
    url = dbutil.admin_url()
    problem = dbutil.server_problem(url)
    if problem is None:
        return url
    local_problem = dbutil.local_server_problem()
    if local_problem is not None:
        pytest.fail(
            f"PostgreSQL is needed and none is available. No server answers at "
            f"{dbutil.masked(url)} ({problem}), and no throwaway server can be started: "
            f"{local_problem}. Start a server there (Debian: pg_ctlcluster <version> main start), "
            f"or set {dbutil.ADMIN_URL_ENV} to one that runs.",
            pytrace=False,
        )
    proc: Any = request.getfixturevalue("chargegrid_postgresql_proc")
    return f"postgresql://{proc.user}@{proc.host}:{proc.port}/postgres"


@pytest.fixture(scope="session")
def postgresql_url(postgresql_admin_url: str) -> Iterator[str]:
    """URL of this run's PostgreSQL database, migrated to head (dropped at the end)."""
    name = f"chargegrid_test_{os.getpid()}_{secrets.token_hex(4)}"
    url = dbutil.create_database(postgresql_admin_url, name)
    try:
        dbutil.run_blocking(upgrade(url))
        yield url
    finally:
        dbutil.drop_database(postgresql_admin_url, name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; tests get copies."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    dbutil.run_blocking(upgrade(f"sqlite:///{path}"))
    return path


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a freshly migrated, empty database, on each engine in turn."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "chargegrid.db"
        shutil.copyfile(template, path)
        wal = template.with_name(f"{template.name}-wal")
        if wal.exists():  # normally checkpointed away when the migration disconnects
            shutil.copyfile(wal, path.with_name(f"{path.name}-wal"))
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgresql_url")
    await dbutil.reset_database(url)
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A ``Database`` on ``database_url``, disposed after the test."""
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a database with no tables at all (never migrated), on each engine in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin: str = request.getfixturevalue("postgresql_admin_url")
    name = f"chargegrid_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        yield dbutil.create_database(admin, name)
    finally:
        dbutil.drop_database(admin, name)
