"""Commands to chargers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Command, CommandState
from chargegrid.storage.direct import DirectStatement
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


def _remote_start_query(*, on_evse: bool) -> DirectStatement:
    condition = (
        (commands.c.charger_id == bindparam("charger_id"))
        & (commands.c.name == bindparam("name"))
        & (
            (commands.c.state == CommandState.SENT.value)
            | (commands.c.state == CommandState.ACCEPTED.value)
        )
        & commands.c.transaction_pk.is_(None)
        & (commands.c.id_token == bindparam("id_token"))
        & (commands.c.sent_at >= bindparam("sent_since"))
    )
    if on_evse:
        condition = condition & (
            commands.c.evse_id.is_(None) | (commands.c.evse_id == bindparam("evse_id"))
        )
    return DirectStatement(
        select(commands).where(condition).order_by(commands.c.id.desc()).limit(1)
    )


# Every new transaction looks for the remote start it answers: built once, on the driver.
_REMOTE_START = {on_evse: _remote_start_query(on_evse=on_evse) for on_evse in (False, True)}


async def find_remote_start(
    conn: AsyncConnection,
    *,
    charger_id: str,
    name: str,
    id_token: str,
    evse_id: int | None,
    sent_since: datetime,
) -> Command | None:
    """The latest unlinked, sent or accepted remote start that a new transaction answers."""
    values: dict[str, Any] = {
        "charger_id": charger_id,
        "name": name,
        "id_token": id_token,
        "sent_since": sent_since,
    }
    if evse_id is not None:
        values["evse_id"] = evse_id
    row = await _REMOTE_START[evse_id is not None].first(conn, values)
    return None if row is None else _command(row)


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
