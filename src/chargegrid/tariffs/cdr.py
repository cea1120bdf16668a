"""The CDR side (mod_cdrs): a session's timeline of charging periods, and its priced fields.

A `SessionTimeline` is what pricing needs from a CDR or a running Session: its start, its
end (or "now" for a session still running) and its charging periods, each ending when the
next one starts. A period with a RESERVATION_TIME dimension belongs to the reservation
that came before the charging session (mod_tariffs, TariffRestrictions `reservation`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from chargegrid.tariffs.arithmetic import check_number
from chargegrid.tariffs.errors import TimelineError, decode
from chargegrid.tariffs.model import (
    CiString36,
    Price,
    TariffDimensionType,
    utc,
)

__all__ = [
    "AMOUNTS",
    "CdrDimension",
    "CdrDimensionType",
    "ChargingPeriod",
    "ComponentCost",
    "PeriodCosts",
    "PricedSession",
    "SessionTimeline",
    "parse_timeline",
]


class CdrDimensionType(enum.StrEnum):
    """What a charging period measured (mod_cdrs, CdrDimensionType)."""

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


AMOUNTS = frozenset(
    {
        CdrDimensionType.ENERGY,
        CdrDimensionType.ENERGY_EXPORT,
        CdrDimensionType.ENERGY_IMPORT,
        CdrDimensionType.PARKING_TIME,
        CdrDimensionType.RESERVATION_TIME,
        CdrDimensionType.TIME,
    }
)
"""Dimensions that add up over time: cutting a period shares them out pro rata.

The others are levels (extremes, averages, state of charge) that a part of the period
keeps as they are.
"""

_DURATIONS = frozenset(
    {
        CdrDimensionType.PARKING_TIME,
        CdrDimensionType.RESERVATION_TIME,
        CdrDimensionType.TIME,
    }
)
_SESSION_AMOUNTS = (CdrDimensionType.ENERGY, CdrDimensionType.PARKING_TIME, CdrDimensionType.TIME)


class CdrDimension(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A measured `volume`: kWh, hours, A, kW or percent depending on `type`."""

    type: CdrDimensionType
    volume: Decimal

    def __post_init__(self) -> None:
        problem = check_number(self.volume)
        if problem is None and self.type in _DURATIONS and self.volume < 0:
            problem = "a duration must not be negative"
        if problem is None and self.type is CdrDimensionType.STATE_OF_CHARGE:
            problem = None if 0 <= self.volume <= 100 else "must be 0 to 100"
        if problem is not None:
            raise TimelineError("volume", problem)


class ChargingPeriod(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A charging period (mod_cdrs, ChargingPeriod): it ends where the next one starts."""

    start_date_time: dt.datetime
    dimensions: Annotated[tuple[CdrDimension, ...], Meta(min_length=1)]
    tariff_id: CiString36 | None = None

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "start_date_time", utc(self.start_date_time))
        seen: set[CdrDimensionType] = set()
        for index, dimension in enumerate(self.dimensions):
            if dimension.type in seen:
                raise TimelineError(f"dimensions[{index}].type", f"a second {dimension.type}")
            seen.add(dimension.type)
        if self.is_reservation:
            for index, dimension in enumerate(self.dimensions):
                if dimension.type in _SESSION_AMOUNTS and dimension.volume:
                    raise TimelineError(
                        f"dimensions[{index}].type",
                        f"a reservation period (RESERVATION_TIME) has no {dimension.type}",
                    )

    def volume(self, dimension: CdrDimensionType) -> Decimal | None:
        """The volume of `dimension`, None when the period does not report it."""
        for measured in self.dimensions:
            if measured.type is dimension:
                return measured.volume
        return None

    @property
    def is_reservation(self) -> bool:
        """Whether the period is reservation time (before the charging session)."""
        return self.volume(CdrDimensionType.RESERVATION_TIME) is not None


class SessionTimeline(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A session to price: its start and end, and its charging periods in order.

    `reservation_expired` says whether a reservation ended unused (RESERVATION_EXPIRES
    elements then apply); None infers it: expired when no period follows the reservation.
    """

    start_date_time: dt.datetime
    end_date_time: dt.datetime
    charging_periods: Annotated[tuple[ChargingPeriod, ...], Meta(min_length=1)]
    reservation_expired: bool | None = None

    def __post_init__(self) -> None:
        for name in ("start_date_time", "end_date_time"):
            msgspec.structs.force_setattr(self, name, utc(getattr(self, name)))
        if self.end_date_time < self.start_date_time:
            raise TimelineError("end_date_time", "must not be before start_date_time")
        previous = self.start_date_time
        charging = False
        for index, period in enumerate(self.charging_periods):
            path = f"charging_periods[{index}]"
            if not index and period.start_date_time < previous:
                raise TimelineError(f"{path}.start_date_time", "must not be before start_date_time")
            if index and period.start_date_time <= previous:
                raise TimelineError(
                    f"{path}.start_date_time",
                    f"must be after charging_periods[{index - 1}].start_date_time",
                )
            if period.start_date_time > self.end_date_time:
                raise TimelineError(f"{path}.start_date_time", "must not be after end_date_time")
            if period.is_reservation and charging:
                raise TimelineError(path, "reservation time must come before the charging session")
            charging = charging or not period.is_reservation
            previous = period.start_date_time

    def end_of(self, index: int) -> dt.datetime:
        """When the period at `index` ends: the next one's start, or the session's end."""
        if index + 1 < len(self.charging_periods):
            return self.charging_periods[index + 1].start_date_time
        return self.end_date_time

    @property
    def expired_reservation(self) -> bool:
        """Whether a reservation expired without a charging session."""
        if self.reservation_expired is not None:
            return self.reservation_expired
        return all(period.is_reservation for period in self.charging_periods)


def parse_timeline(data: bytes | str | Mapping[str, Any]) -> SessionTimeline:
    """A timeline from OCPI CDR or Session JSON (other fields ignored); errors name the field."""
    return decode(data, SessionTimeline, TimelineError)


class ComponentCost(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A price component as billed in one period: `volume` in kWh, hours, or 1 for FLAT.

    `volume` includes what step_size rounding added; `element` indexes `Tariff.elements`.
    """

    element: int
    type: TariffDimensionType
    price: Decimal
    vat: Decimal | None = None
    step_size: int
    volume: Decimal
    cost: Price


class PeriodCosts(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What one output charging period cost, component by component."""

    start_date_time: dt.datetime
    end_date_time: dt.datetime
    components: tuple[ComponentCost, ...] = ()


class PricedSession(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The price fields of a CDR (mod_cdrs, CDR object), plus a per-period breakdown.

    Every figure has 4 decimals. A cost field is None when no price component of its kind
    applied; `total_cost` is bounded by the tariff's min_price and max_price, the other
    costs are not. `total_time` is the wall-clock length of the charging session (after
    any reservation), `total_energy` and `total_parking_time` add up the periods.

    `charging_periods` are the input periods cut wherever an active price component
    changes, each with the tariff's id; a cut period's amounts are shared pro rata (4
    decimals), an uncut one is kept as it was. `breakdown[i]` holds what
    `charging_periods[i]` cost.
    """

    currency: str
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: Decimal
    total_energy_cost: Price | None = None
    total_time: Decimal
    total_time_cost: Price | None = None
    total_parking_time: Decimal
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    charging_periods: tuple[ChargingPeriod, ...]
    breakdown: tuple[PeriodCosts, ...] = ()

    def cdr_fields(self) -> PricedSession:
        """The same without the breakdown: only CDR fields, ready for OCPI JSON."""
        return msgspec.structs.replace(self, breakdown=())
