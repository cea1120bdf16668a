"""A session's OCPI charging periods from what its charger reported (mod_cdrs).

A period starts at the start of the session, at every energy register reading in it and
wherever the EV starts or stops charging. Each period has:

- ``ENERGY``: the kWh the register rose by. Between two readings the energy goes to the
  time spent charging (pro rata); only when the EV was not charging at all in between
  does it go to the parking time. A register that goes back is not billed twice: what
  counts is its highest reading so far.
- ``TIME`` while charging, ``PARKING_TIME`` while not, in hours.
- ``POWER``: the average kW (its energy over its length); ``MIN_POWER``/``MAX_POWER``
  (kW) and ``MIN_CURRENT``/``MAX_CURRENT`` (A summed over the phases) from the samples
  taken in it (a sample closes the period it falls in); ``STATE_OF_CHARGE``: the last
  one reported in it.

Every figure is an OCPI number (4 decimals). Energy and times are rounded where periods
meet, not period by period, so they add up exactly to the session's totals. Readings are
taken as the decimal numbers they were written as and computed with exactly: in
``Decimal`` (no rounding: they are only compared, added and scaled by powers of ten), in
integers, and in ``Fraction`` where energy is shared out pro rata.

Charging or not: the EV is not charging in the states of ``PARKING_STATES`` (``SuspendedEV``
and ``Finishing`` of connectors; ``EVConnected``, ``SuspendedEV`` and ``Idle`` of
charging states reported with transaction events), and charging in any other (such as
``Charging`` or ``SuspendedEVSE``: an EVSE holding back is not the driver parking). A
session whose states are unknown is charging throughout.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import groupby

from chargegrid.domain.model import MeterSample, energy_register_wh
from chargegrid.tariffs import CdrDimension, CdrDimensionType, ChargingPeriod
from chargegrid.tariffs.arithmetic import ocpi_number, ocpi_ratio
from chargegrid.values import immutable

__all__ = ["PARKING_STATES", "StateChange", "charging_periods", "is_charging"]

D = CdrDimensionType
PARKING_STATES = frozenset({"SuspendedEV", "Finishing", "EVConnected", "Idle"})
POWER_IMPORT = "Power.Active.Import"
CURRENT_IMPORT = "Current.Import"
STATE_OF_CHARGE = "SoC"
_PHASES = ("L1", "L2", "L3")
_KW_SCALE = {None: -3, "W": -3, "kW": 0}  # powers of ten from the unit to kW
_MICROSECONDS_PER_HOUR = 3600 * 10**6
_MICROSECOND = dt.timedelta(microseconds=1)
_ZERO = Decimal(0)
_NO_ENERGY = ocpi_ratio(0, 1)


@immutable
class StateChange:
    """A state a charger reported for the session's connector (or charging) at ``at``."""

    at: dt.datetime
    state: str


def is_charging(state: str) -> bool:
    """Whether the EV counts as charging in ``state``."""
    return state not in PARKING_STATES


def charging_periods(
    *,
    start: dt.datetime,
    end: dt.datetime,
    samples: Iterable[MeterSample],
    states: Iterable[StateChange] = (),
    meter_start_wh: float | None = None,
    meter_stop_wh: float | None = None,
) -> tuple[ChargingPeriod, ...]:
    """The charging periods from ``start`` to ``end`` (for a running session: now).

    ``meter_start_wh`` and ``meter_stop_wh`` are the register at the start and at the
    end, when known; samples outside the session are left out, and so are energy
    readings at its very start or end when those are given.
    """
    end = max(end, start)
    samples = [s for s in samples if start <= s.sampled_at <= end]
    activity = _Activity(start, end, states)
    energy = _Energy(start, end, samples, activity, meter_start_wh, meter_stop_wh)
    cuts = {start, *energy.times, *activity.changes}
    bounds = sorted(at for at in cuts if start <= at < end) or [start]
    ends = [*bounds[1:], end]
    levels = _levels_by_period(samples, bounds)
    # Rounded where periods meet: each meeting point once.
    kwh_at = [energy.rounded_kwh_until(at) for at in (*bounds, end)]
    hours_at = [_hours(start, at) for at in (*bounds, end)]
    periods = []
    for index, (low, high) in enumerate(zip(bounds, ends, strict=True)):
        kwh = kwh_at[index + 1] - kwh_at[index]
        hours = hours_at[index + 1] - hours_at[index]
        microseconds = (high - low) // _MICROSECOND
        dimensions = [
            CdrDimension(type=D.ENERGY, volume=kwh),
            CdrDimension(
                type=D.TIME if activity.charging_at(low) else D.PARKING_TIME, volume=hours
            ),
        ]
        if microseconds:
            numerator, denominator = kwh.as_integer_ratio()
            power = ocpi_ratio(numerator * _MICROSECONDS_PER_HOUR, denominator * microseconds)
            dimensions.append(CdrDimension(type=D.POWER, volume=power))
        dimensions.extend(levels[index].dimensions())
        periods.append(ChargingPeriod(start_date_time=low, dimensions=tuple(dimensions)))
    return tuple(periods)


