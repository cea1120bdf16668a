"""A sample session for tariff previews: its periods, and its price under a tariff."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from chargegrid.tariffs import (
    CdrDimensionType,
    OcpiDataError,
    SampleSession,
    parse_tariff,
    price_session,
)

D = CdrDimensionType
TARIFF = parse_tariff(
    {
        "country_code": "NL",
        "party_id": "CGR",
        "id": "DAY-NIGHT",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [
                    {"type": "ENERGY", "price": "0.30", "vat": 21, "step_size": 1}
                ],
                "restrictions": {"start_time": "07:00", "end_time": "23:00"},
            },
            {"price_components": [{"type": "ENERGY", "price": "0.20", "vat": 21, "step_size": 1}]},
            {"price_components": [{"type": "PARKING_TIME", "price": "6", "step_size": 60}]},
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }
)


def sample(**changes: object) -> SampleSession:
    values: dict[str, object] = {
        "start": dt.datetime(2026, 7, 1, 22, 0),
        "time_zone": "Europe/Amsterdam",
        "charging": dt.timedelta(hours=2),
        "power_kw": Decimal(11),
        "parking": dt.timedelta(minutes=30),
    }
    return SampleSession(**{**values, **changes})  # type: ignore[arg-type]


def test_a_sample_session_charges_at_its_power_and_then_parks() -> None:
    timeline = sample().timeline()
    # 22:00 in Amsterdam in summer is 20:00 UTC.
    assert timeline.start_date_time == dt.datetime(2026, 7, 1, 20, 0, tzinfo=dt.UTC)
    assert timeline.end_date_time == dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)
    charging, parking = timeline.charging_periods
    assert charging.volume(D.ENERGY) == Decimal(22)
    assert charging.volume(D.TIME) == Decimal(2)
    assert charging.volume(D.MAX_POWER) == charging.volume(D.MIN_POWER) == Decimal(11)
    assert parking.start_date_time == dt.datetime(2026, 7, 1, 22, 0, tzinfo=dt.UTC)
    assert parking.volume(D.PARKING_TIME) == Decimal("0.5")


def test_its_price_follows_the_local_time_windows_of_the_tariff() -> None:
    priced = price_session(TARIFF, "Europe/Amsterdam", sample().timeline())
    # 22:00-23:00 local at 0.30 (11 kWh), 23:00-24:00 at 0.20 (11 kWh), 30 min parked at 6/h.
    assert priced.total_energy_cost is not None
    assert priced.total_energy_cost.excl_vat == Decimal("5.5000")
    assert priced.total_parking_cost is not None
    assert priced.total_parking_cost.excl_vat == Decimal("3.0000")
    assert priced.total_cost.excl_vat == Decimal("8.5000")


def test_without_parking_there_is_one_period() -> None:
    timeline = sample(parking=dt.timedelta(0)).timeline()
    assert len(timeline.charging_periods) == 1
    assert timeline.end_date_time - timeline.start_date_time == dt.timedelta(hours=2)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"charging": dt.timedelta(0)}, "charging"),
        ({"parking": dt.timedelta(minutes=-1)}, "parking"),
        ({"power_kw": Decimal(-1)}, "power_kw"),
        ({"power_kw": Decimal("NaN")}, "power_kw"),
        ({"start": dt.datetime(2026, 7, 1, 22, tzinfo=dt.UTC)}, "start"),
    ],
)
def test_a_sample_that_cannot_be_is_refused_with_its_field(
    changes: dict[str, object], path: str
) -> None:
    with pytest.raises(OcpiDataError) as refused:
        sample(**changes)
    assert refused.value.path == path


def test_an_unknown_time_zone_is_named() -> None:
    with pytest.raises(OcpiDataError) as refused:
        sample(time_zone="Mars/Olympus").timeline()
    assert refused.value.path == "time_zone"
