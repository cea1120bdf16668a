"""The Tariff object: every spec example parses and round-trips; bad input names its field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chargegrid.tariffs import (
    DayOfWeek,
    PriceComponent,
    ReservationRestrictionType,
    Tariff,
    TariffDimensionType,
    TariffError,
    TariffType,
    parse_tariff,
    tariff_json,
)
from tests.unit.tariffs.sessions import EXAMPLES

TARIFF_FILES = sorted(
    [*EXAMPLES.glob("tariff_*.json"), *EXAMPLES.glob("tariffrestriction_example_*.json")]
)
CDR_TARIFFS = json.loads((EXAMPLES / "cdr_example.json").read_text(), parse_float=Decimal)[
    "tariffs"
]


def exact_json(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def test_the_examples_folder_has_the_tariffs_of_the_spec() -> None:
    # tariff_1 ... tariff_18 but 7 (the spec has none), the PUT example, 2 restriction examples
    assert len(TARIFF_FILES) == 20
    assert len(CDR_TARIFFS) == 1


@pytest.mark.parametrize("path", TARIFF_FILES, ids=lambda path: path.stem)
def test_every_example_tariff_parses_and_round_trips(path: Path) -> None:
    text = path.read_bytes()
    tariff = parse_tariff(text)
    assert tariff.elements
    assert exact_json(tariff_json(tariff)) == exact_json(text)
    assert parse_tariff(tariff_json(tariff)) == tariff


@pytest.mark.parametrize("raw", CDR_TARIFFS, ids=lambda raw: f"cdr_example-{raw['id']}")
def test_the_tariffs_inside_the_cdr_example_parse(raw: dict[str, Any]) -> None:
    tariff = parse_tariff(raw)
    assert tariff.id == "12"
    assert tariff.elements[0].price_components == (
        PriceComponent(
            type=TariffDimensionType.TIME, price=Decimal("2.00"), vat=Decimal(10), step_size=300
        ),
    )
    assert exact_json(tariff_json(tariff)) == raw


def test_a_complete_tariff_keeps_every_field() -> None:
    tariff = parse_tariff((EXAMPLES / "tariff_4_complex.json").read_bytes())
    assert (tariff.country_code, tariff.party_id, tariff.currency) == ("DE", "ALL", "EUR")
    assert tariff.type is TariffType.REGULAR
    assert tariff.tariff_alt_url == "https://company.com/tariffs/14"
    restrictions = tariff.elements[5].restrictions
    assert restrictions is not None
    assert (restrictions.start_time, restrictions.end_time) == ("10:00", "17:00")
    assert restrictions.day_of_week == (DayOfWeek.SATURDAY,)
    assert tariff.last_updated == dt.datetime(2015, 6, 29, 20, 39, 9, tzinfo=dt.UTC)
    reservation = parse_tariff(
        (EXAMPLES / "tariff_17_reservation_with_expire_fee.json").read_bytes()
    )
    first = reservation.elements[0].restrictions
    assert first is not None
    assert first.reservation is ReservationRestrictionType.RESERVATION_EXPIRES


def test_energy_mix_and_alt_texts_round_trip() -> None:
    raw = {
        "country_code": "NL",
        "party_id": "TNM",
        "id": "mix",
        "currency": "EUR",
        "tariff_alt_text": [{"language": "en", "text": "0.25 per kWh"}],
        "min_price": {"excl_vat": Decimal("0.50")},
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": Decimal("0.25"), "step_size": 1}]}
        ],
        "start_date_time": "2024-01-01T00:00:00Z",
        "end_date_time": "2025-01-01T00:00:00Z",
        "energy_mix": exact_json(
            (EXAMPLES / "location_energymix_example_complete.json").read_text()
        )["energy_mix"],
        "last_updated": "2023-12-01T10:00:00Z",
    }
    tariff = parse_tariff(raw)
    assert tariff.energy_mix is not None
    assert tariff.energy_mix.supplier_name == "E.ON Energy Deutschland"
    assert exact_json(tariff_json(tariff)) == raw


def test_datetimes_without_designator_are_utc_and_offsets_are_converted() -> None:
    tariff = parse_tariff(
        {
            "country_code": "DE",
            "party_id": "ALL",
            "id": "1",
            "currency": "EUR",
            "elements": [{"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]}],
            "start_date_time": "2015-06-29T20:39:09",
            "end_date_time": "2015-06-29T23:39:09+02:00",
        }
    )
    assert tariff.start_date_time == dt.datetime(2015, 6, 29, 20, 39, 9, tzinfo=dt.UTC)
    assert tariff.end_date_time == dt.datetime(2015, 6, 29, 21, 39, 9, tzinfo=dt.UTC)
    assert b'"start_date_time":"2015-06-29T20:39:09Z"' in tariff_json(tariff)


def test_a_tariff_is_valid_between_its_dates_inclusive() -> None:
    tariff = parse_tariff((EXAMPLES / "tariff_6_025kwh_start_max_price.json").read_bytes())
    end = dt.datetime(2019, 6, 30, 23, 59, 59, tzinfo=dt.UTC)
    assert tariff.is_active(end)
    assert not tariff.is_active(end + dt.timedelta(seconds=1))
    assert tariff.is_active(dt.datetime(2000, 1, 1))  # naive: UTC


def valid() -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "ALL",
        "id": "1",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [
                    {"type": "ENERGY", "price": 0.25, "vat": 10.0, "step_size": 1},
                    {"type": "TIME", "price": 1, "step_size": 60},
                ],
                "restrictions": {"start_time": "08:00", "end_time": "20:00"},
            }
        ],
    }


def component(**changes: Any) -> dict[str, Any]:
    raw = valid()
    raw["elements"][0]["price_components"][0].update(changes)
    return raw


def restricted(**restrictions: Any) -> dict[str, Any]:
    raw = valid()
    raw["elements"][0]["restrictions"] = restrictions
    return raw


def with_(**fields: Any) -> dict[str, Any]:
    return {**valid(), **fields}


BAD = [
    (component(price=-0.25), "elements[0].price_components[0].price", "must not be below 0"),
    (component(price="abc"), "elements[0].price_components[0].price", "Invalid decimal"),
    (component(price="NaN"), "elements[0].price_components[0].price", "finite"),
    (component(price="1E+30"), "elements[0].price_components[0].price", "below 10^15"),
    (component(vat=-1), "elements[0].price_components[0].vat", "must not be below 0"),
    (component(step_size=-1), "elements[0].price_components[0].step_size", ">= 0"),
    (component(step_size=1.5), "elements[0].price_components[0].step_size", "Expected `int`"),
    (component(type="POWER"), "elements[0].price_components[0].type", "Invalid enum value"),
    (component(type="TIME"), "elements[0].price_components[1].type", "a second TIME"),
    (restricted(start_time="24:00"), "elements[0].restrictions.start_time", "regex"),
    (restricted(end_time="8:00"), "elements[0].restrictions.end_time", "regex"),
    (restricted(end_time="08:00\n"), "elements[0].restrictions.end_time", "regex"),
    (restricted(start_date="2019-02-30"), "elements[0].restrictions.start_date", "not a date"),
    (
        restricted(start_date="2020-01-02", end_date="2020-01-01"),
        "elements[0].restrictions.end_date",
        "must be above start_date",
    ),
    (
        restricted(min_kwh=20, max_kwh=20),
        "elements[0].restrictions.max_kwh",
        "must be above min_kwh",
    ),
    (restricted(max_power=-1), "elements[0].restrictions.max_power", "must not be below 0"),
    (restricted(min_duration=-5), "elements[0].restrictions.min_duration", ">= 0"),
    (
        restricted(min_duration=600, max_duration=300),
        "elements[0].restrictions.max_duration",
        "must be above min_duration",
    ),
    (restricted(day_of_week=["MON"]), "elements[0].restrictions.day_of_week[0]", "enum"),
    (
        restricted(reservation="RESERVATION"),
        "elements[0].price_components[0].type",
        "FLAT and TIME only, not ENERGY",
    ),
    (with_(elements=[]), "elements", "length >= 1"),
    (with_(elements=[{"price_components": []}]), "elements[0].price_components", "length >= 1"),
    (with_(elements=[{}]), "elements[0].price_components", "is required"),
    ({k: v for k, v in valid().items() if k != "currency"}, "currency", "is required"),
    (with_(currency="eur"), "currency", "regex"),
    (with_(country_code="DEU"), "country_code", "regex"),
    (with_(party_id="AL"), "party_id", "regex"),
    (with_(id="x" * 37), "id", "length <= 36"),
    (with_(id="12\n"), "id", "regex"),
    (with_(type="CHEAP"), "type", "Invalid enum value"),
    (with_(tariff_alt_text=[{"language": "eng", "text": "x"}]), "tariff_alt_text[0].language", ""),
    (with_(min_price={"excl_vat": -1}), "min_price.excl_vat", "must not be below 0"),
    (
        with_(min_price={"excl_vat": 1, "incl_vat": 0.5}),
        "min_price.incl_vat",
        "must not be below excl_vat",
    ),
    (
        with_(min_price={"excl_vat": 5}, max_price={"excl_vat": 4}),
        "max_price.excl_vat",
        "must not be below min_price.excl_vat",
    ),
    (
        with_(min_price={"excl_vat": 1, "incl_vat": 2}, max_price={"excl_vat": 1, "incl_vat": 1.5}),
        "max_price.incl_vat",
        "must not be below min_price.incl_vat",
    ),
    (
        with_(start_date_time="2020-01-01T00:00:00Z", end_date_time="2019-01-01T00:00:00Z"),
        "end_date_time",
        "must be above start_date_time",
    ),
    (with_(last_updated="yesterday"), "last_updated", "RFC3339"),
    (with_(energy_mix={"is_green_energy": "yes"}), "energy_mix.is_green_energy", "bool"),
    (
        with_(energy_mix={"is_green_energy": True, "energy_sources": [{"source": "SUN"}]}),
        "energy_mix.energy_sources[0].source",
        "enum",
    ),
    (with_(tariff_alt_url="https://exa mple\n"), "tariff_alt_url", "printable ASCII"),
]


@pytest.mark.parametrize(
    ("raw", "path", "reason"), BAD, ids=[f"{i}-{b[1]}" for i, b in enumerate(BAD)]
)
def test_bad_tariffs_are_rejected_naming_the_field(raw: Any, path: str, reason: str) -> None:
    for data in (raw, json.dumps(raw, default=str)):
        with pytest.raises(TariffError) as caught:
            parse_tariff(data)
        assert caught.value.path == path
        assert reason in caught.value.reason
        assert str(caught.value) == f"{path}: {caught.value.reason}"


def test_invalid_json_is_a_tariff_error_too() -> None:
    with pytest.raises(TariffError, match="not valid JSON") as caught:
        parse_tariff(b'{"country_code": ')
    assert caught.value.path == ""
    assert isinstance(caught.value, ValueError)
    with pytest.raises(TariffError, match="Expected `object`, got `array`"):
        parse_tariff(b"[]")


def test_the_valid_sample_itself_parses() -> None:
    tariff = parse_tariff(valid())
    assert isinstance(tariff, Tariff)
    assert tariff.elements[0].component(TariffDimensionType.TIME) is not None
    assert tariff.elements[0].component(TariffDimensionType.FLAT) is None


def test_building_an_invalid_component_in_code_fails_too() -> None:
    with pytest.raises(TariffError, match="price: must not be below 0"):
        PriceComponent(type=TariffDimensionType.ENERGY, price=Decimal(-1), step_size=1)
