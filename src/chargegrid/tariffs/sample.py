"""A sample session to preview a tariff with: charging at a steady power, then parking.

An operator checks what a tariff costs for a typical visit before assigning it; the
session is described by when it starts (in the location's local time), how long the car
charges and at what power, and how long it then stays parked.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec

from chargegrid.tariffs.cdr import CdrDimension, CdrDimensionType, ChargingPeriod, SessionTimeline
from chargegrid.tariffs.errors import TimelineError
from chargegrid.tariffs.pricing import load_time_zone

__all__ = ["SampleSession"]

_HOUR = Decimal(3600)


class SampleSession(msgspec.Struct, frozen=True, kw_only=True):
    """``start`` is a local time (no offset) in ``time_zone``; ``power_kw`` is steady."""

    start: dt.datetime
    time_zone: str
    charging: dt.timedelta
    power_kw: Decimal
    parking: dt.timedelta = dt.timedelta(0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None:
            raise TimelineError("start", "is a local time, without an offset")
        if self.charging <= dt.timedelta(0):
            raise TimelineError("charging", "must be longer than 0")
        if self.parking < dt.timedelta(0):
            raise TimelineError("parking", "must not be negative")
        if not self.power_kw.is_finite() or self.power_kw < 0:
            raise TimelineError("power_kw", "must be a number of at least 0")

    @property
    def energy_kwh(self) -> Decimal:
        hours = Decimal(self.charging.total_seconds()) / _HOUR
        return (self.power_kw * hours).quantize(Decimal("0.0001"))

    def timeline(self) -> SessionTimeline:
        """The session as OCPI charging periods: one charging, then one parking if any."""
        start = self.start.replace(tzinfo=load_time_zone(self.time_zone)).astimezone(dt.UTC)
        parked_at = start + self.charging
        charging = ChargingPeriod(
            start_date_time=start,
            dimensions=(
                CdrDimension(type=CdrDimensionType.ENERGY, volume=self.energy_kwh),
                CdrDimension(type=CdrDimensionType.TIME, volume=_hours(self.charging)),
                CdrDimension(type=CdrDimensionType.MAX_POWER, volume=self.power_kw),
                CdrDimension(type=CdrDimensionType.MIN_POWER, volume=self.power_kw),
            ),
        )
        periods = [charging]
        if self.parking:
            periods.append(
                ChargingPeriod(
                    start_date_time=parked_at,
                    dimensions=(
                        CdrDimension(
                            type=CdrDimensionType.PARKING_TIME, volume=_hours(self.parking)
                        ),
                    ),
                )
            )
        return SessionTimeline(
            start_date_time=start,
            end_date_time=parked_at + self.parking,
            charging_periods=tuple(periods),
        )


def _hours(length: dt.timedelta) -> Decimal:
    return Decimal(length.total_seconds()) / _HOUR
