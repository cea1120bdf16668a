"""Locations: validation of what is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Location
from chargegrid.domain.services import locations
from chargegrid.storage.engine import Database

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SITE = Location(id="site-1", name="Depot", time_zone="Europe/Berlin", latitude=52.5, longitude=13.4)


async def test_a_location_is_stored_and_read_back(db: Database) -> None:
    async with db.begin() as conn:
        assert await locations.create(conn, SITE, NOW) == SITE
    async with db.connect() as conn:
        assert await locations.get(conn, "site-1") == SITE
        assert await locations.get(conn, "nowhere") is None


@pytest.mark.parametrize(
    ("change", "kind", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, ErrorKind.INVALID, "not an IANA time zone"),
        ({"time_zone": "../etc"}, ErrorKind.INVALID, "not an IANA time zone"),
        ({"latitude": 91.0}, ErrorKind.INVALID, "latitude"),
        ({"longitude": -181.0}, ErrorKind.INVALID, "longitude"),
        ({"name": "  "}, ErrorKind.INVALID, "needs a name"),
    ],
)
async def test_impossible_locations_are_refused(
    db: Database, change: dict[str, object], kind: ErrorKind, message: str
) -> None:
    async with db.begin() as conn:
        with pytest.raises(DomainError) as refused:
            await locations.create(conn, replace(SITE, **change), NOW)  # type: ignore[arg-type]
    assert refused.value.kind is kind
    assert message in refused.value.message


async def test_an_id_is_taken_once(db: Database) -> None:
    async with db.begin() as conn:
        await locations.create(conn, SITE, NOW)
    async with db.begin() as conn:
        with pytest.raises(DomainError) as refused:
            await locations.create(conn, replace(SITE, name="Other"), NOW)
    assert refused.value.kind is ErrorKind.CONFLICT
