"""The OCPI 2.2.1 Tariff object (mod_tariffs) as frozen msgspec Structs, parsed and encoded.

Parsing checks the spec's types, cardinalities, lengths and patterns, plus the rules that
make a tariff priceable (non-negative prices, min below max, reservation elements with
FLAT and TIME only); a failure is a `TariffError` naming the field path.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from chargegrid.tariffs.arithmetic import check_number
from chargegrid.tariffs.errors import TariffError, decode

__all__ = [
    "DayOfWeek",
    "DisplayText",
    "EnergyMix",
    "EnergySource",
    "EnergySourceCategory",
    "EnvironmentalImpact",
    "EnvironmentalImpactCategory",
    "Price",
    "PriceComponent",
    "ReservationRestrictionType",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
    "encode_json",
    "parse_tariff",
    "tariff_json",
    "utc",
]

_TIME = r"^([0-1][0-9]|2[0-3]):[0-5][0-9]\Z"
_DATE = r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\Z"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")

CiString2 = Annotated[str, Meta(pattern=r"^[A-Za-z]{2}\Z")]
CiString3 = Annotated[str, Meta(pattern=r"^[A-Za-z0-9]{3}\Z")]
CiString36 = Annotated[str, Meta(min_length=1, max_length=36, pattern=r"^[\x20-\x7e]*\Z")]
TimeOfDay = Annotated[str, Meta(pattern=_TIME)]
Date = Annotated[str, Meta(pattern=_DATE)]

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def encode_json(value: object) -> bytes:
    """OCPI JSON: Decimals as JSON numbers, DateTimes in UTC with ``Z``."""
    return _ENCODER.encode(value)


def utc(value: dt.datetime) -> dt.datetime:
    """An OCPI DateTime in UTC: one without a designator is UTC already (types, DateTime)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _check(path: str, value: Decimal | None, *, minimum: Decimal | None = None) -> None:
    if value is None:
        return
    problem = check_number(value)
    if problem is None and minimum is not None and value < minimum:
        problem = f"must not be below {minimum}"
    if problem is not None:
        raise TariffError(path, problem)


def _check_range(low_name: str, low: Any, high_name: str, high: Any) -> None:
    if low is not None and high is not None and high <= low:
        raise TariffError(high_name, f"must be above {low_name} ({low}): nothing would match")


class TariffDimensionType(enum.StrEnum):
    """What a price component prices (mod_tariffs, TariffDimensionType)."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class TariffType(enum.StrEnum):
    """The sessions a tariff is meant for (mod_tariffs, TariffType)."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class DayOfWeek(enum.StrEnum):
    """A day of the week; `number` is Python's `date.weekday()`."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @property
    def number(self) -> int:
        return list(DayOfWeek).index(self)


class ReservationRestrictionType(enum.StrEnum):
    """Reservation costs: of a reservation, or of one that expired unused."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class EnergySourceCategory(enum.StrEnum):
    """Kinds of energy source (mod_locations, EnergySourceCategory)."""

    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(enum.StrEnum):
    """Kinds of environmental impact (mod_locations, EnvironmentalImpactCategory)."""

    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


