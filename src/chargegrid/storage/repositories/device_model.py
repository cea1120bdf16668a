"""Chargers' device models: variables of components, their attributes and characteristics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import (
    ComponentRef,
    DeviceVariable,
    VariableAttribute,
    VariableCharacteristics,
)
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import device_variable_attributes, device_variables

# The unique key of a variable; absent instances are '' and absent EVSE/connector ids 0.
_KEY = (
    "charger_id",
    "component_name",
    "component_instance",
    "evse_id",
    "connector_id",
    "variable_name",
    "variable_instance",
)
_CHARACTERISTICS = (
    "data_type",
    "unit",
    "min_limit",
    "max_limit",
    "values_list",
    "supports_monitoring",
)

Key = tuple[str, str, str, int, int, str, str]


def _key(charger_id: str, variable: DeviceVariable) -> Key:
    component = variable.component
    return (
        charger_id,
        component.name,
        component.instance or "",
        component.evse_id or 0,
        component.connector_id or 0,
        variable.name,
        variable.instance or "",
    )


async def save_variables(
    conn: AsyncConnection,
    charger_id: str,
    variables: Sequence[DeviceVariable],
    *,
    reported_at: datetime,
    now: datetime,
) -> None:
    """Upsert the variables and their attributes; an attribute already reported by a newer
    report is kept. Characteristics are replaced only when the report has them."""
    if not variables:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    rows = []
    for variable in {_key(charger_id, v): v for v in variables}.values():
        row: dict[str, Any] = dict(zip(_KEY, _key(charger_id, variable), strict=True))
        characteristics = variable.characteristics
        row.update(
            data_type=None if characteristics is None else characteristics.data_type,
            unit=None if characteristics is None else characteristics.unit,
            min_limit=None if characteristics is None else characteristics.min_limit,
            max_limit=None if characteristics is None else characteristics.max_limit,
            values_list=None if characteristics is None else characteristics.values_list,
            supports_monitoring=(
                None if characteristics is None else characteristics.supports_monitoring
            ),
            updated_at=now,
        )
        rows.append((row, characteristics is not None))
    for with_characteristics in (True, False):
        batch = [row for row, has in rows if has is with_characteristics]
        if not batch:
            continue
        statement = insert(device_variables)
        replaced = [*_CHARACTERISTICS, "updated_at"] if with_characteristics else ["updated_at"]
        statement = statement.on_conflict_do_update(
            index_elements=list(_KEY), set_={name: statement.excluded[name] for name in replaced}
        )
        await conn.execute(statement, batch)
    ids = await _ids(conn, charger_id, variables)
    attributes = {
        (ids[_key(charger_id, variable)], attribute.type): {
            "variable_id": ids[_key(charger_id, variable)],
            "type": attribute.type,
            "value": attribute.value,
            "mutability": attribute.mutability,
            "persistent": attribute.persistent,
            "constant": attribute.constant,
            "reported_at": reported_at,
            "updated_at": now,
        }
        for variable in variables
        for attribute in variable.attributes
    }
    if not attributes:
        return
    statement = insert(device_variable_attributes)
    statement = statement.on_conflict_do_update(
        index_elements=["variable_id", "type"],
        set_={
            name: statement.excluded[name]
            for name in (
                "value",
                "mutability",
                "persistent",
                "constant",
                "reported_at",
                "updated_at",
            )
        },
        where=device_variable_attributes.c.reported_at <= statement.excluded.reported_at,
    )
    await conn.execute(statement, list(attributes.values()))


async def _ids(
    conn: AsyncConnection, charger_id: str, variables: Sequence[DeviceVariable]
) -> dict[Key, int]:
    names = {v.component.name for v in variables}
    rows = await conn.execute(
        select(device_variables.c.id, *[device_variables.c[name] for name in _KEY]).where(
            (device_variables.c.charger_id == charger_id)
            & device_variables.c.component_name.in_(names)
        )
    )
    return {tuple(row[1:]): row[0] for row in rows}


async def list_page(
    conn: AsyncConnection,
    charger_id: str,
    *,
    limit: int,
    offset: int,
    component: str | None = None,
    variable: str | None = None,
    evse_id: int | None = None,
) -> Page[DeviceVariable]:
    query = select(device_variables).where(device_variables.c.charger_id == charger_id)
    if component is not None:
        query = query.where(device_variables.c.component_name == component)
    if variable is not None:
        query = query.where(device_variables.c.variable_name == variable)
    if evse_id is not None:
        query = query.where(device_variables.c.evse_id == evse_id)
    rows, total = await fetch_page(
        conn,
        query,
        order_by=[device_variables.c[name] for name in _KEY[1:]],
        limit=limit,
        offset=offset,
    )
    attributes: dict[int, list[VariableAttribute]] = {row["id"]: [] for row in rows}
    reported: dict[int, datetime] = {}
    if attributes:
        found = await conn.execute(
            select(device_variable_attributes)
            .where(device_variable_attributes.c.variable_id.in_(list(attributes)))
            .order_by(device_variable_attributes.c.variable_id, device_variable_attributes.c.type)
        )
        for attribute in found.mappings():
            attributes[attribute["variable_id"]].append(
                VariableAttribute(
                    type=attribute["type"],
                    value=attribute["value"],
                    mutability=attribute["mutability"],
                    persistent=attribute["persistent"],
                    constant=attribute["constant"],
                )
            )
            at = attribute["reported_at"]
            reported[attribute["variable_id"]] = max(at, reported.get(attribute["variable_id"], at))
    items = [_variable(row, attributes[row["id"]], reported.get(row["id"])) for row in rows]
    return Page(items, total, limit, offset)


def _variable(
    row: RowMapping, attributes: list[VariableAttribute], reported_at: datetime | None
) -> DeviceVariable:
    characteristics = None
    if row["data_type"] is not None:
        characteristics = VariableCharacteristics(
            data_type=row["data_type"],
            supports_monitoring=bool(row["supports_monitoring"]),
            unit=row["unit"],
            min_limit=row["min_limit"],
            max_limit=row["max_limit"],
            values_list=row["values_list"],
        )
    return DeviceVariable(
        component=ComponentRef(
            name=row["component_name"],
            instance=row["component_instance"] or None,
            evse_id=row["evse_id"] or None,
            connector_id=row["connector_id"] or None,
        ),
        name=row["variable_name"],
        instance=row["variable_instance"] or None,
        attributes=tuple(attributes),
        characteristics=characteristics,
        reported_at=reported_at,
        updated_at=row["updated_at"],
    )


async def save_attribute_values(
    conn: AsyncConnection,
    charger_id: str,
    variables: Sequence[DeviceVariable],
    *,
    reported_at: datetime,
    now: datetime,
) -> None:
    """Note attribute values read or set by the central system (GetVariables, SetVariables).

    Only the value changes: the variables' characteristics and the attributes' mutability,
    persistence and constancy stay as reported (unknown for a variable never reported).
    As with reports, a value already reported by a newer report is kept.
    """
    values = [v for v in variables if v.attributes]
    if not values:
        return
    # The variables themselves, without attributes or characteristics: only created if new.
    await save_variables(
        conn,
        charger_id,
        [DeviceVariable(component=v.component, name=v.name, instance=v.instance) for v in values],
        reported_at=reported_at,
        now=now,
    )
    ids = await _ids(conn, charger_id, values)
    rows = {
        (ids[_key(charger_id, variable)], attribute.type): {
            "variable_id": ids[_key(charger_id, variable)],
            "type": attribute.type,
            "value": attribute.value,
            "reported_at": reported_at,
            "updated_at": now,
        }
        for variable in values
        for attribute in variable.attributes
    }
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(device_variable_attributes)
    statement = statement.on_conflict_do_update(
        index_elements=["variable_id", "type"],
        set_={name: statement.excluded[name] for name in ("value", "reported_at", "updated_at")},
        where=device_variable_attributes.c.reported_at <= statement.excluded.reported_at,
    )
    await conn.execute(statement, list(rows.values()))
