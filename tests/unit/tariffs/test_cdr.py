"""Session timelines: parsed from CDR and Session JSON, checked, errors naming the field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from chargegrid.tariffs import CdrDimensionType, TimelineError, parse_timeline
from chargegrid.tariffs.cdr import AMOUNTS
from tests.unit.tariffs.sessions import EXAMPLES, charging, reserved, timeline

D = CdrDimensionType


def test_a_cdr_is_a_timeline() -> None:
    session = parse_timeline((EXAMPLES / "cdr_example.json").read_bytes())
    assert session.start_date_time == dt.datetime(2015, 6, 29, 21, 39, 9, tzinfo=dt.UTC)
    assert session.end_of(0) == dt.datetime(2015, 6, 29, 23, 37, 32, tzinfo=dt.UTC)
    (period,) = session.charging_periods
    assert period.volume(D.TIME) == Decimal("1.973")
    assert period.volume(D.ENERGY) is None
    assert period.tariff_id == "12"
    assert not period.is_reservation


def test_a_finished_session_is_a_timeline() -> None:
    session = parse_timeline((EXAMPLES / "session_example_2_short_finished.json").read_bytes())
    # (The example's ENERGY volumes are Wh where the spec says kWh: its "kwh" is 41.12.)
    energy = [p.volume(D.ENERGY) for p in session.charging_periods]
    assert energy == [Decimal(120), Decimal(41000), None]
    assert session.end_of(0) == session.charging_periods[1].start_date_time


def test_amounts_split_pro_rata_and_levels_do_not() -> None:
    assert {
        D.ENERGY,
        D.ENERGY_EXPORT,
        D.ENERGY_IMPORT,
        D.PARKING_TIME,
        D.RESERVATION_TIME,
        D.TIME,
    } == AMOUNTS
    assert not AMOUNTS & {D.CURRENT, D.MAX_POWER, D.MIN_CURRENT, D.POWER, D.STATE_OF_CHARGE}


def test_an_expired_reservation_is_one_without_charging_periods() -> None:
    assert timeline("2024-03-11 10:00", reserved(30)).expired_reservation
    assert not timeline("2024-03-11 10:00", reserved(30), charging(10)).expired_reservation
    assert not timeline(
        "2024-03-11 10:00", reserved(30), reservation_expired=False
    ).expired_reservation


def sample() -> dict[str, Any]:
    return {
        "start_date_time": "2024-03-11T10:00:00Z",
        "end_date_time": "2024-03-11T12:00:00Z",
        "charging_periods": [
            {
                "start_date_time": "2024-03-11T10:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 5}, {"type": "TIME", "volume": 1}],
            },
            {
                "start_date_time": "2024-03-11T11:00:00Z",
                "dimensions": [{"type": "PARKING_TIME", "volume": 1}],
            },
        ],
    }


def changed(change: Any) -> dict[str, Any]:
    raw = sample()
    change(raw)
    return raw


def first_period(**fields: Any) -> Any:
    return lambda raw: raw["charging_periods"][0].update(fields)


BAD = [
    (lambda raw: raw.update(end_date_time="2024-03-11T09:00:00Z"), "end_date_time", "before"),
    (lambda raw: raw.update(charging_periods=[]), "charging_periods", "length >= 1"),
    (
        first_period(start_date_time="2024-03-11T09:59:59Z"),
        "charging_periods[0].start_date_time",
        "before start_date_time",
    ),
    (
        first_period(start_date_time="2024-03-11T11:00:00Z"),
        "charging_periods[1].start_date_time",
        "after charging_periods[0]",
    ),
    (
        lambda raw: raw["charging_periods"][1].update(start_date_time="2024-03-11T12:00:01Z"),
        "charging_periods[1].start_date_time",
        "after end_date_time",
    ),
    (first_period(dimensions=[]), "charging_periods[0].dimensions", "length >= 1"),
    (
        first_period(dimensions=[{"type": "TIME", "volume": -1}]),
        "charging_periods[0].dimensions[0].volume",
        "duration must not be negative",
    ),
    (
        first_period(dimensions=[{"type": "STATE_OF_CHARGE", "volume": 101}]),
        "charging_periods[0].dimensions[0].volume",
        "0 to 100",
    ),
    (
        first_period(dimensions=[{"type": "ENERGY", "volume": "Infinity"}]),
        "charging_periods[0].dimensions[0].volume",
        "finite",
    ),
    (
        first_period(dimensions=[{"type": "TIME", "volume": 1}, {"type": "TIME", "volume": 1}]),
        "charging_periods[0].dimensions[1].type",
        "a second TIME",
    ),
    (
        first_period(dimensions=[{"type": "VOLTAGE", "volume": 1}]),
        "charging_periods[0].dimensions[0].type",
        "Invalid enum value",
    ),
    (
        first_period(
            dimensions=[{"type": "RESERVATION_TIME", "volume": 1}, {"type": "TIME", "volume": 1}]
        ),
        "charging_periods[0].dimensions[1].type",
        "a reservation period (RESERVATION_TIME) has no TIME",
    ),
    (
        lambda raw: raw["charging_periods"][1].update(
            dimensions=[{"type": "RESERVATION_TIME", "volume": 1}]
        ),
        "charging_periods[1]",
        "reservation time must come before the charging session",
    ),
    (lambda raw: raw.pop("end_date_time"), "end_date_time", "is required"),
    (first_period(tariff_id=""), "charging_periods[0].tariff_id", "length >= 1"),
]


@pytest.mark.parametrize(
    ("change", "path", "reason"), BAD, ids=[f"{i}-{b[1]}" for i, b in enumerate(BAD)]
)
def test_bad_timelines_are_rejected_naming_the_field(change: Any, path: str, reason: str) -> None:
    with pytest.raises(TimelineError) as caught:
        parse_timeline(json.dumps(changed(change)))
    assert (caught.value.path, reason in caught.value.reason) == (path, True)


def test_the_sample_itself_parses() -> None:
    session = parse_timeline(sample())
    assert len(session.charging_periods) == 2
    assert session.end_of(1) == dt.datetime(2024, 3, 11, 12, tzinfo=dt.UTC)
