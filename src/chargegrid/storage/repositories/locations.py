"""Locations: the sites chargers stand at."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Location
from chargegrid.storage.tables import locations


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(locations.insert().values(**values))


async def get(conn: AsyncConnection, location_id: str) -> Location | None:
    row = (
        (await conn.execute(select(locations).where(locations.c.id == location_id)))
        .mappings()
        .first()
    )
    return None if row is None else _location(row)


def _location(row: RowMapping) -> Location:
    return Location(
        id=row["id"],
        name=row["name"],
        time_zone=row["time_zone"],
        address=row["address"],
        city=row["city"],
        postal_code=row["postal_code"],
        country=row["country"],
        latitude=row["latitude"],
        longitude=row["longitude"],
    )
