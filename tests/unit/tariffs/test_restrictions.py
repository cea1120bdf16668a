"""TariffRestrictions at a moment: local time, wrapping windows, cumulative and instant values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from chargegrid.tariffs import DayOfWeek, TariffRestrictions
from chargegrid.tariffs.restrictions import (
    Moment,
    Readings,
    Rule,
    local_time_cuts,
    minute_marks,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def moment(
    local: str = "2024-03-11 12:00",
    elapsed: int = 0,
    kwh: str = "0",
    **readings: str,
) -> Moment:
    return Moment(
        local=dt.datetime.fromisoformat(local).replace(tzinfo=AMSTERDAM),
        elapsed=Fraction(elapsed),
        energy=Fraction(kwh),
        readings=Readings(**{name: Fraction(value) for name, value in readings.items()}),
    )


def rule(**restrictions: Any) -> Rule:
    return Rule.of(TariffRestrictions(**restrictions))


@pytest.mark.parametrize(
    ("start", "end", "inside", "outside"),
    [
        ("08:00", "20:00", ["08:00", "12:00", "19:59:59"], ["07:59", "20:00", "23:00"]),
        ("22:00", "06:00", ["22:00", "23:59", "00:00", "05:59:59"], ["06:00", "12:00", "21:59"]),
        ("17:00", "00:00", ["17:00", "23:59:59"], ["00:00", "16:59"]),  # to the end of the day
        ("00:00", "17:00", ["00:00", "16:59:59"], ["17:00", "23:59"]),
        ("09:00", "09:00", ["00:00", "09:00", "23:59"], []),  # equal: the whole day
        (None, "10:00", ["00:00", "09:59"], ["10:00", "23:59"]),
        ("10:00", None, ["10:00", "23:59"], ["00:00", "09:59"]),
        (None, "00:00", ["00:00", "12:00", "23:59"], []),
    ],
)
def test_time_windows_are_local_start_inclusive_end_exclusive(
    start: str | None, end: str | None, inside: list[str], outside: list[str]
) -> None:
    window = rule(start_time=start, end_time=end)
    for time in inside:
        assert window.matches(moment(f"2024-03-11 {time}")), time
    for time in outside:
        assert not window.matches(moment(f"2024-03-11 {time}")), time


def test_dates_are_local_start_inclusive_end_exclusive() -> None:
    christmas = rule(start_date="2015-12-24", end_date="2015-12-27")
    assert not christmas.matches(moment("2015-12-23 23:59"))
    assert christmas.matches(moment("2015-12-24 00:00"))
    assert christmas.matches(moment("2015-12-26 23:59"))
    assert not christmas.matches(moment("2015-12-27 00:00"))


def test_days_of_the_week_are_local() -> None:
    monday = rule(day_of_week=[DayOfWeek.MONDAY])
    sunday_night_utc = dt.datetime(2024, 3, 10, 23, 30, tzinfo=dt.UTC)  # Monday 00:30 local
    in_amsterdam = msgspec.structs.replace(moment(), local=sunday_night_utc.astimezone(AMSTERDAM))
    assert monday.matches(in_amsterdam)
    assert not monday.matches(msgspec.structs.replace(moment(), local=sunday_night_utc))
    weekend = rule(day_of_week=[DayOfWeek.SATURDAY, DayOfWeek.SUNDAY])
    assert weekend.matches(moment("2024-03-16 12:00"))
    assert weekend.matches(moment("2024-03-17 12:00"))
    assert not weekend.matches(moment("2024-03-18 12:00"))


def test_kwh_and_duration_are_cumulative_min_inclusive_max_exclusive() -> None:
    band = rule(min_kwh=Decimal(20), max_kwh=Decimal(50))
    assert [band.matches(moment(kwh=k)) for k in ("19.999", "20", "49.999", "50")] == [
        False,
        True,
        True,
        False,
    ]
    window = rule(min_duration=1800, max_duration=3600)
    assert [window.matches(moment(elapsed=s)) for s in (1799, 1800, 3599, 3600)] == [
        False,
        True,
        True,
        False,
    ]


def test_current_and_power_are_instantaneous_and_must_be_known() -> None:
    below_32 = rule(max_current=Decimal(32))
    assert below_32.matches(moment(peak_current="31.9", low_current="6"))
    assert not below_32.matches(moment(peak_current="32", low_current="6"))
    assert not below_32.matches(moment())  # no current reported: cannot match
    from_32 = rule(min_current=Decimal(32))
    assert from_32.matches(moment(low_current="32"))
    assert not from_32.matches(moment(low_current="31", peak_current="40"))
    band = rule(min_power=Decimal(16), max_power=Decimal(32))
    assert band.matches(moment(low_power="16", peak_power="31"))
    assert not band.matches(moment(low_power="15", peak_power="31"))
    assert not band.matches(moment(low_power="16", peak_power="32"))


def test_restrictions_are_a_logical_and() -> None:
    weekday_evening = rule(
        start_time="18:00", end_time="22:00", day_of_week=[DayOfWeek.MONDAY], max_kwh=Decimal(10)
    )
    assert weekday_evening.matches(moment("2024-03-11 19:00", kwh="5"))
    assert not weekday_evening.matches(moment("2024-03-11 19:00", kwh="10"))
    assert not weekday_evening.matches(moment("2024-03-12 19:00", kwh="5"))
    assert not weekday_evening.matches(moment("2024-03-11 17:00", kwh="5"))
    assert Rule.of(None).matches(moment())


def test_minute_marks_only_when_a_rule_reads_local_time() -> None:
    assert minute_marks([rule(max_kwh=Decimal(5))]) == frozenset()
    assert minute_marks([rule(start_time="17:00", end_time="00:00"), rule()]) == {0, 17 * 60}
    assert minute_marks([rule(day_of_week=[DayOfWeek.MONDAY])]) == {0}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_local_time_cuts_are_strictly_inside() -> None:
    cuts = local_time_cuts(utc("2024-03-11 15:00"), utc("2024-03-12 16:00"), AMSTERDAM, {0, 1020})
    assert cuts == [utc("2024-03-11 16:00"), utc("2024-03-11 23:00")]  # not 16:00 the 12th
    assert (
        local_time_cuts(utc("2024-03-11 16:00"), utc("2024-03-11 16:30"), AMSTERDAM, {1020}) == []
    )


def test_local_time_cuts_across_daylight_saving_time() -> None:
    marks = frozenset({0, 150})  # midnight and 02:30
    # Spring forward (31 March 2024, 02:00 CET -> 03:00 CEST at 01:00 UTC): 02:30 never
    # happens; the jump itself is a cut.
    spring = local_time_cuts(utc("2024-03-30 22:00"), utc("2024-03-31 03:00"), AMSTERDAM, marks)
    assert spring == [utc("2024-03-30 23:00"), utc("2024-03-31 01:00")]
    # Fall back (27 October 2024, 03:00 CEST -> 02:00 CET at 01:00 UTC): 02:30 happens twice.
    fall = local_time_cuts(utc("2024-10-26 23:00"), utc("2024-10-27 03:00"), AMSTERDAM, marks)
    assert fall == [utc("2024-10-27 00:30"), utc("2024-10-27 01:00"), utc("2024-10-27 01:30")]


def test_local_time_cuts_in_a_zone_without_daylight_saving_time() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30
    cuts = local_time_cuts(utc("2024-03-11 00:00"), utc("2024-03-12 00:00"), kolkata, {0, 720})
    assert cuts == [utc("2024-03-11 06:30"), utc("2024-03-11 18:30")]