class Price(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An amount with and without VAT; `incl_vat` None means unknown (types, Price)."""

    excl_vat: Decimal
    incl_vat: Decimal | None = None

    def __post_init__(self) -> None:
        _check("excl_vat", self.excl_vat)
        _check("incl_vat", self.incl_vat)


class DisplayText(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A text in one language (types, DisplayText)."""

    language: Annotated[str, Meta(min_length=2, max_length=2)]
    text: Annotated[str, Meta(max_length=512)]


class EnergySource(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The percentage of one source in the energy mix."""

    source: EnergySourceCategory
    percentage: Decimal

    def __post_init__(self) -> None:
        _check("percentage", self.percentage, minimum=Decimal(0))
        if self.percentage > 100:
            raise TariffError("percentage", "must not be above 100")


class EnvironmentalImpact(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Grams per kWh of one kind of waste or emission."""

    category: EnvironmentalImpactCategory
    amount: Decimal

    def __post_init__(self) -> None:
        _check("amount", self.amount, minimum=Decimal(0))


class EnergyMix(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The energy supplied with the tariff (mod_locations, EnergyMix)."""

    is_green_energy: bool
    energy_sources: tuple[EnergySource, ...] = ()
    environ_impact: tuple[EnvironmentalImpact, ...] = ()
    supplier_name: Annotated[str, Meta(max_length=64)] | None = None
    energy_product_name: Annotated[str, Meta(max_length=64)] | None = None


class PriceComponent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """How one dimension is priced: `price` per unit excl. VAT, `vat` in percent.

    `vat` None means no VAT is given, which is not 0 %: amounts including VAT are then
    unknown. `step_size` is in Wh (ENERGY) or seconds (TIME, PARKING_TIME); 0 bills the
    exact amount.
    """

    type: TariffDimensionType
    price: Decimal
    vat: Decimal | None = None
    step_size: Annotated[int, Meta(ge=0)]

    def __post_init__(self) -> None:
        _check("price", self.price, minimum=Decimal(0))
        _check("vat", self.vat, minimum=Decimal(0))


class TariffRestrictions(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """When a tariff element applies; all given restrictions must match (logical AND)."""

    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: Date | None = None
    end_date: Date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: Annotated[int, Meta(ge=0)] | None = None
    max_duration: Annotated[int, Meta(ge=0)] | None = None
    day_of_week: tuple[DayOfWeek, ...] = ()
    reservation: ReservationRestrictionType | None = None

    def __post_init__(self) -> None:
        for name in ("start_date", "end_date"):
            text = getattr(self, name)
            if text is not None:
                try:
                    dt.date.fromisoformat(text)
                except ValueError:
                    raise TariffError(name, f"{text!r} is not a date") from None
        for name in ("kwh", "current", "power"):
            low, high = getattr(self, f"min_{name}"), getattr(self, f"max_{name}")
            _check(f"min_{name}", low, minimum=Decimal(0))
            _check(f"max_{name}", high, minimum=Decimal(0))
            _check_range(f"min_{name}", low, f"max_{name}", high)
        _check_range("min_duration", self.min_duration, "max_duration", self.max_duration)
        _check_range("start_date", self.start_date, "end_date", self.end_date)

    @property
    def start_day(self) -> dt.date | None:
        return None if self.start_date is None else dt.date.fromisoformat(self.start_date)

    @property
    def end_day(self) -> dt.date | None:
        return None if self.end_date is None else dt.date.fromisoformat(self.end_date)


_RESERVATION_DIMENSIONS = frozenset({TariffDimensionType.FLAT, TariffDimensionType.TIME})


class TariffElement(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Price components that share restrictions; looked up per dimension, in list order."""

    price_components: Annotated[tuple[PriceComponent, ...], Meta(min_length=1)]
    restrictions: TariffRestrictions | None = None

    def __post_init__(self) -> None:
        seen: set[TariffDimensionType] = set()
        reservation = self.restrictions is not None and self.restrictions.reservation
        for index, component in enumerate(self.price_components):
            path = f"price_components[{index}].type"
            if component.type in seen:
                raise TariffError(path, f"a second {component.type} component in one element")
            seen.add(component.type)
            if reservation and component.type not in _RESERVATION_DIMENSIONS:
                raise TariffError(
                    path, f"a reservation element prices FLAT and TIME only, not {component.type}"
                )

    def component(self, dimension: TariffDimensionType) -> PriceComponent | None:
        """This element's component for `dimension`, if any."""
        for component in self.price_components:
            if component.type is dimension:
                return component
        return None


class Tariff(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An OCPI 2.2.1 Tariff.

    `last_updated` is required by the spec, yet its own PUT example leaves it out, so a
    tariff without it still parses; receivers that insist on it check it themselves.
    """

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}\Z")]
    type: TariffType | None = None
    tariff_alt_text: tuple[DisplayText, ...] = ()
    tariff_alt_url: Annotated[str, Meta(min_length=1, max_length=255)] | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: Annotated[tuple[TariffElement, ...], Meta(min_length=1)]
    start_date_time: dt.datetime | None = None
    end_date_time: dt.datetime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: dt.datetime | None = None

    def __post_init__(self) -> None:
        for name in ("start_date_time", "end_date_time", "last_updated"):
            value = getattr(self, name)
            if value is not None:
                msgspec.structs.force_setattr(self, name, utc(value))
        for name in ("min_price", "max_price"):
            price: Price | None = getattr(self, name)
            if price is None:
                continue
            _check(f"{name}.excl_vat", price.excl_vat, minimum=Decimal(0))
            if price.incl_vat is not None and price.incl_vat < price.excl_vat:
                raise TariffError(f"{name}.incl_vat", "must not be below excl_vat")
        if self.min_price is not None and self.max_price is not None:
            low, high = self.min_price, self.max_price
            if high.excl_vat < low.excl_vat:
                raise TariffError("max_price.excl_vat", "must not be below min_price.excl_vat")
            if (
                low.incl_vat is not None
                and high.incl_vat is not None
                and high.incl_vat < low.incl_vat
            ):
                raise TariffError("max_price.incl_vat", "must not be below min_price.incl_vat")
        _check_range("start_date_time", self.start_date_time, "end_date_time", self.end_date_time)
        if self.tariff_alt_url is not None and not _PRINTABLE_ASCII.fullmatch(self.tariff_alt_url):
            raise TariffError("tariff_alt_url", "must be a URL of printable ASCII characters")

    def is_active(self, at: dt.datetime) -> bool:
        """Whether the tariff is valid at `at` (start and end both inclusive)."""
        at = utc(at)
        if self.start_date_time is not None and at < self.start_date_time:
            return False
        return self.end_date_time is None or at <= self.end_date_time


def parse_tariff(data: bytes | str | Mapping[str, Any]) -> Tariff:
    """A Tariff from OCPI JSON text or its decoded form; `TariffError` names the bad field."""
    return decode(data, Tariff, TariffError)


def tariff_json(tariff: Tariff) -> bytes:
    """The tariff as OCPI JSON (unset optional fields left out)."""
    return encode_json(tariff)
