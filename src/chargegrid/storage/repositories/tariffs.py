"""Tariffs, their assignment to connectors, and the copies frozen onto transactions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import tariff_assignments, tariffs, transaction_tariffs
from chargegrid.storage.upsert import insert_if_absent
from chargegrid.values import immutable


@immutable
class StoredTariff:
    """A tariff as kept: ``document`` is its OCPI JSON."""

    pk: int
    tariff_id: str
    document: str
    created_at: datetime
    updated_at: datetime


@immutable
class FrozenTariff:
    """The tariff copied onto a transaction at its start, and the last cost sent about it."""

    transaction_pk: int
    tariff_id: str
    document: str
    time_zone: str
    source: str
    frozen_at: datetime
    notified_cost: Decimal | None = None
    notified_at: datetime | None = None


async def insert_tariff(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(tariffs.insert().values(**values).returning(tariffs.c.id))
    return int(result.scalar_one())


async def update_tariff(conn: AsyncConnection, pk: int, **values: Any) -> None:
    await conn.execute(update(tariffs).where(tariffs.c.id == pk).values(**values))


async def delete_tariff(conn: AsyncConnection, pk: int) -> None:
    await conn.execute(delete(tariffs).where(tariffs.c.id == pk))


async def get_tariff(conn: AsyncConnection, tariff_id: str) -> StoredTariff | None:
    row = (
        (await conn.execute(select(tariffs).where(tariffs.c.tariff_id == tariff_id)))
        .mappings()
        .first()
    )
    return None if row is None else _tariff(row)


async def tariffs_by_id(
    conn: AsyncConnection, tariff_ids: Sequence[str]
) -> dict[str, StoredTariff]:
    rows = (
        await conn.execute(select(tariffs).where(tariffs.c.tariff_id.in_(list(tariff_ids))))
    ).mappings()
    return {row["tariff_id"]: _tariff(row) for row in rows}


async def tariffs_page(conn: AsyncConnection, *, limit: int, offset: int) -> Page[StoredTariff]:
    rows, total = await fetch_page(
        conn, select(tariffs), order_by=[tariffs.c.tariff_id], limit=limit, offset=offset
    )
    return Page([_tariff(row) for row in rows], total, limit, offset)


CHARGER_DEFAULT = 0  # EVSE and connector id of a charger's default tariffs
_ASSIGNMENTS = (
    select(tariffs)
    .join(tariff_assignments, tariff_assignments.c.tariff_pk == tariffs.c.id)
    .where(tariff_assignments.c.charger_id == bindparam("charger_id"))
    .order_by(tariff_assignments.c.position)
)
_AT_CONNECTOR = (tariff_assignments.c.evse_id == bindparam("evse_id")) & (
    tariff_assignments.c.connector_id == bindparam("connector_id")
)
_AT_DEFAULT = (tariff_assignments.c.evse_id == CHARGER_DEFAULT) & (
    tariff_assignments.c.connector_id == CHARGER_DEFAULT
)
_ASSIGNED = DirectStatement(_ASSIGNMENTS.where(_AT_CONNECTOR))
# Every new transaction reads its connector's tariffs and its charger's default ones:
# built once, run on the driver.
_ASSIGNED_OR_DEFAULT = DirectStatement(
    _ASSIGNMENTS.add_columns(tariff_assignments.c.evse_id.label("assigned_evse_id")).where(
        _AT_CONNECTOR | _AT_DEFAULT
    )
)


async def assigned_tariffs(
    conn: AsyncConnection, charger_id: str, evse_id: int, connector_id: int
) -> list[StoredTariff]:
    """The tariffs of one connector (or a charger's default), in order of preference."""
    rows = await _ASSIGNED.rows(
        conn, {"charger_id": charger_id, "evse_id": evse_id, "connector_id": connector_id}
    )
    return [_tariff(row) for row in rows]


async def assigned_with_default(
    conn: AsyncConnection, charger_id: str, evse_id: int, connector_id: int
) -> tuple[list[StoredTariff], list[StoredTariff]]:
    """The tariffs of a connector (EVSE ``evse_id`` > 0) and its charger's default, each in
    order of preference, in one round trip."""
    rows = await _ASSIGNED_OR_DEFAULT.rows(
        conn, {"charger_id": charger_id, "evse_id": evse_id, "connector_id": connector_id}
    )
    own = [_tariff(row) for row in rows if row["assigned_evse_id"] != CHARGER_DEFAULT]
    default = [_tariff(row) for row in rows if row["assigned_evse_id"] == CHARGER_DEFAULT]
    return own, default


async def tariffs_of_charger(
    conn: AsyncConnection, charger_id: str
) -> dict[tuple[int, int], list[str]]:
    """Every tariff list of a charger, by (EVSE, connector), (0, 0) being its default."""
    rows = await conn.execute(
        select(tariff_assignments.c.evse_id, tariff_assignments.c.connector_id, tariffs.c.tariff_id)
        .join(tariffs, tariff_assignments.c.tariff_pk == tariffs.c.id)
        .where(tariff_assignments.c.charger_id == charger_id)
        .order_by(
            tariff_assignments.c.evse_id,
            tariff_assignments.c.connector_id,
            tariff_assignments.c.position,
        )
    )
    found: dict[tuple[int, int], list[str]] = {}
    for evse_id, connector_id, tariff_id in rows:
        found.setdefault((evse_id, connector_id), []).append(tariff_id)
    return found


async def set_assignment(
    conn: AsyncConnection,
    charger_id: str,
    evse_id: int,
    connector_id: int,
    tariff_pks: Sequence[int],
    now: datetime,
) -> None:
    """Replace the tariffs of one connector (or the charger's default)."""
    await conn.execute(
        delete(tariff_assignments).where(
            (tariff_assignments.c.charger_id == charger_id)
            & (tariff_assignments.c.evse_id == evse_id)
            & (tariff_assignments.c.connector_id == connector_id)
        )
    )
    if tariff_pks:
        await conn.execute(
            insert(tariff_assignments),
            [
                {
                    "charger_id": charger_id,
                    "evse_id": evse_id,
                    "connector_id": connector_id,
                    "position": position,
                    "tariff_pk": pk,
                    "updated_at": now,
                }
                for position, pk in enumerate(tariff_pks)
            ],
        )


async def assignment_counts(conn: AsyncConnection, tariff_ids: Sequence[str]) -> dict[str, int]:
    """How many connectors (and charger defaults) each tariff is assigned to (one query,
    also for none)."""
    rows = await conn.execute(
        select(tariffs.c.tariff_id, func.count())
        .join(tariff_assignments, tariff_assignments.c.tariff_pk == tariffs.c.id)
        .where(tariffs.c.tariff_id.in_(list(tariff_ids)))
        .group_by(tariffs.c.tariff_id)
    )
    return {tariff_id: count for tariff_id, count in rows}


async def assignments_of(
    conn: AsyncConnection, tariff_pk: int, *, limit: int | None = None
) -> list[tuple[str, int, int]]:
    """Where a tariff is assigned: (charger, EVSE, connector); EVSE 0 is a charger default."""
    rows = await conn.execute(
        select(
            tariff_assignments.c.charger_id,
            tariff_assignments.c.evse_id,
            tariff_assignments.c.connector_id,
        )
        .where(tariff_assignments.c.tariff_pk == tariff_pk)
        .order_by(
            tariff_assignments.c.charger_id,
            tariff_assignments.c.evse_id,
            tariff_assignments.c.connector_id,
        )
        .limit(limit)
    )
    return [(row.charger_id, row.evse_id, row.connector_id) for row in rows]


async def freeze(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Copy a tariff onto a transaction; False when one was frozen onto it before."""
    return await insert_if_absent(conn, transaction_tariffs, values, key=["transaction_pk"])


_FROZEN = DirectStatement(  # a running cost and a priced transaction read it
    select(transaction_tariffs).where(
        transaction_tariffs.c.transaction_pk == bindparam("transaction_pk")
    )
)


async def frozen(conn: AsyncConnection, transaction_pk: int) -> FrozenTariff | None:
    row = await _FROZEN.first(conn, {"transaction_pk": transaction_pk})
    return None if row is None else frozen_from(row)


def frozen_from(row: Mapping[str, Any]) -> FrozenTariff:
    """A ``transaction_tariffs`` row (its columns by name) as a ``FrozenTariff``."""
    return FrozenTariff(
        transaction_pk=row["transaction_pk"],
        tariff_id=row["tariff_id"],
        document=row["document"],
        time_zone=row["time_zone"],
        source=row["source"],
        frozen_at=row["frozen_at"],
        notified_cost=row["notified_cost"],
        notified_at=row["notified_at"],
    )


async def mark_notified(
    conn: AsyncConnection,
    transaction_pk: int,
    *,
    cost: Decimal,
    previous: Decimal | None,
    now: datetime,
) -> bool:
    """Record the cost sent to the charger, unless another sender changed it meanwhile."""
    result = await conn.execute(
        update(transaction_tariffs)
        .where(
            (transaction_tariffs.c.transaction_pk == transaction_pk)
            & transaction_tariffs.c.notified_cost.is_not_distinct_from(previous)
        )
        .values(notified_cost=cost, notified_at=now)
    )
    return bool(result.rowcount)


def _tariff(row: Mapping[Any, Any]) -> StoredTariff:
    return StoredTariff(
        pk=row["id"],
        tariff_id=row["tariff_id"],
        document=row["document"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
