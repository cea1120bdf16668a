"""OCPI 2.2.1 tariffs: the Tariff object, and pricing sessions with it into CDR price fields.

Pure: no I/O, no clock (times are always given), nothing from the rest of chargegrid.

    tariff = parse_tariff(tariff_json_bytes)
    timeline = parse_timeline(cdr_json_bytes)  # start, end, charging periods
    priced = price_session(tariff, "Europe/Amsterdam", timeline)
    priced.total_cost  # Price(excl_vat=Decimal('5.5000'), incl_vat=Decimal('6.1000'))
"""

from chargegrid.tariffs.cdr import (
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    ComponentCost,
    PeriodCosts,
    PricedSession,
    SessionTimeline,
    parse_timeline,
)
from chargegrid.tariffs.errors import OcpiDataError, TariffError, TimelineError
from chargegrid.tariffs.model import (
    DayOfWeek,
    DisplayText,
    EnergyMix,
    Price,
    PriceComponent,
    ReservationRestrictionType,
    Tariff,
    TariffDimensionType,
    TariffElement,
    TariffRestrictions,
    TariffType,
    encode_json,
    parse_tariff,
    tariff_json,
)
from chargegrid.tariffs.pricing import load_time_zone, price_session
from chargegrid.tariffs.sample import SampleSession

__all__ = [
    "CdrDimension",
    "CdrDimensionType",
    "ChargingPeriod",
    "ComponentCost",
    "DayOfWeek",
    "DisplayText",
    "EnergyMix",
    "OcpiDataError",
    "PeriodCosts",
    "Price",
    "PriceComponent",
    "PricedSession",
    "ReservationRestrictionType",
    "SampleSession",
    "SessionTimeline",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffError",
    "TariffRestrictions",
    "TariffType",
    "TimelineError",
    "encode_json",
    "load_time_zone",
    "parse_tariff",
    "parse_timeline",
    "price_session",
    "tariff_json",
]
