"""``UTCDateTime`` on both engines: naive values refused, instants kept, UTC back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.exc import StatementError

from chargegrid.storage.engine import Database
from chargegrid.storage.tables import chargers, locations
from chargegrid.storage.types import NaiveDatetimeError, UTCDateTime

KOLKATA = timezone(timedelta(hours=5, minutes=30))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


async def test_naive_datetime_is_rejected(db: Database) -> None:
    naive = datetime(2025, 3, 1, 12, 0, 0)
    with pytest.raises(StatementError) as caught:
        async with db.begin() as connection:
            await connection.execute(
                insert(locations).values(id="L1", name="Depot", created_at=naive)
            )
    assert isinstance(caught.value.orig, NaiveDatetimeError)
    assert isinstance(caught.value.__cause__, NaiveDatetimeError)
    async with db.connect() as connection:
        assert (await connection.execute(select(locations.c.id))).all() == []


async def test_aware_datetime_round_trips_as_utc(db: Database) -> None:
    local = datetime(2025, 3, 1, 12, 34, 56, 789_012, tzinfo=KOLKATA)
    async with db.begin() as connection:
        await connection.execute(insert(locations).values(id="L1", name="Depot", created_at=local))
    async with db.connect() as connection:
        stored = (await connection.execute(select(locations.c.created_at))).scalar_one()
    assert stored == local  # the same instant
    assert stored.utcoffset() == timedelta(0)
    assert stored.tzinfo is not None
    assert stored.replace(tzinfo=None) == datetime(2025, 3, 1, 7, 4, 56, 789_012)


async def test_ordering_is_chronological_across_offsets(db: Database) -> None:
    # Wall-clock order (a, b, c) is the reverse of the instants' order.
    values = {
        "a": datetime(2025, 1, 1, 9, 0, tzinfo=KOLKATA),  # 03:30 UTC
        "b": datetime(2025, 1, 1, 8, 0, tzinfo=UTC),  # 08:00 UTC
        "c": datetime(2025, 1, 1, 7, 0, tzinfo=NEW_YORK_WINTER),  # 12:00 UTC
        "d": datetime(2025, 1, 1, 5, 0, tzinfo=NEW_YORK_WINTER),  # 10:00 UTC
    }
    async with db.begin() as connection:
        for key, value in values.items():
            await connection.execute(insert(locations).values(id=key, name=key, created_at=value))
    async with db.connect() as connection:
        ordered = (
            await connection.execute(select(locations.c.id).order_by(locations.c.created_at))
        ).scalars()
        assert list(ordered) == ["a", "b", "d", "c"]
        later = (
            await connection.execute(
                select(locations.c.id)
                .where(locations.c.created_at > datetime(2025, 1, 1, 9, 0, tzinfo=UTC))
                .order_by(locations.c.id)
            )
        ).scalars()
        assert list(later) == ["c", "d"]


async def test_null_stays_null(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.begin() as connection:
        await connection.execute(
            insert(chargers).values(id="CP1", created_at=now, updated_at=now, last_boot_at=None)
        )
    async with db.connect() as connection:
        row = (
            await connection.execute(select(chargers.c.last_boot_at, chargers.c.created_at))
        ).one()
    assert row.last_boot_at is None
    assert row.created_at == now


def test_utc_values_pass_as_they_are_and_others_become_utc() -> None:
    column = UTCDateTime()
    postgres = create_engine("postgresql+psycopg://").dialect  # not connected
    lite = create_engine("sqlite://").dialect
    utc = datetime(2025, 3, 1, 7, 4, 56, tzinfo=UTC)
    local = utc.astimezone(KOLKATA)
    assert column.process_bind_param(utc, postgres) is utc
    assert column.process_result_value(utc, postgres) is utc
    for converted in (
        column.process_bind_param(local, postgres),
        column.process_result_value(local, postgres),
    ):
        assert converted == utc
        assert converted.tzinfo is UTC
    assert column.process_bind_param(local, lite) == utc.replace(tzinfo=None)
    assert column.process_result_value(utc.replace(tzinfo=None), lite) == utc
    with pytest.raises(NaiveDatetimeError):
        column.process_bind_param(utc.replace(tzinfo=None), postgres)
