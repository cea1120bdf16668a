"""Test database helpers shared by ``conftest.py`` and tests (PostgreSQL and SQLite)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from chargegrid.storage.engine import Database

T = TypeVar("T")

ADMIN_URL_ENV = "CHARGEGRID_TEST_POSTGRESQL_URL"
"""Environment variable naming the PostgreSQL server (maintenance database) to test on."""

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

PG_CTL_AS_POSTGRES = Path(__file__).with_name("pg_ctl_as_postgres.sh")
"""Wrapper that runs pg_ctl as the ``postgres`` user (pg_ctl refuses to run as root)."""


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on a fresh event loop in another thread.

    Safe from synchronous fixtures whatever the state of the caller's event loop.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def admin_url() -> str:
    """The maintenance-database URL of the PostgreSQL server the tests should use."""
    return os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL


def masked(url: str) -> str:
    """``url`` with its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def server_problem(url: str) -> str | None:
    """``None`` when a PostgreSQL server answers at ``url``, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def local_pg_ctl() -> str | None:
    """The newest local ``pg_ctl`` (``/usr/lib/postgresql/*/bin`` or PATH), if any."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if found:
        return str(found[-1])
    return shutil.which("pg_ctl")


def local_server_problem() -> str | None:
    """``None`` when a throwaway server can be started from local binaries, else why not."""
    pg_ctl = local_pg_ctl()
    if pg_ctl is None:
        return (
            "no PostgreSQL server binaries: no /usr/lib/postgresql/*/bin/pg_ctl and no pg_ctl "
            "on PATH (Debian: apt-get install postgresql)"
        )
    if sys.platform != "win32" and os.geteuid() == 0:
        missing = [tool for tool in ("runuser", "chown") if shutil.which(tool) is None]
        if missing:
            return (
                f"running as root, and {', '.join(missing)} is missing to run {pg_ctl} as postgres"
            )
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return f"running as root (which {pg_ctl} refuses) and there is no 'postgres' user"
    return None


def pg_ctl_executable() -> str:
    """The ``pg_ctl`` to give pytest-postgresql: the wrapper when running as root."""
    if sys.platform != "win32" and os.geteuid() == 0:
        return str(PG_CTL_AS_POSTGRES)
    return local_pg_ctl() or "pg_ctl"


def database_url(admin: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``admin``."""
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def create_database(admin: str, name: str) -> str:
    """Create an empty database ``name`` and return its URL."""
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(admin, name)


def drop_database(admin: str, name: str) -> None:
    """Drop database ``name``, terminating connections still open on it."""
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


async def reset_database(url: str) -> None:
    """Empty every table but ``alembic_version``; identities and sequences restart."""
    database = Database(url, poolclass=NullPool)
    try:
        async with database.begin() as connection:
            if database.dialect_name == "postgresql":
                await connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                names = (
                    await connection.execute(
                        text(
                            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                            "AND tablename <> 'alembic_version' ORDER BY tablename"
                        )
                    )
                ).scalars()
                quoted = ", ".join(f'"{name}"' for name in names)
                if quoted:
                    await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                await connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                names = (
                    await connection.exec_driver_sql(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT IN ('alembic_version', 'sqlite_sequence') "
                        "AND name NOT LIKE 'sqlite_%'"
                    )
                ).scalars()
                for name in list(names):
                    await connection.exec_driver_sql(f'DELETE FROM "{name}"')
                if (
                    await connection.exec_driver_sql(
                        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
                    )
                ).first():
                    await connection.exec_driver_sql("DELETE FROM sqlite_sequence")
    finally:
        await database.dispose()
