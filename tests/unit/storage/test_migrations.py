"""Migrations: an empty database upgraded to head has exactly ``tables.py``'s schema."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    pending,
    upgrade,
)
from chargegrid.storage.tables import chargers, locations, message_log, metadata, meter_samples

ROOT = Path(__file__).resolve().parents[3]
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    database = Database(url, poolclass=NullPool)
    try:
        async with database.connect() as connection:
            return (
                await connection.run_sync(_differences),
                await connection.run_sync(_table_names),
            )
    finally:
        await database.dispose()


def test_there_is_one_head() -> None:
    assert HEAD == "0007"


async def test_upgrade_from_empty_gives_exactly_the_metadata(empty_database_url: str) -> None:
    url = empty_database_url
    asyncio.get_running_loop()  # awaited inside a running loop: no nested loop needed
    assert await current_revision(url) is None
    assert await pending(url) is True

    await upgrade(url)

    assert await current_revision(url) == HEAD
    assert await pending(url) is False
    differences, tables = await _inspect(url)
    assert differences == []
    assert tables == set(metadata.tables) | {"alembic_version"}


async def test_upgrading_twice_is_a_no_op(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade(url)
    database = Database(url, poolclass=NullPool)
    try:
        async with database.begin() as connection:
            await connection.execute(
                insert(locations).values(id="kept", name="x", created_at=datetime.now(UTC))
            )
        await upgrade(url)
        async with database.connect() as connection:
            kept = (await connection.execute(select(locations.c.id))).scalars().all()
    finally:
        await database.dispose()
    assert kept == ["kept"]
    assert await current_revision(url) == HEAD
    assert await pending(url) is False
    assert (await _inspect(url))[0] == []


async def test_concurrent_upgrades_serialise(empty_database_url: str) -> None:
    """Several nodes starting at once: one migrates, the others find nothing to do."""
    await asyncio.gather(*(upgrade(empty_database_url) for _ in range(3)))
    assert await current_revision(empty_database_url) == HEAD
    assert (await _inspect(empty_database_url))[0] == []


async def test_fixture_database_is_migrated_and_empty(db: Database) -> None:
    assert await current_revision(db.url) == HEAD
    async with db.connect() as connection:
        for table in metadata.sorted_tables:
            assert (await connection.execute(select(table))).all() == [], table.name


def test_migration_imports_utc_datetime_from_the_package() -> None:
    source = (MIGRATIONS_DIR / "versions" / "0001_initial.py").read_text()
    assert "from chargegrid.storage.types import UTCDateTime" in source
    assert "chargegrid.storage.types.UTCDateTime(" not in source
    assert "server_default=" in source
    assert 'op.f("pk_chargers")' in source


async def test_alembic_command_line_uses_the_same_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "-c",
        str(ROOT / "alembic.ini"),
        "upgrade",
        "head",
        env={**os.environ, "CHARGEGRID_DATABASE_URL": url},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode()
    assert await current_revision(url) == HEAD
    assert (await _inspect(url))[0] == []


def _log_foreign_keys(connection: Connection) -> dict[str, list[str]]:
    """The foreign keys of the logs, and the samples' indexes."""
    found = inspect(connection)
    return {
        **{
            table: sorted(str(key["name"]) for key in found.get_foreign_keys(table))
            for table in ("message_log", "meter_samples")
        },
        "indexes": sorted(str(index["name"]) for index in found.get_indexes("meter_samples")),
    }


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


async def test_the_logs_lose_their_foreign_keys_and_samples_an_index_and_keep_their_rows(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await upgrade(url, "0004")
    now = datetime.now(UTC)
    database = Database(url, poolclass=NullPool)
    try:
        async with database.begin() as connection:
            await connection.execute(
                insert(chargers).values(id="CP", created_at=now, updated_at=now)
            )
            await connection.execute(
                insert(message_log).values(
                    charger_id="CP", direction="in", unique_id="1", payload="{}", received_at=now
                )
            )
            await connection.execute(
                insert(meter_samples).values(
                    charger_id="CP", evse_id=1, sampled_at=now, measurand="SoC", value=80.0
                )
            )
        async with database.connect() as connection:
            before = await connection.run_sync(_log_foreign_keys)
        await upgrade(url)
        async with database.begin() as connection:
            after = await connection.run_sync(_log_foreign_keys)
            kept = [
                (await connection.execute(select(message_log.c.unique_id))).scalars().all(),
                (await connection.execute(select(meter_samples.c.value))).scalars().all(),
            ]
            await connection.run_sync(_downgrade, "0004")
            restored = await connection.run_sync(_log_foreign_keys)
    finally:
        await database.dispose()
    assert before == {
        "message_log": ["fk_message_log_charger_id_chargers"],
        "meter_samples": [
            "fk_meter_samples_charger_id_chargers",
            "fk_meter_samples_transaction_pk_transactions",
        ],
        "indexes": ["ix_meter_samples_charger_sampled", "ix_meter_samples_transaction"],
    }
    assert after == {
        "message_log": [],
        "meter_samples": [],
        "indexes": ["ix_meter_samples_transaction"],
    }
    assert kept == [["1"], [80.0]]
    assert restored == before
