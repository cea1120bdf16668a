"""TariffRestrictions evaluated at one moment of a session (mod_tariffs, TariffRestrictions).

Times, dates and days of the week are read in the location's local time; a time window
whose end is not after its start wraps past midnight (so ``17:00``-``00:00`` runs to the
end of the day and equal times cover the whole day); end times and dates are exclusive.
kWh and durations count from the start of the session (or of the reservation) to the
moment. Current and power are instantaneous: a charging period's MAX_CURRENT / MAX_POWER
must stay below a ``max_`` restriction and its MIN_CURRENT / MIN_POWER reach a ``min_``
one (CURRENT / POWER stand in for both when the extremes are missing); a restriction on
a value the period does not report does not match.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import msgspec

from chargegrid.tariffs.model import TariffRestrictions

__all__ = ["Moment", "Readings", "Rule", "local_time_cuts", "minute_marks"]

_DAY = 24 * 60
_PROBE = dt.timedelta(hours=6)
_MICROSECOND = dt.timedelta(microseconds=1)


class Readings(msgspec.Struct, frozen=True, kw_only=True):
    """Instantaneous values of a charging period: A summed over phases, kW."""

    peak_current: Fraction | None = None
    low_current: Fraction | None = None
    peak_power: Fraction | None = None
    low_power: Fraction | None = None


class Moment(msgspec.Struct, frozen=True, kw_only=True):
    """What restrictions look at, at one instant of a session."""

    local: dt.datetime
    elapsed: Fraction
    """Seconds since the charging session (or the reservation) started."""
    energy: Fraction
    """kWh charged since the session started."""
    readings: Readings


def _minute(text: str | None) -> int | None:
    return None if text is None else int(text[:2]) * 60 + int(text[3:])


def _exact(value: Decimal | None) -> Fraction | None:
    return None if value is None else Fraction(value)


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """A tariff element's restrictions, compiled for evaluation (None: no restriction)."""

    start_minute: int | None = None
    end_minute: int | None = None
    start_day: dt.date | None = None
    end_day: dt.date | None = None
    weekdays: frozenset[int] = frozenset()
    min_kwh: Fraction | None = None
    max_kwh: Fraction | None = None
    min_current: Fraction | None = None
    max_current: Fraction | None = None
    min_power: Fraction | None = None
    max_power: Fraction | None = None
    min_duration: int | None = None
    max_duration: int | None = None

    @classmethod
    def of(cls, restrictions: TariffRestrictions | None) -> Rule:
        """The rule of an element's restrictions (the reservation kind is handled apart)."""
        if restrictions is None:
            return cls()
        r = restrictions
        return cls(
            start_minute=_minute(r.start_time),
            end_minute=_minute(r.end_time),
            start_day=r.start_day,
            end_day=r.end_day,
            weekdays=frozenset(day.number for day in r.day_of_week),
            min_kwh=_exact(r.min_kwh),
            max_kwh=_exact(r.max_kwh),
            min_current=_exact(r.min_current),
            max_current=_exact(r.max_current),
            min_power=_exact(r.min_power),
            max_power=_exact(r.max_power),
            min_duration=r.min_duration,
            max_duration=r.max_duration,
        )

    @property
    def uses_local_time(self) -> bool:
        """Whether the rule reads the clock or the calendar."""
        return bool(
            self.start_minute is not None
            or self.end_minute is not None
            or self.start_day is not None
            or self.end_day is not None
            or self.weekdays
        )

    def matches(self, moment: Moment) -> bool:
        """Whether every restriction holds at `moment`."""
        return (
            self._local_time(moment.local)
            and _at_least(moment.energy, self.min_kwh)
            and _below(moment.energy, self.max_kwh)
            and _at_least(moment.elapsed, self.min_duration)
            and _below(moment.elapsed, self.max_duration)
            and _known_at_least(moment.readings.low_current, self.min_current)
            and _known_below(moment.readings.peak_current, self.max_current)
            and _known_at_least(moment.readings.low_power, self.min_power)
            and _known_below(moment.readings.peak_power, self.max_power)
        )

    def _local_time(self, local: dt.datetime) -> bool:
        day = local.date()
        if self.start_day is not None and day < self.start_day:
            return False
        if self.end_day is not None and day >= self.end_day:
            return False
        if self.weekdays and day.weekday() not in self.weekdays:
            return False
        if self.start_minute is None and self.end_minute is None:
            return True
        minute = local.hour * 60 + local.minute  # bounds are whole minutes
        start = 0 if self.start_minute is None else self.start_minute
        end = _DAY if self.end_minute is None else self.end_minute
        if start < end:
            return start <= minute < end
        return minute >= start or minute < end  # wraps past midnight


def _at_least(value: Fraction, bound: Fraction | int | None) -> bool:
    return bound is None or value >= bound


def _below(value: Fraction, bound: Fraction | int | None) -> bool:
    return bound is None or value < bound


def _known_at_least(value: Fraction | None, bound: Fraction | None) -> bool:
    return bound is None or (value is not None and value >= bound)


def _known_below(value: Fraction | None, bound: Fraction | None) -> bool:
    return bound is None or (value is not None and value < bound)


def minute_marks(rules: Iterable[Rule]) -> frozenset[int]:
    """Minutes of the day where some rule may change: midnight and every start/end time.

    Empty when no rule reads local time.
    """
    marks = {0}
    local = False
    for rule in rules:
        local = local or rule.uses_local_time
        marks.update(m for m in (rule.start_minute, rule.end_minute) if m is not None)
    return frozenset(marks) if local else frozenset()


def local_time_cuts(
    start: dt.datetime, end: dt.datetime, zone: ZoneInfo, marks: Collection[int]
) -> list[dt.datetime]:
    """UTC instants strictly between `start` and `end` where local time reaches a mark.

    The zone's offset changes (daylight saving time) are cuts too: local time jumps there.
    """
    if not marks:
        return []
    cuts: list[dt.datetime] = []
    segment_start = start
    for change in [*_offset_changes(start, end, zone), end]:
        offset = segment_start.astimezone(zone).utcoffset() or dt.timedelta()
        first_day = (segment_start + offset).date()
        last_day = (change + offset).date()
        day = first_day
        while day <= last_day:
            for mark in marks:
                wall = dt.datetime.combine(day, dt.time(mark // 60, mark % 60), tzinfo=dt.UTC)
                instant = wall - offset
                if segment_start < instant < change:
                    cuts.append(instant)
            day += dt.timedelta(days=1)
        if change < end:
            cuts.append(change)
        segment_start = change
    return sorted(set(cuts))


def _offset_changes(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> Iterator[dt.datetime]:
    """Instants in (start, end) where the zone's UTC offset changes, to the microsecond."""

    def offset(at: dt.datetime) -> dt.timedelta | None:
        return at.astimezone(zone).utcoffset()

    low = start
    while low < end:
        high = min(low + _PROBE, end)
        before = offset(low)
        if offset(high) == before:
            low = high
            continue
        while high - low > _MICROSECOND:  # offset(low) == before != offset(high)
            middle = low + (high - low) / 2
            if offset(middle) == before:
                low = middle
            else:
                high = middle
        if high < end:
            yield high
        low = high
