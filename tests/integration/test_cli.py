"""The ``chargegrid`` command line and the settings it reads."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from chargegrid.config import Settings, load_settings
from tests import dbutil
from tests.integration.harness import ServerProcess, run_cli, run_cli_result

# The tables of the first migration; later migrations may add more.
CORE_TABLES = {
    "alembic_version",
    "api_tokens",
    "chargers",
    "connectors",
    "id_tokens",
    "message_log",
    "meter_samples",
    "status_changes",
    "transactions",
}

sqlite_only = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)


def sqlite_tables(path: Path) -> tuple[set[str], list[str]]:
    """(table names, alembic revisions) of a SQLite file."""
    with sqlite3.connect(path) as connection:
        names = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        revisions = [
            row[0] for row in connection.execute("SELECT version_num FROM alembic_version")
        ]
    connection.close()
    return names, revisions


def test_db_upgrade_creates_the_schema_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there" / "x.db"
    assert "up to date" in run_cli("db", "upgrade", "--database-url", f"sqlite:///{path}")
    tables, revisions = sqlite_tables(path)
    assert tables >= CORE_TABLES
    assert len(revisions) == 1

    # Nothing left to do: still fine (and the driver-qualified URL names the same file).
    run_cli("db", "upgrade", "--database-url", f"sqlite+aiosqlite:///{path}")
    assert sqlite_tables(path) == (tables, revisions)


def postgresql_schema(url: str) -> tuple[set[str], list[str]]:
    """(table names, alembic revisions) of a PostgreSQL database."""
    with psycopg.connect(url) as connection:
        query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        tables = {row[0] for row in connection.execute(query)}
        if "alembic_version" not in tables:
            return tables, []
        revisions = [
            row[0] for row in connection.execute("SELECT version_num FROM alembic_version")
        ]
    return tables, revisions


@pytest.mark.postgresql
def test_db_upgrade_creates_the_schema_on_postgresql(postgresql_admin_url: str) -> None:
    name = f"chargegrid_cli_{secrets.token_hex(6)}"
    url = dbutil.create_database(postgresql_admin_url, name)  # the plain postgresql:// form
    try:
        assert postgresql_schema(url) == (set(), [])
        assert "up to date" in run_cli("db", "upgrade", "--database-url", url)
        tables, revisions = postgresql_schema(url)
        assert tables >= CORE_TABLES
        assert len(revisions) == 1
        run_cli("db", "upgrade", "--database-url", url)
        assert postgresql_schema(url) == (tables, revisions)
    finally:
        dbutil.drop_database(postgresql_admin_url, name)


def test_a_bad_database_url_is_a_usage_error(tmp_path: Path) -> None:
    completed = run_cli_result("db", "upgrade", "--database-url", "mysql://root@localhost/x")
    assert completed.returncode == 2
    assert "unsupported database URL scheme 'mysql'" in completed.stderr
    assert "Traceback" not in completed.stderr

    db = tmp_path / "x.db"
    completed = run_cli_result(
        "db",
        "upgrade",
        "--database-url",
        f"sqlite:///{db}",
        env={"CHARGEGRID_OCPP_PORT": "not-a-port"},
    )
    assert completed.returncode == 2
    assert "ocpp_port" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not db.exists()


@sqlite_only
async def test_token_create_prints_a_token_the_api_accepts(server: ServerProcess) -> None:
    tokens = {
        role: run_cli("token", "create", "--role", role, "--database-url", server.database_url)
        for role in ("admin", "viewer")
    }
    for role, output in tokens.items():
        assert output.endswith("\n")
        assert len(output.strip().splitlines()) == 1, f"{role}: print only the token"
        assert len(output.strip()) >= 32
    assert tokens["admin"] != tokens["viewer"]

    async with server.api(tokens["admin"].strip()) as api:
        response = await api.post("/chargers", json={"id": "CP-CLI", "password": "p" * 16})
        assert response.status_code == 201, response.text
        assert (await api.get("/chargers/CP-CLI")).status_code == 200
    async with server.api(tokens["viewer"].strip()) as api:
        assert (await api.get("/chargers/CP-CLI")).status_code == 200
        assert (await api.post("/id-tokens", json={"id_token": "T1"})).status_code == 403


def test_token_create_refuses_an_unknown_role(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    completed = run_cli_result(
        "token", "create", "--role", "nobody", "--database-url", f"sqlite:///{db}"
    )
    assert completed.returncode != 0
    assert completed.stdout == ""
    assert "invalid choice: 'nobody'" in completed.stderr
    assert not db.exists()  # refused before touching any database

    completed = run_cli_result("token", "create", "--database-url", f"sqlite:///{db}")
    assert completed.returncode != 0
    assert "--role" in completed.stderr


def test_database_url_flag_beats_the_environment(tmp_path: Path) -> None:
    from_env = tmp_path / "env.db"
    from_flag = tmp_path / "flag.db"
    env = {"CHARGEGRID_DATABASE_URL": f"sqlite:///{from_env}"}

    run_cli("db", "upgrade", "--database-url", f"sqlite:///{from_flag}", env=env)
    assert from_flag.exists()
    assert not from_env.exists()

    run_cli("db", "upgrade", env=env)
    assert from_env.exists()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No ``CHARGEGRID_*`` variables, and a working directory of our own."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("CHARGEGRID_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_settings_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.ocpp_port == 9000
    assert settings.http_port == 8080
    assert settings.host == "127.0.0.1"
    assert settings.auto_register is False
    assert settings.database_url == "sqlite+aiosqlite:///var/chargegrid.db"
    assert settings == Settings()


def test_environment_sets_and_flags_override(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CHARGEGRID_DATABASE_URL", "postgresql://env@db/chargegrid")
    clean_env.setenv("CHARGEGRID_OCPP_PORT", "9100")
    clean_env.setenv("CHARGEGRID_HTTP_PORT", "8100")
    clean_env.setenv("CHARGEGRID_HOST", "0.0.0.0")
    clean_env.setenv("CHARGEGRID_AUTO_REGISTER", "true")

    from_env = load_settings()
    assert from_env.database_url == "postgresql://env@db/chargegrid"
    assert (from_env.ocpp_port, from_env.http_port) == (9100, 8100)
    assert from_env.host == "0.0.0.0"
    assert from_env.auto_register is True

    # Flags that were not given (None) leave the environment's values alone.
    unset = load_settings(database_url=None, ocpp_port=None, http_port=None, host=None)
    assert unset == from_env

    flags = load_settings(
        database_url="sqlite:///flag.db", ocpp_port=9200, http_port=8200, host="::1"
    )
    assert flags.database_url == "sqlite:///flag.db"
    assert (flags.ocpp_port, flags.http_port) == (9200, 8200)
    assert flags.host == "::1"
    assert flags.auto_register is True  # not overridden: still from the environment


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHARGEGRID_OCPP_PORT", "not-a-port"),
        ("CHARGEGRID_HTTP_PORT", "70000"),
        ("CHARGEGRID_AUTO_REGISTER", "perhaps"),
    ],
)
def test_invalid_environment_values_are_refused(
    clean_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.removeprefix("CHARGEGRID_").lower()):
        load_settings()
