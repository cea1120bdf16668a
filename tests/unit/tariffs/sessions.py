"""Builders for tariff tests: spec example tariffs and session timelines in local time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from chargegrid.tariffs import (
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    Price,
    PriceComponent,
    SessionTimeline,
    Tariff,
    TariffDimensionType,
    TariffElement,
    TariffRestrictions,
    parse_tariff,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "ocpi-2.2.1"
BERLIN = ZoneInfo("Europe/Berlin")
D = CdrDimensionType


def example_tariff(name: str) -> Tariff:
    """A tariff of the spec's examples folder, e.g. ``tariff_8_simple_025kwh``."""
    return parse_tariff((EXAMPLES / f"{name}.json").read_bytes())


def hours(minutes: int | Fraction) -> Decimal:
    """`minutes` as hours with 12 decimals (enough to bill whole seconds exactly)."""
    value = Fraction(minutes) / 60
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("1e-12"))


class Segment(msgspec.Struct, frozen=True):
    """A charging period to be: how long it lasts and what it measured."""

    minutes: Fraction
    dimensions: dict[CdrDimensionType, Decimal]


def _levels(levels: dict[str, str]) -> dict[CdrDimensionType, Decimal]:
    return {CdrDimensionType(name.upper()): Decimal(value) for name, value in levels.items()}


def charging(minutes: int | Fraction, kwh: str | None = None, **levels: str) -> Segment:
    """A period of charging: TIME, and ENERGY / MAX_CURRENT ... when given."""
    dimensions = {D.TIME: hours(minutes), **_levels(levels)}
    if kwh is not None:
        dimensions[D.ENERGY] = Decimal(kwh)
    return Segment(Fraction(minutes), dimensions)


def parking(minutes: int | Fraction) -> Segment:
    """A period with the EV connected but not requesting power."""
    return Segment(Fraction(minutes), {D.PARKING_TIME: hours(minutes)})


def reserved(minutes: int | Fraction) -> Segment:
    """Reservation time before the charging session."""
    return Segment(Fraction(minutes), {D.RESERVATION_TIME: hours(minutes)})


def energy_only(minutes: int | Fraction, kwh: str, **levels: str) -> Segment:
    """A period that only reports energy (and levels)."""
    return Segment(Fraction(minutes), {D.ENERGY: Decimal(kwh), **_levels(levels)})


def local(text: str, zone: ZoneInfo = BERLIN) -> dt.datetime:
    """``2024-03-11 09:30`` in `zone`, as UTC."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(dt.UTC)


def timeline(
    start: str,
    *segments: Segment,
    zone: ZoneInfo = BERLIN,
    reservation_expired: bool | None = None,
) -> SessionTimeline:
    """Periods one after the other from local `start`; the session ends with the last."""
    at = local(start, zone)
    periods = []
    for segment in segments:
        periods.append(
            ChargingPeriod(
                start_date_time=at,
                dimensions=tuple(
                    CdrDimension(type=kind, volume=volume)
                    for kind, volume in segment.dimensions.items()
                ),
            )
        )
        at += dt.timedelta(seconds=float(segment.minutes * 60))
    return SessionTimeline(
        start_date_time=local(start, zone),
        end_date_time=at,
        charging_periods=tuple(periods),
        reservation_expired=reservation_expired,
    )


def price(excl_vat: str, incl_vat: str | None = None) -> Price:
    """A Price from decimal strings."""
    return Price(
        excl_vat=Decimal(excl_vat), incl_vat=None if incl_vat is None else Decimal(incl_vat)
    )


def component(
    kind: TariffDimensionType, amount: str, step: int = 1, vat: str | None = None
) -> PriceComponent:
    """A price component: `amount` per kWh / hour / session, `vat` in percent."""
    return PriceComponent(
        type=kind,
        price=Decimal(amount),
        vat=None if vat is None else Decimal(vat),
        step_size=step,
    )


def element(*components: PriceComponent, **restrictions: Any) -> TariffElement:
    """A tariff element; keyword arguments are its TariffRestrictions."""
    return TariffElement(
        price_components=components,
        restrictions=TariffRestrictions(**restrictions) if restrictions else None,
    )


def tariff(*elements: TariffElement, **fields: Any) -> Tariff:
    """A EUR tariff of DE*ALL with id T unless `fields` say otherwise."""
    base: dict[str, Any] = {"country_code": "DE", "party_id": "ALL", "id": "T", "currency": "EUR"}
    return Tariff(**{**base, **fields}, elements=elements)
