"""Locations: where chargers stand, with the time zone their tariffs are read in."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Location
from chargegrid.storage.repositories import locations as repo


async def create(conn: AsyncConnection, location: Location, now: datetime) -> Location:
    """Store a new location; INVALID for an unknown time zone or impossible coordinates."""
    if not location.name.strip():
        raise DomainError(ErrorKind.INVALID, "a location needs a name")
    try:
        ZoneInfo(location.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(
            ErrorKind.INVALID, f"{location.time_zone!r} is not an IANA time zone"
        ) from None
    if location.latitude is not None and not -90 <= location.latitude <= 90:
        raise DomainError(ErrorKind.INVALID, "latitude must be within -90..90")
    if location.longitude is not None and not -180 <= location.longitude <= 180:
        raise DomainError(ErrorKind.INVALID, "longitude must be within -180..180")
    if await repo.get(conn, location.id) is not None:
        raise DomainError(ErrorKind.CONFLICT, f"location {location.id!r} already exists")
    await repo.insert(
        conn,
        {
            "id": location.id,
            "name": location.name,
            "address": location.address,
            "city": location.city,
            "postal_code": location.postal_code,
            "country": location.country,
            "latitude": location.latitude,
            "longitude": location.longitude,
            "time_zone": location.time_zone,
            "created_at": now,
        },
    )
    return location


async def get(conn: AsyncConnection, location_id: str) -> Location | None:
    return await repo.get(conn, location_id)