def _hours(start: dt.datetime, at: dt.datetime) -> Decimal:
    return ocpi_ratio((at - start) // _MICROSECOND, _MICROSECONDS_PER_HOUR)


def _exact(value: float) -> Decimal:
    """A float as the decimal number it was written as (``repr`` is the shortest)."""
    return Decimal(repr(value))


class _Activity:
    """Whether the EV was charging, from the start to the end of the session."""

    def __init__(self, start: dt.datetime, end: dt.datetime, states: Iterable[StateChange]) -> None:
        charging = True
        inside: dict[dt.datetime, bool] = {}
        for change in sorted(states, key=lambda c: c.at):  # stable: the later report wins
            if change.at <= start:
                charging = is_charging(change.state)
            elif change.at < end:
                inside[change.at] = is_charging(change.state)
        self._at = [start]
        self._charging = [charging]
        for at, now_charging in inside.items():
            if now_charging != self._charging[-1]:
                self._at.append(at)
                self._charging.append(now_charging)
        self._end = end

    @property
    def changes(self) -> list[dt.datetime]:
        return self._at[1:]

    def charging_at(self, at: dt.datetime) -> bool:
        return self._charging[bisect.bisect_right(self._at, at) - 1]

    def charging_time(self, low: dt.datetime, high: dt.datetime) -> int:
        """Microseconds spent charging between ``low`` and ``high``."""
        total = 0
        stops = [*self._at[1:], self._end]
        for begin, stop, charging in zip(self._at, stops, self._charging, strict=True):
            overlap = min(stop, high) - max(begin, low)
            if charging and overlap > dt.timedelta(0):
                total += overlap // _MICROSECOND
        return total


class _Energy:
    """The energy charged since the start, at any moment of the session (kWh)."""

    def __init__(
        self,
        start: dt.datetime,
        end: dt.datetime,
        samples: Sequence[MeterSample],
        activity: _Activity,
        meter_start_wh: float | None,
        meter_stop_wh: float | None,
    ) -> None:
        readings: dict[dt.datetime, Decimal] = {}

        def read(at: dt.datetime, wh: Decimal) -> None:
            readings[at] = max(wh, readings.get(at, wh))

        for sample in samples:
            wh = energy_register_wh(sample)
            at = sample.sampled_at
            if wh is None or (at == start and meter_start_wh is not None):
                continue
            if at == end and meter_stop_wh is not None:
                continue
            read(at, _exact(wh))
        if meter_start_wh is not None:
            read(start, _exact(meter_start_wh))
        if meter_stop_wh is not None:
            read(end, _exact(meter_stop_wh))
        self.times = sorted(readings)
        self._kwh: list[Decimal] = []
        highest: Decimal | None = None
        for at in self.times:
            highest = readings[at] if highest is None else max(highest, readings[at])
            self._kwh.append((highest - readings[self.times[0]]).scaleb(-3))
        self._activity = activity

    def rounded_kwh_until(self, at: dt.datetime) -> Decimal:
        """The energy charged from the start until ``at``, as an OCPI number."""
        times = self.times
        if not times or at <= times[0]:
            return _NO_ENERGY
        if at >= times[-1]:
            return ocpi_number(self._kwh[-1])
        after = bisect.bisect_right(times, at)
        low, high = times[after - 1], times[after]
        before = self._kwh[after - 1]
        if at == low:
            return ocpi_number(before)
        rise = Fraction(self._kwh[after] - before)
        charging = self._activity.charging_time(low, high)
        if charging:
            share = Fraction(self._activity.charging_time(low, at), charging)
        else:
            share = Fraction((at - low) // _MICROSECOND, (high - low) // _MICROSECOND)
        return ocpi_number(Fraction(before) + rise * share)


@dataclass(slots=True)
class _Levels:
    """What the samples of one period say about power, current and state of charge."""

    power: list[Decimal]
    current: list[Decimal]
    soc: Decimal | None = None

    def dimensions(self) -> list[CdrDimension]:
        found = []
        for values, low, high in (
            (self.power, D.MIN_POWER, D.MAX_POWER),
            (self.current, D.MIN_CURRENT, D.MAX_CURRENT),
        ):
            if values:
                found.append(CdrDimension(type=low, volume=ocpi_number(min(values))))
                found.append(CdrDimension(type=high, volume=ocpi_number(max(values))))
        if self.soc is not None:
            found.append(CdrDimension(type=D.STATE_OF_CHARGE, volume=ocpi_number(self.soc)))
        return found


def _levels_by_period(
    samples: Sequence[MeterSample], bounds: Sequence[dt.datetime]
) -> list[_Levels]:
    """Levels per period: a sample belongs to the period it ends (the first: from its start)."""
    levels = [_Levels(power=[], current=[]) for _ in bounds]
    timed = sorted(samples, key=lambda s: s.sampled_at)
    for at, group in groupby(timed, key=lambda s: s.sampled_at):
        taken = list(group)
        index = max(bisect.bisect_left(bounds, at) - 1, 0)
        period = levels[index]
        power = _total(taken, POWER_IMPORT, prefer_phases=False)
        if power is not None:
            period.power.append(power)
        current = _total(taken, CURRENT_IMPORT, prefer_phases=True)
        if current is not None:
            period.current.append(current)
        for sample in taken:
            value = sample.value
            if sample.measurand == STATE_OF_CHARGE and value is not None and 0 <= value <= 100:
                period.soc = _exact(value)
    return levels


def _total(taken: Sequence[MeterSample], measurand: str, *, prefer_phases: bool) -> Decimal | None:
    """One moment's total of a measurand: the unphased value or the sum over the phases.

    Power is in kW; current in A, where the phases' sum comes first (OCPI sums them).
    """
    whole: Decimal | None = None
    phases: dict[str, Decimal] = {}
    for sample in taken:
        if sample.measurand != measurand or sample.value is None:
            continue
        scale = _KW_SCALE.get(sample.unit) if measurand == POWER_IMPORT else 0
        if scale is None:
            continue
        value = _exact(sample.value).scaleb(scale)
        if sample.phase is None:
            whole = value if whole is None else whole
        elif sample.phase in _PHASES:
            phases.setdefault(sample.phase, value)
    summed = sum(phases.values(), _ZERO) if phases else None
    first, second = (summed, whole) if prefer_phases else (whole, summed)
    return first if first is not None else second
