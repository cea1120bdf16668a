"""What the messages of one commit group share on its connection.

A commit group answers messages from different chargers in one transaction. Most of what
they write is written blind: nothing in the group reads it back (a heartbeat's time, a
status change, a meter reading, the message log). Within ``group_scope`` such writes are
kept (``write_later``) and made when the block ends. On PostgreSQL they then all go in
one statement, each kind of write a data-modifying CTE over the rows of its parameters:
a group's writes cost one round trip, and when nothing else in the group wrote, that
statement is the whole transaction and needs no BEGIN and COMMIT of its own. Elsewhere
each kind runs as one ``executemany``. A block that fails writes nothing.

Outside a block the writes run at once, so the same code serves a message handled alone;
within a ``savepoint`` too, which then covers them. A write kept from a savepoint block
of an ``optimistic`` transaction (which sets none) spoils the transaction if the writes
fail: alone, with its savepoint, the failure would have been its block's.

Each row may get one blind write per group: the writes of one statement do not see each
other. Commit groups hold that by taking one message per charger.

A write may have a ``Guard``: a query that finds, among its rows, those it must not be
made for (a message already logged, say). When it finds any, none of the writes kept is
made and ``GuardRefused`` is raised. On PostgreSQL the guard is part of the statement
that makes the writes, and costs no round trip of its own.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeDecorator, TypeEngine

from chargegrid.storage.direct import DirectStatement, in_savepoint, savepoint_skipped, spoil

DIALECTS = ("postgresql", "sqlite")
Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")
_SCOPE = "chargegrid.group_scope"  # in the connection's info, while a block runs
_JSON = msgspec.json.Encoder()
# Types whose values JSON carries as PostgreSQL reads them from text (JSON is not: its
# values are serialized by the type, and bytes would arrive as base64).
_AS_JSON_TEXT = (Boolean, DateTime, Float, Integer, Numeric, String)


class GuardRefused(Exception):
    """A guard found rows its write must not be made for; nothing kept was written."""

    def __init__(self, write: str, found: int) -> None:
        super().__init__(f"{found} row(s) of {write} refused by its guard")
        self.write = write
        self.found = found


@dataclass(frozen=True, eq=False)
class Guard:
    """What refuses a write's rows. ``refused`` selects, from the write's rows (a
    SELECT), those refused, on PostgreSQL; ``count`` counts them, elsewhere."""

    refused: Callable[[Select[Any]], Select[Any]]
    count: Callable[[AsyncConnection, Sequence[Mapping[str, Any]]], Awaitable[int]]


@dataclass(frozen=True, eq=False)
class BlindWrite:
    """A kind of write nothing in its group reads back, one row at a time.

    ``one`` (by dialect name) writes a row from a dict of ``columns`` (by name, with
    their types). ``many`` is the same write of the rows of a SELECT with those columns;
    it is used on PostgreSQL, where that SELECT reads the rows from a JSON parameter.
    ``name`` tells this write's CTE and parameter from the others' in the group's
    statement. A ``guard`` refuses rows (see the module docstring).
    """

    name: str
    columns: Mapping[str, TypeEngine[Any]]
    one: Mapping[str, DirectStatement]
    many: Callable[[Select[Any]], UpdateBase]
    guard: Guard | None = None
    _processors: dict[str, list[tuple[str, Callable[[Any], Any] | None]]] = field(
        default_factory=dict, init=False, repr=False
    )

    @classmethod
    def insert(
        cls,
        table: Table,
        columns: Sequence[str] | None = None,
        *,
        name: str | None = None,
        guard: Guard | None = None,
        unless_taken: Sequence[str] = (),
    ) -> BlindWrite:
        """Inserting rows of ``table`` with ``columns`` (all but the primary key); with
        ``unless_taken`` (the columns of a unique key), a row whose key is taken already
        is not inserted."""
        names = list(columns or (c.name for c in table.columns if not c.primary_key))
        if not unless_taken:
            one = DirectStatement(table.insert())
            return cls(
                name or table.name,
                {name: table.c[name].type for name in names},
                dict.fromkeys(DIALECTS, one),
                lambda rows: table.insert().from_select(names, rows),
                guard,
            )
        key = list(unless_taken)
        return cls(
            name or table.name,
            {name: table.c[name].type for name in names},
            {
                "postgresql": DirectStatement(
                    postgresql.insert(table).on_conflict_do_nothing(index_elements=key)
                ),
                "sqlite": DirectStatement(
                    sqlite.insert(table).on_conflict_do_nothing(index_elements=key)
                ),
            },
            lambda rows: (
                postgresql.insert(table)
                .from_select(names, rows)
                .on_conflict_do_nothing(index_elements=key)
            ),
            guard,
        )

    @classmethod
    def update(
        cls,
        name: str,
        table: Table,
        *,
        key: tuple[str, str],
        columns: Sequence[str] = (),
        constants: Mapping[str, Any] | None = None,
    ) -> BlindWrite:
        """Setting ``columns`` (from each row) and ``constants`` (the same for every row)
        of the ``table`` row whose ``key`` column (the first name) equals the row's value
        under the second name."""
        column, given_as = key
        fixed = dict(constants or {})
        one = DirectStatement(
            table.update()
            .where(table.c[column] == bindparam(given_as))
            .values({**{c: bindparam(c) for c in columns}, **fixed})
        )

        def many(rows: Select[Any]) -> UpdateBase:
            given, keys = rows.subquery(), rows.subquery()
            # The planner takes the rows of a JSON parameter for a hundred, and would join
            # that many to a large table by scanning it. Their keys, gathered into an
            # array first, lead it to the table's index instead, whatever the count;
            # and a plan that never sees the count is made once and kept.
            key_array = func.array(select(keys.c[given_as]).scalar_subquery())
            return (
                table.update()
                .where(
                    (table.c[column] == given.c[given_as]) & (table.c[column] == any_(key_array))
                )
                .values({**{c: given.c[c] for c in columns}, **fixed})
            )

        types = {given_as: table.c[column].type, **{c: table.c[c].type for c in columns}}
        return cls(name, types, dict.fromkeys(DIALECTS, one), many)

    def rows(self) -> Select[Any]:
        """The rows given to ``many``, each field cast to its column's type.

        They come from one JSON parameter, an array of rows, each an array of the
        ``columns`` in order: measured here, PostgreSQL reads that at a fraction of what
        the driver spends on one array per column (it inspects every item of an array),
        and since the planner never sees how many rows there are, it plans the group's
        statement once and keeps the plan (an array's length, which it sees, made it
        plan every statement again). The parameter is read as ``jsonb``, parsed once:
        each field taken from ``json`` text parses its row again, and a logged frame
        (a long string, escaped) made that a third of PostgreSQL's time under load.
        """
        for name, type_ in self.columns.items():
            sql_type = type_.impl if isinstance(type_, TypeDecorator) else type_
            if not isinstance(sql_type, _AS_JSON_TEXT):
                raise TypeError(f"{self.name}.{name}: {type_!r} is not written through JSON")
        row = (
            func.jsonb_array_elements(cast(bindparam(self.name, type_=Text), JSONB))
            .table_valued("value")
            .alias("row")
        )
        return select(
            *(
                cast(row.c.value.op("->>")(literal_column(str(index))), type_).label(name)
                for index, (name, type_) in enumerate(self.columns.items())
            )
        ).select_from(row)

    def parameters(self, rows: Sequence[Mapping[str, Any]], dialect: Dialect) -> dict[str, Any]:
        """The parameters of ``rows()`` that give it ``rows``. Each value is processed as
        its column's type processes it (a naive datetime is refused)."""
        fields = self._fields(dialect)
        encoded = _JSON.encode(
            [
                [row[name] if process is None else process(row[name]) for name, process in fields]
                for row in rows
            ]
        )
        return {self.name: encoded.decode()}

    def _fields(self, dialect: Dialect) -> list[tuple[str, Callable[[Any], Any] | None]]:
        found = self._processors.get(dialect.name)
        if found is None:
            found = self._processors[dialect.name] = [
                (name, type_._cached_bind_processor(dialect))
                for name, type_ in self.columns.items()
            ]
        return found


