"""Locations: the sites chargers stand at."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import Location
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.tables import locations


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(locations.insert().values(**values))


_GET = DirectStatement(select(locations).where(locations.c.id == bindparam("location_id")))


async def get(conn: AsyncConnection, location_id: str) -> Location | None:
    row = await _GET.first(conn, {"location_id": location_id})
    return None if row is None else _location(row)


def _location(row: Mapping[Any, Any]) -> Location:
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
