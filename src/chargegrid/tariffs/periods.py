"""Charging periods as exact spans of time, and the points where pricing must cut them.

Inside a period nothing is known but its totals, so a period is taken as uniform: its
amounts (energy, durations) accrue evenly over its wall-clock time and its levels
(current, power) hold throughout. A cut therefore shares the amounts out pro rata, and
the moment a kWh threshold is crossed is found by linear interpolation. Offsets within
a period are exact: rational numbers of microseconds.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from fractions import Fraction
from zoneinfo import ZoneInfo

import msgspec

from chargegrid.tariffs.cdr import AMOUNTS, CdrDimensionType, ChargingPeriod, SessionTimeline
from chargegrid.tariffs.restrictions import Moment, Readings, Rule, local_time_cuts, minute_marks

__all__ = ["Marks", "Span", "charging_start", "spans"]

MICROSECONDS = 10**6
_MICROSECOND = dt.timedelta(microseconds=1)
D = CdrDimensionType


class Marks(msgspec.Struct, frozen=True, kw_only=True):
    """Where some rule of a tariff may change: minutes of the day, seconds, kWh."""

    minutes: frozenset[int] = frozenset()
    seconds: frozenset[int] = frozenset()
    kwh: frozenset[Fraction] = frozenset()

    @classmethod
    def of(cls, rules: Iterable[Rule]) -> Marks:
        rules = list(rules)
        seconds = {s for r in rules for s in (r.min_duration, r.max_duration) if s is not None}
        kwh = {e for r in rules for e in (r.min_kwh, r.max_kwh) if e is not None}
        return cls(minutes=minute_marks(rules), seconds=frozenset(seconds), kwh=frozenset(kwh))


def _levels(period: ChargingPeriod) -> Readings:
    def first(*dimensions: CdrDimensionType) -> Fraction | None:
        for dimension in dimensions:
            volume = period.volume(dimension)
            if volume is not None:
                return Fraction(volume)
        return None

    return Readings(
        peak_current=first(D.MAX_CURRENT, D.CURRENT),
        low_current=first(D.MIN_CURRENT, D.CURRENT),
        peak_power=first(D.MAX_POWER, D.POWER),
        low_power=first(D.MIN_POWER, D.POWER),
    )


class Span(msgspec.Struct, frozen=True, kw_only=True):
    """One input charging period with its end, exact amounts and session context."""

    index: int
    period: ChargingPeriod
    start: dt.datetime
    end: dt.datetime
    reservation: bool
    session_start: dt.datetime
    """Start of the charging session, or of the reservation for reservation time."""
    energy_before: Fraction
    """kWh charged in the session before this period."""
    amounts: dict[CdrDimensionType, Fraction]
    readings: Readings

    @property
    def length(self) -> int:
        """Microseconds from start to end."""
        return (self.end - self.start) // _MICROSECOND

    def amount(self, dimension: CdrDimensionType) -> Fraction:
        return self.amounts.get(dimension, Fraction(0))

    def share(self, low: Fraction, high: Fraction) -> Fraction:
        """The part of the period's amounts that accrue between two offsets."""
        return (high - low) / self.length if self.length else Fraction(1)

    def at(self, offset: Fraction) -> dt.datetime:
        """The instant `offset` microseconds in, to the microsecond below."""
        return self.start + math.floor(offset) * _MICROSECOND

    def moment(self, offset: Fraction, zone: ZoneInfo) -> Moment:
        """The session as restrictions see it `offset` microseconds into the period.

        Local-time cuts fall on whole microseconds, so the microsecond below `offset`
        shows the same clock reading as `offset` itself.
        """
        before = (self.start - self.session_start) // _MICROSECOND
        energy = self.energy_before + self.amount(D.ENERGY) * self.share(Fraction(0), offset)
        return Moment(
            local=self.at(offset).astimezone(zone),
            elapsed=(before + offset) / MICROSECONDS,
            energy=energy,
            readings=self.readings,
        )

    def cuts(self, zone: ZoneInfo, marks: Marks) -> list[Fraction]:
        """Offsets strictly inside the period where a restriction may start or stop matching."""
        length = self.length
        found = {
            Fraction((instant - self.start) // _MICROSECOND)
            for instant in local_time_cuts(self.start, self.end, zone, marks.minutes)
        }
        since = (self.start - self.session_start) // _MICROSECOND
        found.update(Fraction(s * MICROSECONDS - since) for s in marks.seconds)
        energy = self.amount(D.ENERGY)
        if energy:
            found.update((kwh - self.energy_before) / energy * length for kwh in marks.kwh)
        return sorted(offset for offset in found if 0 < offset < length)


def charging_start(timeline: SessionTimeline) -> dt.datetime | None:
    """When the charging session started: after any reservation; None if it never did."""
    if not timeline.charging_periods[0].is_reservation:
        return timeline.start_date_time
    for period in timeline.charging_periods:
        if not period.is_reservation:
            return period.start_date_time
    return None


def spans(timeline: SessionTimeline) -> list[Span]:
    """The timeline's periods as spans, in order."""
    started = charging_start(timeline)
    energy = Fraction(0)
    found: list[Span] = []
    for index, period in enumerate(timeline.charging_periods):
        amounts = {
            dimension.type: Fraction(dimension.volume)
            for dimension in period.dimensions
            if dimension.type in AMOUNTS
        }
        reservation = period.is_reservation
        found.append(
            Span(
                index=index,
                period=period,
                start=period.start_date_time,
                end=timeline.end_of(index),
                reservation=reservation,
                session_start=timeline.start_date_time
                if reservation or started is None
                else started,
                energy_before=energy,
                amounts=amounts,
                readings=_levels(period),
            )
        )
        energy += amounts.get(D.ENERGY, Fraction(0))
    return found
