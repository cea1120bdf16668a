"""The engine: URL normalisation, SQLite settings, transactions, concurrency."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from chargegrid.storage.engine import Database, normalize_url
from chargegrid.storage.tables import connectors, locations

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/chargegrid.db", "sqlite+aiosqlite:///var/chargegrid.db"),
        ("sqlite:////abs/path/x.db", "sqlite+aiosqlite:////abs/path/x.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite+aiosqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
        ("postgresql://user@host/db", "postgresql+asyncpg://user@host/db"),
        ("postgres://user:p%40ss@host:5433/db", "postgresql+asyncpg://user:p%40ss@host:5433/db"),
        ("postgresql+asyncpg://user@host/db", "postgresql+asyncpg://user@host/db"),
    ],
)
def test_normalize_url_accepts(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/db", "unsupported database URL scheme 'mysql'"),
        ("postgresql+psycopg2://u@h/db", "unsupported database URL scheme 'postgresql+psycopg2'"),
        ("sqlite+pysqlite:///x.db", "unsupported database URL scheme 'sqlite+pysqlite'"),
        ("not a url", "invalid database URL"),
        ("", "invalid database URL"),
    ],
)
def test_normalize_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        normalize_url(url)


async def test_repr_masks_password_and_url_keeps_it() -> None:
    database = Database("postgres://alice:s3cret@db.example/cg")
    try:
        assert database.url == "postgresql+asyncpg://alice:s3cret@db.example/cg"
        assert "s3cret" not in repr(database)
        assert repr(database) == "Database('postgresql+asyncpg://alice:***@db.example/cg')"
        assert database.dialect_name == "postgresql"
        assert database.engine.pool.size() == 10  # type: ignore[attr-defined]
    finally:
        await database.dispose()


async def test_pool_size_is_settable() -> None:
    database = Database("postgresql://u@127.0.0.1/db", pool_size=3)
    try:
        assert database.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        await database.dispose()


async def test_ping_raises_when_unreachable() -> None:
    database = Database("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(ConnectionRefusedError):
            await database.ping()
    finally:
        await database.dispose()


async def test_sqlite_file_settings(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "x.db"
    database = Database(f"sqlite:///{path}")
    try:
        assert database.dialect_name == "sqlite"
        assert path.parent.is_dir()  # created by the constructor
        await database.ping()
        async with database.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            }
        assert pragmas == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": 1,  # NORMAL
            "busy_timeout": 30_000,
        }
    finally:
        await database.dispose()


async def test_sqlite_memory_database_works() -> None:
    database = Database("sqlite:///:memory:")
    try:
        async with database.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            await connection.exec_driver_sql("INSERT INTO t VALUES (7)")
        async with database.connect() as connection:
            assert (await connection.exec_driver_sql("SELECT x FROM t")).scalar() == 7
    finally:
        await database.dispose()


async def _count_locations(db: Database) -> int:
    async with db.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(locations))).scalar_one()


async def test_begin_commits_on_success(db: Database) -> None:
    async with db.begin() as connection:
        await connection.execute(insert(locations).values(id="L1", name="Depot", created_at=NOW))
    assert await _count_locations(db) == 1
    await db.ping()


async def test_begin_rolls_back_on_exception(db: Database) -> None:
    class Boom(Exception):
        pass

    async def write_then_fail() -> None:
        async with db.begin() as connection:
            await connection.execute(insert(locations).values(id="L1", name="A", created_at=NOW))
            await connection.execute(insert(locations).values(id="L2", name="B", created_at=NOW))
            raise Boom

    with pytest.raises(Boom):
        await write_then_fail()
    assert await _count_locations(db) == 0


async def test_foreign_keys_are_enforced(db: Database) -> None:
    row = {"charger_id": "ghost", "evse_id": 1, "connector_id": 1, "status": "Available"}
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        async with db.begin() as connection:
            await connection.execute(
                insert(connectors).values(**row, status_at=NOW, updated_at=NOW)
            )


async def _read_then_write(database: Database, *, writer: bool) -> None:
    """Read a counter, yield to the other tasks, then write it back incremented."""
    context = database.begin() if writer else database.connect()
    async with context as connection:
        count = (
            await connection.execute(select(locations.c.latitude).where(locations.c.id == "C"))
        ).scalar_one()
        await asyncio.sleep(0.005)
        await connection.execute(
            update(locations).where(locations.c.id == "C").values(latitude=count + 1)
        )
        if not writer:
            await connection.commit()


async def _counter_database(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'counter.db'}", pool_size=25)
    async with database.begin() as connection:
        await connection.run_sync(locations.metadata.create_all, tables=[locations])
        await connection.execute(
            insert(locations).values(id="C", name="counter", latitude=0.0, created_at=NOW)
        )
    return database


async def test_sqlite_concurrent_read_then_write_transactions_wait(tmp_path: Path) -> None:
    database = await _counter_database(tmp_path)
    try:
        tasks = 20
        await asyncio.gather(*(_read_then_write(database, writer=True) for _ in range(tasks)))
        async with database.connect() as connection:
            final = (
                await connection.execute(select(locations.c.latitude).where(locations.c.id == "C"))
            ).scalar_one()
        assert final == tasks  # no "database is locked", and no lost update
    finally:
        await database.dispose()


async def test_sqlite_deferred_transactions_would_fail(tmp_path: Path) -> None:
    """The control for the test above: the same work in deferred transactions fails."""
    database = await _counter_database(tmp_path)
    try:
        results = await asyncio.gather(
            *(_read_then_write(database, writer=False) for _ in range(20)),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors, "deferred read-then-write transactions unexpectedly all succeeded"
        assert all(isinstance(e, OperationalError) for e in errors), errors
        assert all("database is locked" in str(e) for e in errors), errors
    finally:
        await database.dispose()


async def test_sqlite_reads_proceed_while_a_write_transaction_is_open(tmp_path: Path) -> None:
    database = await _counter_database(tmp_path)
    try:
        async with database.begin() as writer:
            await writer.execute(update(locations).values(latitude=99.0))
            async with database.connect() as reader:  # WAL: readers see the last commit
                seen = (await reader.execute(select(locations.c.latitude))).scalar_one()
            assert seen == 0.0
    finally:
        await database.dispose()


async def test_opening_a_new_file_while_another_process_writes_to_it(tmp_path: Path) -> None:
    """Switching to WAL needs a lock SQLite will not wait for; opening must not fail on it."""
    import sqlite3

    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("CREATE TABLE t (x INTEGER)")
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO t VALUES (1)")
        database = Database(f"sqlite:///{path}")
        try:
            async with database.connect() as connection:
                assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 0
        finally:
            await database.dispose()
        holder.execute("COMMIT")
        reopened = Database(f"sqlite:///{path}")
        try:
            async with reopened.connect() as connection:
                mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            assert mode == "wal"  # switched by the next connection once the lock was gone
        finally:
            await reopened.dispose()
    finally:
        holder.close()


async def test_write_transactions_reuse_one_held_connection(db: Database) -> None:
    drivers = []
    for name in ("one", "two"):
        async with db.begin() as conn:
            await conn.execute(insert(locations).values(id=name, name=name, created_at=NOW))
            raw = await conn.get_raw_connection()
            drivers.append(raw.driver_connection)
    assert drivers[0] is drivers[1]
    assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]


async def test_a_rolled_back_transaction_leaves_a_clean_connection(db: Database) -> None:
    async def fail() -> None:
        async with db.begin() as conn:
            await conn.execute(insert(locations).values(id="gone", name="x", created_at=NOW))
            raise RuntimeError("abandon")

    with pytest.raises(RuntimeError):
        await fail()
    async with db.begin() as conn:
        assert (await conn.execute(select(func.count()).select_from(locations))).scalar() == 0
        await conn.execute(insert(locations).values(id="kept", name="x", created_at=NOW))
    async with db.connect() as conn:
        assert (await conn.execute(select(locations.c.id))).scalars().all() == ["kept"]


async def test_dispose_closes_the_held_connections(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(select(1))
    assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    await db.dispose()
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgresql
async def test_a_connection_the_server_closed_is_not_reused(postgresql_url: str) -> None:
    database = Database(postgresql_url)
    try:
        async with database.begin() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        other = Database(postgresql_url)
        try:
            async with other.begin() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            await other.dispose()
        await asyncio.sleep(0.2)  # the client sees the socket close
        async with database.begin() as conn:
            found = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert found != pid
    finally:
        await database.dispose()


async def test_many_writers_and_readers_share_a_small_pool(database_url: str) -> None:
    database = Database(database_url, pool_size=2, max_overflow=2, pool_timeout=5)
    try:

        async def write(n: int) -> None:
            async with database.begin() as conn:
                await conn.execute(insert(locations).values(id=f"L{n}", name="x", created_at=NOW))
                await asyncio.sleep(0.01)

        async def read() -> int:
            async with database.connect() as conn:
                await asyncio.sleep(0.01)
                return int(
                    (await conn.execute(select(func.count()).select_from(locations))).scalar_one()
                )

        async with asyncio.timeout(20):
            await asyncio.gather(
                *(write(n) for n in range(40)),
                *(read() for _ in range(20)),
            )
        async with database.connect() as conn:
            count = (await conn.execute(select(func.count()).select_from(locations))).scalar()
        assert count == 40
    finally:
        await database.dispose()


async def test_keeps_statistics_is_what_autovacuum_says(db: Database) -> None:
    expected = True
    if db.dialect_name == "postgresql":
        async with db.connect() as conn:
            expected = (await conn.execute(text("SHOW autovacuum"))).scalar() == "on"
    assert await db.keeps_statistics() is expected
