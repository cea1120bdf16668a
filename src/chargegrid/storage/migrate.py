"""Schema migrations (Alembic), usable from inside a running event loop.

Alembic's synchronous API runs through ``AsyncConnection.run_sync`` on a connection
handed to ``migrations/env.py`` in ``config.attributes["connection"]``: no second
event loop, no ini file.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from chargegrid.storage.engine import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_PG_LOCK_KEY = 0x63_67_6D_69_67  # pg_advisory_xact_lock key: one migrating node at a time


class MigrationError(RuntimeError):
    """A migration left the database inconsistent."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the packaged migrations, optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _database(url: str) -> Database:
    # Foreign keys stay off on SQLite: batch table rebuilds would otherwise cascade deletes.
    return Database(url, foreign_keys=False, poolclass=NullPool)


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise MigrationError(f"foreign key violations after migration: {broken[:5]}")


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``, in one transaction."""
    database = _database(url)
    try:
        async with database.begin() as connection:
            if database.dialect_name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY}
                )
            await connection.run_sync(_upgrade, revision)
    finally:
        await database.dispose()


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


async def _heads(url: str) -> tuple[str, ...]:
    database = _database(url)
    try:
        async with database.connect() as connection:
            return await connection.run_sync(_current_heads)
    finally:
        await database.dispose()


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, ``None`` when it was never migrated."""
    heads = await _heads(url)
    if len(heads) > 1:
        raise MigrationError(f"database has several heads: {', '.join(heads)}")
    return heads[0] if heads else None


async def pending(url: str) -> bool:
    """Whether ``upgrade(url)`` would apply any migration."""
    script = ScriptDirectory.from_config(alembic_config())
    return set(await _heads(url)) != set(script.get_heads())
