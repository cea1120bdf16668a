"""Assembling OCPI CDRs, and their credit CDRs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from chargegrid.domain.cdr import Cdr, CdrFacts, credit_cdr, make_cdr, token_type
from chargegrid.domain.model import (
    BillingTerms,
    Location,
    MeterSample,
    Transaction,
    TransactionStatus,
)
from chargegrid.tariffs import (
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    Price,
    SessionTimeline,
    encode_json,
    parse_tariff,
    price_session,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ocpi-2.2.1"
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
TERMS = BillingTerms(country_code="NL", party_id="CGR", currency="EUR")
TRANSACTION = Transaction(
    id=7,
    charger_id="CP-1",
    status=TransactionStatus.COMPLETED,
    transaction_id="TX-7",
    evse_id=2,
    connector_id=1,
    id_token="04A2B3C4",
    id_token_type="ISO14443",
    authorization_status="Accepted",
    started_at=T0,
    stopped_at=T0 + timedelta(hours=1),
)
TIMELINE = SessionTimeline(
    start_date_time=T0,
    end_date_time=T0 + timedelta(hours=1),
    charging_periods=(
        ChargingPeriod(
            start_date_time=T0,
            dimensions=(
                CdrDimension(type=CdrDimensionType.ENERGY, volume=Decimal("10")),
                CdrDimension(type=CdrDimensionType.TIME, volume=Decimal("0.75")),
            ),
        ),
        ChargingPeriod(
            start_date_time=T0 + timedelta(minutes=45),
            dimensions=(CdrDimension(type=CdrDimensionType.PARKING_TIME, volume=Decimal("0.25")),),
        ),
    ),
)
LOCATION = Location(
    id="LOC-1",
    name="Depot",
    time_zone="Europe/Amsterdam",
    address="Kade 1",
    city="Utrecht",
    country="NLD",
    latitude=52.1,
    longitude=5.12,
)


def priced_facts(**changes: object) -> CdrFacts:
    tariff = parse_tariff((FIXTURES / "tariff_13_simple_3hour_5parking.json").read_bytes())
    facts = CdrFacts(
        timeline=TIMELINE,
        priced=price_session(tariff, "Europe/Amsterdam", TIMELINE),
        tariff=tariff,
        location=LOCATION,
        meter_id="M-1",
        remote_start=False,
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


def test_a_priced_cdr_has_the_engines_figures_and_the_tariff() -> None:
    facts = priced_facts()
    cdr = make_cdr("7", TRANSACTION, facts, TERMS, NOW)
    assert facts.priced is not None
    assert cdr.total_cost == facts.priced.total_cost
    assert cdr.total_time_cost == facts.priced.total_time_cost
    assert cdr.total_parking_cost == facts.priced.total_parking_cost
    assert (cdr.total_energy, cdr.total_time, cdr.total_parking_time) == (
        Decimal("10.0000"),
        Decimal("1.0000"),
        Decimal("0.2500"),
    )
    assert cdr.charging_periods == facts.priced.charging_periods
    assert cdr.tariffs == (facts.tariff,)
    assert cdr.currency == "EUR"
    assert (cdr.country_code, cdr.party_id, cdr.id, cdr.session_id) == ("NL", "CGR", "7", "TX-7")
    assert cdr.cdr_token.type == "RFID"
    assert cdr.cdr_token.uid == cdr.cdr_token.contract_id == "04A2B3C4"
    assert cdr.auth_method == "AUTH_REQUEST"
    assert cdr.cdr_location.coordinates is not None
    assert cdr.cdr_location.coordinates.latitude == "52.100000"
    assert (cdr.cdr_location.evse_uid, cdr.cdr_location.connector_id) == ("CP-1*2", "1")
    assert cdr.last_updated == NOW
    # As OCPI JSON: amounts are numbers; it reads back as the same CDR.
    document = encode_json(cdr)
    assert b'"total_energy":10.0000' in document
    assert msgspec.json.decode(document, type=Cdr) == cdr


def test_a_cdr_without_a_tariff_is_free() -> None:
    facts = priced_facts(priced=None, tariff=None, location=None, remote_start=True)
    cdr = make_cdr("7", TRANSACTION, facts, TERMS, NOW)
    assert cdr.total_cost == Price(excl_vat=Decimal(0), incl_vat=Decimal(0))
    assert cdr.tariffs == ()
    assert cdr.charging_periods == TIMELINE.charging_periods
    assert (cdr.total_energy, cdr.total_time, cdr.total_parking_time) == (
        Decimal("10.0000"),
        Decimal("1.0000"),
        Decimal("0.2500"),
    )
    assert cdr.auth_method == "COMMAND"
    assert (cdr.cdr_location.id, cdr.cdr_location.address, cdr.cdr_location.coordinates) == (
        "",
        "",
        None,
    )


def test_a_credit_cdr_negates_the_total_cost_only() -> None:
    cdr = make_cdr("7", TRANSACTION, priced_facts(), TERMS, NOW)
    later = NOW + timedelta(days=3)
    credit = credit_cdr(cdr, later, "wrong tariff")
    assert (credit.id, credit.credit, credit.credit_reference_id) == ("7-C", True, "7")
    assert credit.total_cost == Price(
        excl_vat=-cdr.total_cost.excl_vat,
        incl_vat=None if cdr.total_cost.incl_vat is None else -cdr.total_cost.incl_vat,
    )
    assert (credit.remark, credit.last_updated) == ("wrong tariff", later)
    unchanged = {"id", "credit", "credit_reference_id", "total_cost", "remark", "last_updated"}
    for field in Cdr.__struct_fields__:
        if field not in unchanged:
            assert getattr(credit, field) == getattr(cdr, field), field
    free = credit_cdr(make_cdr("8", TRANSACTION, priced_facts(priced=None), TERMS, NOW), later)
    assert b'"excl_vat":0.0000' in encode_json(free.total_cost)  # never -0
    unknown_vat = msgspec.structs.replace(cdr, total_cost=Price(excl_vat=Decimal("2.5")))
    assert credit_cdr(unknown_vat, later).total_cost == Price(excl_vat=Decimal("-2.5"))


@pytest.mark.parametrize(
    ("ocpp_type", "ocpi_type"),
    [
        (None, "RFID"),
        ("ISO14443", "RFID"),
        ("ISO15693", "RFID"),
        ("Central", "APP_USER"),
        ("eMAID", "OTHER"),
        ("KeyCode", "OTHER"),
        ("NoAuthorization", "OTHER"),
    ],
)
def test_token_types(ocpp_type: str | None, ocpi_type: str) -> None:
    assert token_type(ocpp_type) == ocpi_type


def test_signed_meter_values_and_how_it_was_authorized() -> None:
    def signed(context: str, data: str, value: float | None = None) -> MeterSample:
        return MeterSample(
            sampled_at=T0,
            measurand="Energy.Active.Import.Register",
            value=value,
            unit="Wh",
            context=context,
            signed_data=data,
        )

    samples = (
        signed("Transaction.Begin", "OCMF|{}|{a}", 1250.0),
        MeterSample(sampled_at=T0, measurand="SoC", value=50.0),
        signed("Sample.Periodic", "OCMF|{}|{b}"),
        signed("Transaction.End", "OCMF|{}|{c}"),
    )
    cdr = make_cdr("7", TRANSACTION, priced_facts(samples=samples), TERMS, NOW)
    assert cdr.signed_data is not None
    assert cdr.signed_data.encoding_method == "OCMF"
    assert [(v.nature, v.plain_data, v.signed_data) for v in cdr.signed_data.signed_values] == [
        ("Start", "1250.0 Wh", "OCMF|{}|{a}"),
        ("Intermediate", "", "OCMF|{}|{b}"),
        ("End", "", "OCMF|{}|{c}"),
    ]
    other = make_cdr("7", TRANSACTION, priced_facts(samples=(signed("x", "QUJD"),)), TERMS, NOW)
    assert other.signed_data is not None
    assert other.signed_data.encoding_method == "UNKNOWN"
    unsigned = make_cdr("7", TRANSACTION, priced_facts(), TERMS, NOW)
    assert unsigned.signed_data is None

    local = replace(TRANSACTION, authorization_status=None, transaction_id="x" * 40)
    cdr = make_cdr("7", local, priced_facts(), TERMS, NOW)
    assert cdr.auth_method == "WHITELIST"
    assert cdr.session_id is None  # longer than OCPI's 36 characters
