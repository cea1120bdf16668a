"""Tariffs: stored as OCPI objects, chosen for a transaction's start, frozen onto it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import BillingTerms, Location, Transaction, TransactionStatus
from chargegrid.domain.services import chargers, locations, tariffs
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import tariffs as repo
from chargegrid.storage.repositories import transactions as transaction_repo
from chargegrid.tariffs import Tariff, TariffType, parse_tariff

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
TERMS = BillingTerms(country_code="BE", party_id="BEC", time_zone="Europe/Brussels")


def body(tariff_id: str, **extra: Any) -> bytes:
    return json.dumps(
        {
            "id": tariff_id,
            "currency": "EUR",
            "elements": [
                {"price_components": [{"type": "TIME", "price": 2, "vat": 10, "step_size": 300}]}
            ],
            **extra,
        }
    ).encode()


def tariff(tariff_id: str, **extra: Any) -> Tariff:
    return parse_tariff(
        json.loads(body(tariff_id, country_code="BE", party_id="BEC", **extra).decode())
    )


def test_choose_takes_the_first_in_force_and_prefers_regular() -> None:
    at = NOW
    expired = tariff("OLD", end_date_time="2026-01-01T00:00:00Z")
    future = tariff("NEW", start_date_time="2026-06-01T00:00:00Z")
    ad_hoc = tariff("ADHOC", type="AD_HOC_PAYMENT")
    regular = tariff("REG", type="REGULAR")
    untyped = tariff("PLAIN")
    assert tariffs.choose([expired, future, ad_hoc, regular, untyped], at) == regular
    assert tariffs.choose([expired, ad_hoc, untyped], at) == untyped
    assert tariffs.choose([expired, ad_hoc], at) == ad_hoc
    assert tariffs.choose([expired, future], at) is None
    assert tariffs.choose([future], datetime(2026, 7, 1, tzinfo=UTC)) == future
    assert tariffs.choose([], at) is None
    assert ad_hoc.type is TariffType.AD_HOC_PAYMENT


async def test_stored_with_the_platforms_party_and_errors_naming_the_field(db: Database) -> None:
    async with db.begin() as conn:
        stored = await tariffs.create(conn, body("T1"), TERMS, NOW)
        own = await tariffs.create(conn, body("T2", country_code="NL", party_id="ABC"), TERMS, NOW)
    assert (stored.country_code, stored.party_id, stored.last_updated) == ("BE", "BEC", NOW)
    assert (own.country_code, own.party_id) == ("NL", "ABC")
    for sent, field, message in [
        (
            body("T3", min_price={"excl_vat": 5}, max_price={"excl_vat": 2}),
            "max_price.excl_vat",
            "",
        ),
        (b'{"id": "T3"}', "currency", "currency: is required"),
        (b"[]", "", "a tariff is a JSON object"),
        (b"{", "", "not valid JSON"),
    ]:
        async with db.begin() as conn:
            with pytest.raises(DomainError) as refused:
                await tariffs.create(conn, sent, TERMS, NOW)
        assert refused.value.kind is ErrorKind.INVALID
        assert refused.value.field == field
        assert refused.value.message.startswith(message)
    async with db.begin() as conn:
        with pytest.raises(DomainError) as refused:
            await tariffs.create(conn, body("T1"), TERMS, NOW)
    assert refused.value.kind is ErrorKind.CONFLICT
    async with db.begin() as conn:
        with pytest.raises(DomainError) as refused:
            await tariffs.replace_tariff(conn, "T1", body("T9"), TERMS, NOW)
    assert (refused.value.kind, refused.value.field) == (ErrorKind.INVALID, "id")


async def test_the_tariff_of_a_transaction_is_frozen_at_its_start(db: Database) -> None:
    start = NOW - timedelta(hours=1)
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP", password=None, security_profile=0, now=NOW)
        for tariff_id in ("CONNECTOR", "DEFAULT", "LATER"):
            await tariffs.create(conn, body(tariff_id), TERMS, NOW)
        ended = body("ENDED", end_date_time="2026-01-01T00:00:00Z")
        await tariffs.create(conn, ended, TERMS, NOW)
        await tariffs.assign(conn, "CP", 1, 1, ["CONNECTOR"], NOW)
        await tariffs.assign(conn, "CP", 3, 1, ["ENDED"], NOW)  # none in force: the default
        await tariffs.assign(conn, "CP", 0, 0, ["DEFAULT"], NOW)
        with pytest.raises(DomainError) as refused:
            await tariffs.assign(conn, "CP", 1, 0, [], NOW)
        assert refused.value.kind is ErrorKind.INVALID
    base = Transaction(id=0, charger_id="CP", status=TransactionStatus.ACTIVE, started_at=start)
    async with db.begin() as conn:
        pks = [
            await _transaction(conn, replace(base, transaction_id=name, evse_id=evse))
            for name, evse in (("A", 1), ("B", 2), ("C", None), ("D", 3))
        ]
        frozen = [
            await tariffs.freeze(conn, replace(base, id=pk, evse_id=evse), TERMS, NOW)
            for pk, evse in zip(pks, (1, 2, None, 3), strict=True)
        ]
        not_started = await tariffs.freeze(
            conn, replace(base, id=pks[0], started_at=None), TERMS, NOW
        )
    assert [t.tariff_id for t in frozen] == ["CONNECTOR", "DEFAULT", "DEFAULT", "DEFAULT"]
    assert not_started.tariff_id is None

    async with db.begin() as conn:
        await tariffs.replace_tariff(
            conn, "CONNECTOR", body("CONNECTOR", currency="USD"), TERMS, NOW
        )
        # Frozen once: freezing again (say, a start reported twice) changes nothing.
        await tariffs.assign(conn, "CP", 1, 1, ["LATER"], NOW)
        again = await tariffs.freeze(conn, replace(base, id=pks[0], evse_id=1), TERMS, NOW)
        copy = await repo.frozen(conn, pks[0])
        with pytest.raises(DomainError) as refused:
            await tariffs.delete(conn, "DEFAULT")
        assert refused.value.kind is ErrorKind.CONFLICT
        await tariffs.assign(conn, "CP", 0, 0, [], NOW)
        await tariffs.delete(conn, "DEFAULT")
    assert again.tariff_id is None  # nothing frozen now; the first copy stays
    assert copy is not None
    assert (copy.tariff_id, copy.source, copy.time_zone) == (
        "CONNECTOR",
        "connector",
        "Europe/Brussels",
    )
    assert parse_tariff(copy.document).currency == "EUR"


async def _transaction(conn: AsyncConnection, transaction: Transaction) -> int:
    stored = await transaction_repo.insert(
        conn,
        {
            "charger_id": transaction.charger_id,
            "transaction_id": transaction.transaction_id,
            "evse_id": transaction.evse_id,
            "status": transaction.status.value,
            "started_at": transaction.started_at,
            "created_at": NOW,
            "updated_at": NOW,
        },
    )
    return stored.id


async def test_a_chargers_tariffs_are_read_in_its_locations_time_zone(db: Database) -> None:
    site = Location(
        id="site-1", name="Depot", time_zone="Europe/Berlin", latitude=52.5, longitude=13.4
    )
    async with db.begin() as conn:
        await locations.create(conn, site, NOW)
        for charger_id, location_id in (("CP-AT", "site-1"), ("CP-NOWHERE", None)):
            await chargers.register(
                conn,
                charger_id=charger_id,
                password=None,
                security_profile=0,
                now=NOW,
                location_id=location_id,
            )
        zones = [
            await tariffs.time_zone_of(conn, charger_id, TERMS)
            for charger_id in ("CP-AT", "CP-NOWHERE", "CP-UNKNOWN")
        ]
    # Else the platform's.
    assert zones == ["Europe/Berlin", "Europe/Brussels", "Europe/Brussels"]