class ReadAhead(Generic[Key, Value]):
    """What a commit group read ahead of one kind, by key, on its connection: within
    ``kept``, ``take`` serves each key read once (None: known not to exist)."""

    __slots__ = ("_name",)

    def __init__(self, kind: str) -> None:
        self._name = f"chargegrid.{kind}_read_ahead"  # in the connection's info

    @contextmanager
    def kept(self, conn: AsyncConnection, found: Mapping[Key, Value | None]) -> Iterator[None]:
        conn.info[self._name] = dict(found)
        try:
            yield
        finally:
            del conn.info[self._name]

    def take(self, conn: AsyncConnection, key: Key) -> tuple[bool, Value | None]:
        """Whether ``key`` was read ahead (and not taken yet), and what was found."""
        ahead: dict[Key, Value | None] | None = conn.info.get(self._name)
        if ahead is None or key not in ahead:
            return False, None
        return True, ahead.pop(key)


class _Scope:
    __slots__ = ("covered", "writes")

    def __init__(self) -> None:
        self.writes: dict[BlindWrite, list[Mapping[str, Any]]] = {}
        # Whether a write kept was made in a savepoint block that set none (``optimistic``).
        self.covered = False


@asynccontextmanager
async def group_scope(conn: AsyncConnection) -> AsyncIterator[None]:
    """Within the block, ``write_later`` keeps its writes; the block ends by making them
    (none if it fails)."""
    if _SCOPE in conn.info:
        raise RuntimeError("a group scope is already open on this connection")
    scope = conn.info[_SCOPE] = _Scope()
    try:
        yield
        await _make_writes(conn, scope)
    finally:
        del conn.info[_SCOPE]


