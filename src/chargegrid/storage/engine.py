"""The database engine: URL normalisation and an ``AsyncEngine`` with the right settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for the write lock before giving up."""

_READ_ONLY = "chargegrid_read_only"  # execution option marking connections from connect()


def normalize_url(url: str) -> str:
    """Return ``url`` with its async driver (aiosqlite or asyncpg); reject other databases."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"invalid database URL {url!r}: {exc}") from None
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}: use sqlite:///path "
            "(or sqlite+aiosqlite://) or postgresql://user@host/db (or postgresql+asyncpg://)"
        )
    return f"{driver}://{url.split('://', 1)[1]}"


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, or ``None`` for an in-memory or URI database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


class Database:
    """An ``AsyncEngine`` for SQLite (WAL, ``BEGIN IMMEDIATE`` writes) or PostgreSQL."""

    def __init__(self, url: str, *, foreign_keys: bool = True, **engine_kwargs: Any) -> None:
        """Build the engine; ``engine_kwargs`` go to ``create_async_engine`` (pool_size...).

        ``foreign_keys=False`` leaves SQLite's foreign key enforcement off (migrations
        need that: SQLite's batch table rebuilds would otherwise cascade deletes).
        """
        self._url = normalize_url(url)
        if self.dialect_name == "sqlite":
            path = _sqlite_file(self._url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._engine = create_async_engine(self._url, **engine_kwargs)
            _configure_sqlite(self._engine, foreign_keys=foreign_keys)
        else:
            options: dict[str, Any] = {
                "connect_args": {"server_settings": {"application_name": "chargegrid"}},
                "pool_pre_ping": False,
            }
            if "poolclass" not in engine_kwargs:  # a NullPool takes no sizes
                options.update(pool_size=10, max_overflow=10, pool_timeout=30)
            options.update(engine_kwargs)
            self._engine = create_async_engine(self._url, **options)
        self._read_engine = self._engine.execution_options(**{_READ_ONLY: True})
        # Connections kept checked out between write transactions, newest last. At most
        # ``_keep`` write transactions run at once (in the order they asked), so the held
        # connections plus those in use never take more than half the pool and reads
        # always find a connection.
        self._held: list[AsyncConnection] = []
        pool: Any = self._engine.pool
        capacity = pool.size() + max(pool._max_overflow, 0) if hasattr(pool, "size") else 10
        self._keep = max(1, capacity // 2)
        self._writers: asyncio.Semaphore | None = None

    @property
    def url(self) -> str:
        """The normalised URL, password included."""
        return self._url

    @property
    def dialect_name(self) -> Literal["sqlite", "postgresql"]:
        """``"sqlite"`` or ``"postgresql"``."""
        return "sqlite" if self._url.startswith("sqlite") else "postgresql"

    @property
    def writes_concurrently(self) -> bool:
        """Whether write transactions run side by side (PostgreSQL), or one at a time
        (SQLite: a second waits for the first's lock)."""
        return self.dialect_name == "postgresql"

    @property
    def engine(self) -> AsyncEngine:
        """The underlying SQLAlchemy engine."""
        return self._engine

    def __repr__(self) -> str:
        return f"Database({make_url(self._url).render_as_string(hide_password=True)!r})"

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: commits on success, rolls back on an exception."""
        async with self.writer() as connection, connection.begin():
            yield connection

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[AsyncConnection]:
        """A connection for write transactions that the caller begins and ends (one after
        the other; none may be left open).

        The connection stays checked out of the pool afterwards, for the next writer: a
        checkout and return cost more CPU than a short transaction.
        """
        if self._writers is None:
            self._writers = asyncio.Semaphore(self._keep)
        async with self._writers:
            connection = await self._checkout()
            try:
                yield connection
            finally:
                if len(self._held) < self._keep and _reusable(connection):
                    self._held.append(connection)
                else:
                    await connection.close()

    async def _checkout(self) -> AsyncConnection:
        while self._held:
            connection = self._held.pop()
            if _reusable(connection):
                return connection
            await connection.invalidate()  # the server closed it meanwhile
        return await self._engine.connect()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (on SQLite a deferred transaction, rolled back at the end)."""
        async with self._read_engine.connect() as connection:
            yield connection

    async def ping(self) -> None:
        """Run ``SELECT 1``; raises when the database cannot be reached."""
        async with self.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def keeps_statistics(self) -> bool:
        """Whether the database keeps its planner statistics up to date by itself: on
        PostgreSQL, whether autovacuum runs (SQLite plans without them)."""
        if self.dialect_name != "postgresql":
            return True
        async with self.connect() as connection:
            return bool((await connection.execute(text("SHOW autovacuum"))).scalar() == "on")

    async def dispose(self) -> None:
        """Close every pooled connection."""
        held, self._held = self._held, []
        for connection in held:
            await connection.close()
        await self._engine.dispose()


def _reusable(connection: AsyncConnection) -> bool:
    """Whether a connection is fit for the next transaction: open, valid and idle."""
    if connection.closed or connection.invalidated or connection.in_transaction():
        return False
    driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    is_closed = getattr(driver, "is_closed", None)  # asyncpg's: a lost server connection
    return not (callable(is_closed) and is_closed())


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL unless it is already (WAL is a property of the file).

    The switch needs an exclusive lock and SQLite does not wait for it: on a new file
    that several processes open at once it fails with "database is locked" while
    another connection holds a lock. That is harmless: the holder is starting the same
    database and the next connection switches it; WAL is for concurrency, not for
    correctness.
    """
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
    except Exception as error:
        if "locked" not in str(error).lower():
            raise


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    """Set the connection pragmas and make SQLAlchemy, not the driver, emit BEGIN."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN of its own
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _use_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with "database
        # is locked" when another writer got there first; IMMEDIATE waits for the lock.
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
