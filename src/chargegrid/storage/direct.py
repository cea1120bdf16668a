"""Hot-path statements run straight on the driver connection of a transaction.

Every charger message runs a handful of statements. Through SQLAlchemy's execution layer
(execution context, parameter processing, the greenlet bridge, result wrapping) one costs
about 80 µs of CPU, the driver itself about 15 µs. A ``DirectStatement`` is a SQLAlchemy
statement compiled once per dialect and per set of parameter names, then executed on the
driver connection (asyncpg or aiosqlite) that holds the ``AsyncConnection``'s
transaction, with SQLAlchemy's own bind and result processors: values go in and come
back exactly as they would through ``conn.execute``.

Only server-side column defaults apply to what it inserts (SQLAlchemy fills Python-side
defaults in its execution context, which is skipped here); statements whose tables have
Python-side defaults for omitted columns are refused when compiled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Select, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement, visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase, ValuesBase
from sqlalchemy.sql.selectable import CTE
from sqlalchemy.types import TypeDecorator

from chargegrid.storage.types import UTCDateTime
from chargegrid.values import immutable

Row = dict[str, Any]
_SAVEPOINT = "chargegrid_savepoint"
_OPTIMISTIC = "chargegrid.optimistic"  # in the connection's info: see ``optimistic``
_SAVEPOINTS = "chargegrid.savepoints"  # in the connection's info: how many are set
_SKIPPED = "chargegrid.savepoints_skipped"  # and how many blocks went without one
_READ_COMMITTED = (None, "read_committed")  # the adapter's None: the server's default
_Processor = Callable[[Any], Any] | None
T = TypeVar("T")


def padded(keys: Sequence[T]) -> list[T]:
    """``keys`` with the last repeated up to the next power of two in count.

    A statement that looks up many keys is built for a count of them; looked up in
    powers of two, the counts from 1 to 64 take 7 statements, not 64 (the driver keeps
    a statement cache of its own, 100 by default, and re-prepares what falls out).
    """
    count = 1
    while count < len(keys):
        count *= 2
    return [*keys, *[keys[-1]] * (count - len(keys))]


@immutable
class _Plan:
    """One statement compiled for one dialect and one set of parameter names."""

    sql: str
    params: tuple[str, ...]
    binds: tuple[_Processor, ...]
    columns: tuple[str, ...]
    results: tuple[_Processor, ...]
    constants: Mapping[str, Any]  # values the statement itself binds (literals)
    reads_only: bool  # a SELECT that neither locks nor writes (in a CTE)
    raw_results: bool  # no column's value needs processing

    def arguments(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        if self.constants:
            values = {**self.constants, **values}
        return tuple(
            value if process is None else process(value)
            for value, process in zip(
                (values[name] for name in self.params), self.binds, strict=True
            )
        )

    def row(self, record: Sequence[Any]) -> Row:
        if self.raw_results:
            return dict(zip(self.columns, record, strict=True))
        return {
            name: value if process is None else process(value)
            for name, value, process in zip(self.columns, record, self.results, strict=True)
        }

    def values(self, record: Sequence[Any]) -> Sequence[Any]:
        if self.raw_results:
            return record
        return tuple(
            value if process is None else process(value)
            for value, process in zip(record, self.results, strict=True)
        )


class DirectStatement:
    """A statement executed on the driver connection; see the module docstring."""

    __slots__ = ("_plans", "_statement")

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}

    async def rows(self, conn: AsyncConnection, values: Mapping[str, Any]) -> list[Row]:
        """Every row the statement returns, as dicts keyed by column name."""
        plan, records = await self._fetch(conn, values)
        return [plan.row(record) for record in records]

    async def records(
        self, conn: AsyncConnection, values: Mapping[str, Any], *, begin: bool = True
    ) -> list[Sequence[Any]]:
        """Every row the statement returns, as its values in the order of its columns
        (for a reader that builds many objects by position). ``begin`` as in
        ``execute``."""
        plan, records = await self._fetch(conn, values, begin=begin)
        return [plan.values(record) for record in records]

    async def _fetch(
        self, conn: AsyncConnection, values: Mapping[str, Any], *, begin: bool = True
    ) -> tuple[_Plan, Sequence[Sequence[Any]]]:
        plan = self._plan(conn.dialect, values)
        driver, asyncpg = await _driver(conn, begin=begin, read=plan.reads_only)
        args = plan.arguments(values)
        records = await (
            driver.fetch(plan.sql, *args) if asyncpg else driver.execute_fetchall(plan.sql, args)
        )
        return plan, records

    async def first(self, conn: AsyncConnection, values: Mapping[str, Any]) -> Row | None:
        """The first row the statement returns, or None."""
        found = await self.rows(conn, values)
        return found[0] if found else None

    async def execute(
        self, conn: AsyncConnection, values: Mapping[str, Any], *, begin: bool = True
    ) -> None:
        """Run the statement once (an INSERT or UPDATE without RETURNING). With
        ``begin=False`` it runs on its own, as its own transaction, when none has begun
        (on PostgreSQL; see ``_driver``)."""
        plan = self._plan(conn.dialect, values)
        driver, asyncpg = await _driver(conn, begin=begin)
        args = plan.arguments(values)
        if asyncpg:
            await driver.execute(plan.sql, *args)
        else:
            await driver.execute_fetchall(plan.sql, args)

    async def execute_many(
        self, conn: AsyncConnection, values: Sequence[Mapping[str, Any]]
    ) -> None:
        """Run the statement once per params dict (all with the same names), in one go."""
        if not values:
            return
        plan = self._plan(conn.dialect, values[0])
        driver, asyncpg = await _driver(conn)
        batch = [plan.arguments(v) for v in values]
        if asyncpg:
            await driver.executemany(plan.sql, batch)
        else:
            cursor = await driver.executemany(plan.sql, batch)
            await cursor.close()

    def _plan(self, dialect: Dialect, values: Mapping[str, Any]) -> _Plan:
        key = (dialect.name, tuple(values))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(dialect, key[1])
        return plan

    def _compile(self, dialect: Dialect, names: tuple[str, ...]) -> _Plan:
        statement = self._statement
        if isinstance(statement, ValuesBase):
            _refuse_python_defaults(statement.table, names)  # type: ignore[arg-type]
        # The names are the columns a DML statement sets; a SELECT (even one whose CTEs
        # write) takes its columns from the statement itself.
        keys = list(names) if isinstance(statement, UpdateBase) else None
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        assert isinstance(compiled, SQLCompiler)
        positions = tuple(compiled.positiontup or ())
        bind_processors = compiled._bind_processors
        result_columns = compiled._result_columns
        constants = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if name in positions and not bind.required and name not in names
        }
        results = tuple(_result_processor(entry.type, dialect) for entry in result_columns)
        return _Plan(
            sql=compiled.string,
            constants=constants,
            params=positions,
            binds=tuple(
                _bind_processor(compiled.binds[name].type, bind_processors.get(name), dialect)
                for name in positions
            ),
            columns=tuple(entry.keyname for entry in result_columns),
            results=results,
            reads_only=_reads_only(statement),
            raw_results=all(process is None for process in results),
        )


def _reads_only(statement: ClauseElement) -> bool:
    """Whether ``statement`` is a SELECT without a locking clause or a writing CTE."""
    if not isinstance(statement, Select) or statement._for_update_arg is not None:
        return False
    return not any(
        isinstance(element, CTE) and isinstance(element.element, UpdateBase)
        for element in visitors.iterate(statement)
    )


def _bind_processor(type_: Any, processor: object, dialect: Dialect) -> _Processor:
    """SQLAlchemy's processor for a parameter, but a one-dimensional ARRAY's list goes to
    the driver as it is, or with each item processed when its type has something to do
    (SQLAlchemy's walks every list and every item, in Python, whatever the type)."""
    if isinstance(type_, ARRAY) and type_.dimensions == 1:
        item: _Processor = type_.item_type._cached_bind_processor(dialect)
        if item is None:
            return None
        return lambda values: None if values is None else [item(value) for value in values]
    if processor is None or callable(processor):
        return processor
    raise TypeError("tuple-typed parameters are not supported")  # pragma: no cover


def _result_processor(type_: Any, dialect: Dialect) -> _Processor:
    if dialect.name != "postgresql":
        processor: _Processor = type_._cached_result_processor(dialect, None)
        return processor
    # asyncpg decodes every column type natively (SQLAlchemy's processors for it also
    # want the column's type OID, unknown before the statement runs); only the
    # project's own types have something left to do, and ``UTCDateTime`` not even that:
    # asyncpg gives every ``timestamp with time zone`` as an aware datetime in UTC.
    if isinstance(type_, UTCDateTime):
        return None
    if isinstance(type_, TypeDecorator):
        return lambda value: type_.process_result_value(value, dialect)
    return None


def _refuse_python_defaults(table: Table, names: tuple[str, ...]) -> None:
    omitted = [
        column.name
        for column in table.columns
        if column.name not in names and (column.default is not None or column.onupdate is not None)
    ]
    if omitted:
        raise ValueError(
            f"{table.name}: Python-side defaults of {', '.join(omitted)} would be skipped"
        )


class SpoiledTransaction(Exception):
    """A block that had no savepoint failed (see ``optimistic``): the transaction must not
    commit."""


@asynccontextmanager
async def savepoint(conn: AsyncConnection) -> AsyncIterator[None]:
    """A savepoint in the transaction: what the block wrote is undone if it raises, and
    the transaction goes on.

    On PostgreSQL it is set on the driver under one name (SQLAlchemy names each
    savepoint anew, which the driver then prepares as a new statement); a nested one
    hides the outer until it ends. Elsewhere it is SQLAlchemy's. In an ``optimistic``
    transaction none is set. While one is set, ``in_savepoint`` says so.
    """
    if conn.dialect.name == "postgresql" and _OPTIMISTIC in conn.info:
        conn.info[_SKIPPED] = conn.info.get(_SKIPPED, 0) + 1
        try:
            yield
        except Exception:
            spoil(conn)  # whatever becomes of the exception
            raise
        finally:
            conn.info[_SKIPPED] -= 1
        return
    conn.info[_SAVEPOINTS] = conn.info.get(_SAVEPOINTS, 0) + 1
    try:
        if conn.dialect.name != "postgresql":
            async with conn.begin_nested():
                yield
            return
        driver, _ = await _driver(conn)
        await driver.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            yield
        except Exception:  # not on cancellation: the whole transaction is rolled back then
            await driver.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            await driver.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
            raise
        await driver.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    finally:
        conn.info[_SAVEPOINTS] -= 1


def in_savepoint(conn: AsyncConnection) -> bool:
    """Whether a ``savepoint`` is set (a block of an ``optimistic`` transaction sets none)."""
    return bool(conn.info.get(_SAVEPOINTS))


def savepoint_skipped(conn: AsyncConnection) -> bool:
    """Whether a ``savepoint`` block of an ``optimistic`` transaction is open (without)."""
    return bool(conn.info.get(_SKIPPED))


async def _driver(
    conn: AsyncConnection, *, begin: bool = True, read: bool = False
) -> tuple[Any, bool]:
    """The driver connection in the transaction, and whether it is asyncpg's.

    SQLAlchemy's asyncpg adapter sends BEGIN with the first statement it runs itself; a
    transaction that has run none yet is started here the same way, so that the adapter's
    COMMIT or ROLLBACK ends it (and when none was started, there is none to end).

    On PostgreSQL a statement that finds no transaction begun runs on its own, as its own
    transaction, without a BEGIN (a round trip) for it, when it is a plain ``read`` at
    READ COMMITTED, the server's default that chargegrid keeps (it sees what it would
    see as the transaction's first statement), or when the caller asks (``begin=False``:
    a single statement's writes are atomic). (SQLite's BEGIN is sent when the
    transaction begins.)
    """
    adapted: Any = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    if conn.dialect.name == "postgresql":
        if read and adapted.isolation_level in _READ_COMMITTED:
            begin = False
        if begin and adapted._transaction is None and adapted.isolation_level != "autocommit":
            await adapted._start_transaction()
        return adapted._connection, True
    return adapted._connection, False


@contextmanager
def optimistic(conn: AsyncConnection) -> Iterator[None]:
    """A transaction that its caller runs again, without this, should any ``savepoint``
    block in it fail: on PostgreSQL, where a savepoint costs two round trips, none is set
    within, and ``check_unspoiled`` raises ``SpoiledTransaction`` once a block failed
    (whether or not its exception was caught). A database error spoils the transaction
    by itself there."""
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.info[_OPTIMISTIC] = False
    try:
        yield
    finally:
        del conn.info[_OPTIMISTIC]


def spoil(conn: AsyncConnection) -> None:
    """Mark the ``optimistic`` transaction spoiled: something a savepoint would have kept
    to its block failed (see ``check_unspoiled``)."""
    if _OPTIMISTIC in conn.info:
        conn.info[_OPTIMISTIC] = True


def spoiled(conn: AsyncConnection) -> bool:
    """Whether a block of the ``optimistic`` transaction failed."""
    return bool(conn.info.get(_OPTIMISTIC))


def check_unspoiled(conn: AsyncConnection) -> None:
    """Raise ``SpoiledTransaction`` if a block of the ``optimistic`` transaction failed."""
    if spoiled(conn):
        raise SpoiledTransaction("a block without its savepoint failed")