async def write_kept(conn: AsyncConnection) -> None:
    """Make the writes kept so far in the open group scope now; the scope goes on. Before
    committing part of a group."""
    await _make_writes(conn, conn.info[_SCOPE])


async def _make_writes(conn: AsyncConnection, scope: _Scope) -> None:
    writes, scope.writes = scope.writes, {}
    covered, scope.covered = scope.covered, False
    try:
        if writes and conn.dialect.name == "postgresql":
            await _in_one_statement(conn, writes)
            return
        for write, rows in writes.items():
            await _check_guard(conn, write, rows)
        for write, rows in writes.items():
            await write.one[conn.dialect.name].execute_many(conn, rows)
    except GuardRefused:
        raise
    except Exception:
        if covered:  # the failure may be one a savepoint would have kept to its block
            spoil(conn)
        raise


async def write_later(conn: AsyncConnection, write: BlindWrite, row: Mapping[str, Any]) -> None:
    """Make ``write`` of ``row`` at the end of the group scope, or now outside one, and
    within a ``savepoint`` (which then covers it)."""
    scope: _Scope | None = conn.info.get(_SCOPE)
    if scope is None or in_savepoint(conn):
        await _check_guard(conn, write, [row])
        await write.one[conn.dialect.name].execute(conn, row)
    else:
        scope.writes.setdefault(write, []).append(row)
        scope.covered = scope.covered or savepoint_skipped(conn)


async def _check_guard(
    conn: AsyncConnection, write: BlindWrite, rows: Sequence[Mapping[str, Any]]
) -> None:
    if write.guard is not None and (found := await write.guard.count(conn, rows)):
        raise GuardRefused(write.name, found)


async def _in_one_statement(
    conn: AsyncConnection, writes: Mapping[BlindWrite, Sequence[Mapping[str, Any]]]
) -> None:
    kinds = tuple(sorted(writes, key=lambda write: write.name))
    values: dict[str, Any] = {}
    for write in kinds:
        values.update(write.parameters(writes[write], conn.dialect))
    statement = _statement(kinds)
    if not any(write.guard for write in kinds):
        await statement.execute(conn, values, begin=False)
        return
    refused = await statement.records(conn, values, begin=False)
    for write, found in zip([w for w in kinds if w.guard], refused[0], strict=True):
        if found:
            raise GuardRefused(write.name, found)


@cache
def _statement(kinds: tuple[BlindWrite, ...]) -> DirectStatement:
    """One statement making every kind of write in ``kinds``, one CTE each. With guards,
    it counts each guard's refused rows, and makes no write when one refuses any."""
    guards = [
        write.guard.refused(write.rows()).cte(f"{write.name}_refused")
        for write in kinds
        if write.guard is not None
    ]
    statement: Select[Any] = (
        select(*(select(func.count()).select_from(g).scalar_subquery() for g in guards))
        if guards
        else select(literal_column("1"))
    )
    for write in kinds:
        rows = write.rows()
        if guards:
            rows = rows.where(*(~exists().select_from(g) for g in guards))
        statement = statement.add_cte(write.many(rows).cte(write.name))
    return DirectStatement(statement)
