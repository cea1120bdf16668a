"""Commands to chargers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import UpdateBase

from chargegrid.domain.model import Command, CommandState
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.group_scope import DIALECTS, BlindWrite, write_later
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import commands


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(commands.insert().values(**values).returning(commands.c.id))
    return int(result.scalar_one())


async def get(conn: AsyncConnection, command_id: int) -> Command | None:
    row = (
        (await conn.execute(select(commands).where(commands.c.id == command_id))).mappings().first()
    )
    return None if row is None else _command(row)


async def next_queued(conn: AsyncConnection, charger_id: str) -> Command | None:
    """The oldest queued command of a charger: commands go out in the order given."""
    row = (
        (
            await conn.execute(
                select(commands)
                .where(
                    (commands.c.charger_id == charger_id)
                    & (commands.c.state == CommandState.QUEUED.value)
                )
                .order_by(commands.c.id)
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _command(row)


async def update_fields(
    conn: AsyncConnection,
    command_id: int,
    *,
    only_in: Sequence[CommandState] | None = None,
    **values: Any,
) -> bool:
    """Update a command, if it is (still) in one of the ``only_in`` states."""
    condition: ColumnElement[bool] = commands.c.id == command_id
    if only_in is not None:
        condition = and_(condition, commands.c.state.in_([s.value for s in only_in]))
    result = await conn.execute(update(commands).where(condition).values(**values))
    return bool(result.rowcount)


async def ids_where(
    conn: AsyncConnection, *, state: CommandState, before: datetime, column: str
) -> list[int]:
    """Ids of commands in ``state`` whose time ``column`` is before ``before``."""
    rows = await conn.execute(
        select(commands.c.id)
        .where((commands.c.state == state.value) & (commands.c[column] < before))
        .order_by(commands.c.id)
    )
    return [int(row[0]) for row in rows]


# A new transaction's link to the remote start it answers: a write nothing in its commit
# group reads back, made with the group's other writes (``group_scope``). Its values are
# not named after the columns they are compared with (an UPDATE reserves those names).
_sought = commands.alias("sought")
_LINK_COLUMNS = {
    "transaction": commands.c.transaction_pk.type,
    "linked_at": commands.c.updated_at.type,
    "command": commands.c.id.type,
    "charger": commands.c.charger_id.type,
    "command_name": commands.c.name.type,
    "token": commands.c.id_token.type,
    "evse": commands.c.evse_id.type,
    "sent_since": commands.c.sent_at.type,
}


def _answered(given: Mapping[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    """The command a new transaction answers, of the ``given`` values (``link_remote_start``):
    the one named (``command``), or else the latest unlinked remote start of its charger
    and id token sent since ``sent_since``, on its EVSE or on any."""
    latest = (
        select(_sought.c.id)
        .where(
            (_sought.c.charger_id == given["charger"])
            & (_sought.c.name == given["command_name"])
            & (
                (_sought.c.state == CommandState.SENT.value)
                | (_sought.c.state == CommandState.ACCEPTED.value)
            )
            & _sought.c.transaction_pk.is_(None)
            & (_sought.c.id_token == given["token"])
            & (_sought.c.sent_at >= given["sent_since"])
            & (
                given["evse"].is_(None)
                | _sought.c.evse_id.is_(None)
                | (_sought.c.evse_id == given["evse"])
            )
        )
        .order_by(_sought.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        (commands.c.id == func.coalesce(given["command"], latest))
        & (commands.c.charger_id == given["charger"])
        & (commands.c.name == given["command_name"])
        & commands.c.transaction_pk.is_(None)
    )


def _linking(given: Mapping[str, ColumnElement[Any]]) -> UpdateBase:
    return (
        update(commands)
        .where(_answered(given))
        .values(transaction_pk=given["transaction"], updated_at=given["linked_at"])
    )


def _linking_rows(rows: Select[Any]) -> UpdateBase:
    given = rows.subquery()
    return _linking({name: given.c[name] for name in _LINK_COLUMNS})


_LINK_ONE = DirectStatement(
    _linking({name: bindparam(name, type_=t) for name, t in _LINK_COLUMNS.items()})
)
_LINK = BlindWrite(
    "remote_start_links", _LINK_COLUMNS, dict.fromkeys(DIALECTS, _LINK_ONE), _linking_rows
)


async def link_remote_start(
    conn: AsyncConnection,
    *,
    transaction_pk: int,
    charger_id: str,
    name: str,
    command_id: int | None,
    id_token: str | None,
    evse_id: int | None,
    sent_since: datetime,
    now: datetime,
) -> None:
    """Link the transaction ``transaction_pk`` to the unlinked command ``name`` of its
    charger that it answers: ``command_id``, or else the latest sent or accepted since
    ``sent_since`` for its id token and EVSE (or for any EVSE). Made with the commit
    group's other writes, if any."""
    await write_later(
        conn,
        _LINK,
        {
            "transaction": transaction_pk,
            "linked_at": now,
            "command": command_id,
            "charger": charger_id,
            "command_name": name,
            "token": id_token,
            "evse": evse_id,
            "sent_since": sent_since,
        },
    )


async def list_page(
    conn: AsyncConnection,
    *,
    limit: int,
    offset: int,
    charger_id: str | None = None,
    state: str | None = None,
    name: str | None = None,
    transaction_pk: int | None = None,
) -> Page[Command]:
    query = select(commands)
    if charger_id is not None:
        query = query.where(commands.c.charger_id == charger_id)
    if state is not None:
        query = query.where(commands.c.state == state)
    if name is not None:
        query = query.where(commands.c.name == name)
    if transaction_pk is not None:
        query = query.where(commands.c.transaction_pk == transaction_pk)
    rows, total = await fetch_page(
        conn, query, order_by=[commands.c.id.desc()], limit=limit, offset=offset
    )
    return Page([_command(row) for row in rows], total, limit, offset)


def _command(row: Mapping[Any, Any]) -> Command:
    return Command(
        id=row["id"],
        charger_id=row["charger_id"],
        name=row["name"],
        params=row["params"],
        state=CommandState(row["state"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        updated_at=row["updated_at"],
        ocpp_version=row["ocpp_version"],
        action=row["action"],
        request=row["request"],
        response=row["response"],
        error=row["error"],
        transaction_pk=row["transaction_pk"],
        evse_id=row["evse_id"],
        connector_id=row["connector_id"],
        id_token=row["id_token"],
        requested_by=row["requested_by"],
        sent_at=row["sent_at"],
        answered_at=row["answered_at"],
    )
