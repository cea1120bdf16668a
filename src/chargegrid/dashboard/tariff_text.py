"""A tariff in words for its page: each element's prices and when it applies."""

from __future__ import annotations

from decimal import Decimal

from chargegrid.tariffs import PriceComponent, Tariff, TariffDimensionType, TariffRestrictions
from chargegrid.values import immutable

_PER = {
    TariffDimensionType.ENERGY: "per kWh",
    TariffDimensionType.TIME: "per hour charging",
    TariffDimensionType.PARKING_TIME: "per hour parked",
    TariffDimensionType.FLAT: "per session",
}
_STEP_UNIT = {TariffDimensionType.ENERGY: "Wh", TariffDimensionType.FLAT: ""}


@immutable
class ElementText:
    """One tariff element: its prices, and the conditions under which it applies."""

    prices: tuple[str, ...]
    conditions: tuple[str, ...]  # empty: always


def elements_of(tariff: Tariff) -> list[ElementText]:
    return [
        ElementText(
            prices=tuple(price_text(c, tariff.currency) for c in element.price_components),
            conditions=conditions(element.restrictions),
        )
        for element in tariff.elements
    ]


def price_text(component: PriceComponent, currency: str) -> str:
    """E.g. ``0.35 EUR per kWh, 21% VAT, billed per 1 Wh``."""
    parts = [f"{_plain(component.price)} {currency} {_PER[component.type]}"]
    parts.append("VAT not given" if component.vat is None else f"{_plain(component.vat)}% VAT")
    if component.type is not TariffDimensionType.FLAT and component.step_size > 1:
        unit = _STEP_UNIT.get(component.type, "s")
        parts.append(f"billed per {component.step_size} {unit}")
    return ", ".join(parts)


def conditions(restrictions: TariffRestrictions | None) -> tuple[str, ...]:
    """The element's restrictions in words; times are the location's local time."""
    if restrictions is None:
        return ()
    r = restrictions
    found: list[str] = []
    if r.start_time or r.end_time:
        found.append(f"from {r.start_time or '00:00'} to {r.end_time or '24:00'} local time")
    dates = [f"from {r.start_date}"] if r.start_date else []
    dates += [f"until before {r.end_date}"] if r.end_date else []
    if dates:
        found.append("on days " + " ".join(dates))
    if r.day_of_week:
        found.append("on " + ", ".join(day.value.capitalize() for day in r.day_of_week))
    for low, high, unit, what in (
        (r.min_kwh, r.max_kwh, "kWh", "energy charged"),
        (r.min_current, r.max_current, "A", "current"),
        (r.min_power, r.max_power, "kW", "power"),
    ):
        found.extend(_range(low, high, unit, what))
    low_s, high_s = r.min_duration, r.max_duration
    found.extend(
        _range(
            None if low_s is None else Decimal(low_s) / 60,
            None if high_s is None else Decimal(high_s) / 60,
            "min",
            "session length",
        )
    )
    if r.reservation is not None:
        found.append(f"reservation ({r.reservation.value})")
    return tuple(found)


def _range(low: Decimal | None, high: Decimal | None, unit: str, what: str) -> list[str]:
    if low is not None and high is not None:
        return [f"{what} from {_plain(low)} to below {_plain(high)} {unit}"]
    if low is not None:
        return [f"{what} at least {_plain(low)} {unit}"]
    if high is not None:
        return [f"{what} below {_plain(high)} {unit}"]
    return []


def _plain(number: Decimal) -> str:
    """A number without trailing zeros or an exponent: 0.35, 21, 1.5."""
    return format(number.normalize(), "f")
