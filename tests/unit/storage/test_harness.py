"""The test harness itself: ``reset_database`` empties a database, ids restart."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import current_revision
from chargegrid.storage.tables import chargers, metadata, status_changes
from tests.dbutil import reset_database

NOW = datetime(2025, 6, 1, tzinfo=UTC)


async def _add_charger_and_changes(db: Database, count: int) -> list[int]:
    async with db.begin() as connection:
        await connection.execute(insert(chargers).values(id="CP", created_at=NOW, updated_at=NOW))
        ids = []
        for _ in range(count):
            result = await connection.execute(
                insert(status_changes)
                .values(charger_id="CP", status="Available", occurred_at=NOW, received_at=NOW)
                .returning(status_changes.c.id)
            )
            ids.append(result.scalar_one())
    return ids


async def test_reset_database_empties_tables_and_restarts_ids(db: Database) -> None:
    first = await _add_charger_and_changes(db, 3)
    assert first == [1, 2, 3]

    await reset_database(db.url)

    async with db.connect() as connection:
        for table in metadata.sorted_tables:
            count = (await connection.execute(select(func.count()).select_from(table))).scalar()
            assert count == 0, table.name
    assert await current_revision(db.url) is not None  # the schema and its version stay
    assert await _add_charger_and_changes(db, 2) == [1, 2]
