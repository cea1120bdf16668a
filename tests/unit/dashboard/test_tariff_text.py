"""A tariff in words: prices with their unit and VAT, restrictions as conditions."""

from __future__ import annotations

from decimal import Decimal

from chargegrid.dashboard.routes.overview import by_currency
from chargegrid.dashboard.tariff_text import conditions, elements_of
from chargegrid.tariffs import parse_tariff

TARIFF = parse_tariff(
    {
        "country_code": "NL",
        "party_id": "CGR",
        "id": "T",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [
                    {"type": "ENERGY", "price": "0.350", "vat": 21, "step_size": 100},
                    {"type": "TIME", "price": 2, "step_size": 300},
                ],
                "restrictions": {
                    "start_time": "22:00",
                    "end_time": "06:00",
                    "day_of_week": ["SATURDAY", "SUNDAY"],
                    "min_kwh": 5,
                    "max_power": 22,
                    "min_current": 6,
                    "min_duration": 1800,
                    "max_duration": 7200,
                    "start_date": "2026-01-01",
                },
            },
            {"price_components": [{"type": "FLAT", "price": 1, "vat": 9, "step_size": 1}]},
            {
                "price_components": [{"type": "FLAT", "price": 5, "vat": 21, "step_size": 1}],
                "restrictions": {"reservation": "RESERVATION"},
            },
        ],
    }
)


def test_prices_read_with_their_unit_vat_and_step() -> None:
    first, flat, reservation = elements_of(TARIFF)
    assert first.prices == (
        "0.35 EUR per kWh, 21% VAT, billed per 100 Wh",
        "2 EUR per hour charging, VAT not given, billed per 300 s",
    )
    assert flat.prices == ("1 EUR per session, 9% VAT",)
    assert flat.conditions == ()
    assert reservation.conditions == ("reservation (RESERVATION)",)


def test_every_restriction_becomes_a_condition() -> None:
    assert conditions(TARIFF.elements[0].restrictions) == (
        "from 22:00 to 06:00 local time",
        "on days from 2026-01-01",
        "on Saturday, Sunday",
        "energy charged at least 5 kWh",
        "current at least 6 A",
        "power below 22 kW",
        "session length from 30 to below 120 min",
    )


def test_revenue_puts_the_operators_currency_first_even_without_sales() -> None:
    days = [{"GBP": Decimal("3.5")}, {"GBP": Decimal(1), "CHF": Decimal(9)}, {}]
    assert by_currency(days, "EUR") == [
        ("EUR", Decimal(0)),
        ("CHF", Decimal(9)),
        ("GBP", Decimal("4.5")),
    ]
    assert by_currency([{"EUR": Decimal(2)}, {"EUR": Decimal(-2)}], "EUR") == [("EUR", Decimal(0))]
