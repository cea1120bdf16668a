"""The Charge Detail Record (OCPI 2.2.1 mod_cdrs CDR object) of a transaction.

``make_cdr`` assembles a CDR from a transaction, its charging periods and, when it had
a tariff, the engine's price (``chargegrid.tariffs.price_session``); ``credit_cdr`` makes
the credit CDR that cancels one. Pure: no I/O, no clock.

- ``cdr_token``: the transaction's id token; its type is ``RFID`` for cards (OCPP 1.6 id
  tags and ISO 14443/15693 tokens), ``APP_USER`` for tokens the platform issued
  (``Central``), ``OTHER`` for the rest. The platform is the token's eMSP, and the
  contract id is the token itself.
- ``auth_method``: ``COMMAND`` for a remote start, ``AUTH_REQUEST`` when the platform
  authorized the token, ``WHITELIST`` otherwise (the charger let it charge on its own).
- ``cdr_location``: the charger's location (empty address fields for a charger without
  one); the EVSE is ``{charger id}*{EVSE id}``.
- ``signed_data``: the signed meter values the charger sent, ``Start``/``End`` for those
  of the transaction's begin and end, ``Intermediate`` for the others; the encoding is
  ``OCMF`` when they are OCMF, ``UNKNOWN`` otherwise.
- A CDR without a tariff costs nothing (``total_cost`` 0 in the platform's currency).
- A credit CDR is the CDR it credits with its own id, ``credit``, ``credit_reference_id``
  and the negated ``total_cost``: mod_cdrs, Credit CDRs: "Only the values in the
  total_cost field SHALL contain the negative amounts of the original CDR."
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from typing import Annotated

import msgspec
from msgspec import Meta

from chargegrid.domain.model import BillingTerms, Location, MeterSample, Transaction
from chargegrid.tariffs import (
    CdrDimensionType,
    ChargingPeriod,
    Price,
    PricedSession,
    SessionTimeline,
    Tariff,
)
from chargegrid.tariffs.arithmetic import ocpi_number
from chargegrid.values import immutable

__all__ = [
    "Cdr",
    "CdrFacts",
    "CdrLocation",
    "CdrToken",
    "GeoLocation",
    "SignedData",
    "SignedValue",
    "credit_cdr",
    "make_cdr",
    "token_type",
]

CREDIT_SUFFIX = "-C"
_MICROSECONDS_PER_HOUR = 3600 * 10**6
_RFID = frozenset({"ISO14443", "ISO15693"})


class GeoLocation(msgspec.Struct, frozen=True, kw_only=True):
    """Coordinates as OCPI writes them: decimal degrees in strings."""

    latitude: str
    longitude: str


class CdrLocation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Where the session took place (mod_cdrs, CdrLocation)."""

    id: str
    name: str | None = None
    address: str
    city: str
    postal_code: str | None = None
    country: str
    coordinates: GeoLocation | None = None
    evse_uid: str
    evse_id: str
    connector_id: str
    connector_standard: str
    connector_format: str
    connector_power_type: str


class CdrToken(msgspec.Struct, frozen=True, kw_only=True):
    """The token that started the session (mod_cdrs, CdrToken)."""

    country_code: str
    party_id: str
    uid: str
    type: str
    contract_id: str


class SignedValue(msgspec.Struct, frozen=True, kw_only=True):
    """A signed meter value and its plain reading."""

    nature: str
    plain_data: str
    signed_data: str


class SignedData(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The session's signed meter values (mod_cdrs, SignedData)."""

    encoding_method: str
    encoding_method_version: int | None = None
    public_key: str | None = None
    signed_values: Annotated[tuple[SignedValue, ...], Meta(min_length=1)]
    url: str | None = None


class Cdr(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An OCPI 2.2.1 Charge Detail Record."""

    country_code: str
    party_id: str
    id: str
    start_date_time: dt.datetime
    end_date_time: dt.datetime
    session_id: str | None = None
    cdr_token: CdrToken
    auth_method: str
    authorization_reference: str | None = None
    cdr_location: CdrLocation
    meter_id: str | None = None
    currency: str
    tariffs: tuple[Tariff, ...] = ()
    charging_periods: tuple[ChargingPeriod, ...]
    signed_data: SignedData | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: Decimal
    total_energy_cost: Price | None = None
    total_time: Decimal
    total_time_cost: Price | None = None
    total_parking_time: Decimal | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: str | None = None
    invoice_reference_id: str | None = None
    credit: bool | None = None
    credit_reference_id: str | None = None
    home_charging_compensation: bool | None = None
    last_updated: dt.datetime


@immutable
class CdrFacts:
    """What a CDR is made of besides the transaction: all of it read beforehand."""

    timeline: SessionTimeline
    priced: PricedSession | None
    tariff: Tariff | None
    location: Location | None
    meter_id: str | None
    remote_start: bool
    samples: tuple[MeterSample, ...] = ()
    remark: str | None = None


def token_type(id_token_type: str | None) -> str:
    """The OCPI TokenType of a token of this (OCPP) type; None: an OCPP 1.6 id tag."""
    if id_token_type is None or id_token_type in _RFID:
        return "RFID"
    return "APP_USER" if id_token_type == "Central" else "OTHER"


def make_cdr(
    cdr_id: str,
    transaction: Transaction,
    facts: CdrFacts,
    terms: BillingTerms,
    now: dt.datetime,
) -> Cdr:
    """The CDR of ``transaction``; priced by ``facts.priced``, or free without a tariff."""
    timeline, priced = facts.timeline, facts.priced
    uid = transaction.id_token or ""
    session_id = transaction.transaction_id
    free = Cdr(
        country_code=terms.country_code,
        party_id=terms.party_id,
        id=cdr_id,
        start_date_time=timeline.start_date_time,
        end_date_time=timeline.end_date_time,
        session_id=session_id if session_id is not None and len(session_id) <= 36 else None,
        cdr_token=CdrToken(
            country_code=terms.country_code,
            party_id=terms.party_id,
            uid=uid,
            type=token_type(transaction.id_token_type),
            contract_id=uid,
        ),
        auth_method=_auth_method(transaction, remote_start=facts.remote_start),
        cdr_location=_location(transaction, facts.location, terms),
        meter_id=facts.meter_id,
        currency=terms.currency,
        charging_periods=timeline.charging_periods,
        signed_data=_signed_data(facts.samples),
        total_cost=Price(excl_vat=Decimal("0.0000"), incl_vat=Decimal("0.0000")),
        total_energy=_sum(timeline, CdrDimensionType.ENERGY),
        total_time=_hours(timeline.end_date_time - timeline.start_date_time),
        total_parking_time=_sum(timeline, CdrDimensionType.PARKING_TIME),
        remark=facts.remark,
        last_updated=now,
    )
    if priced is None or facts.tariff is None:
        return free
    return msgspec.structs.replace(
        free,
        currency=priced.currency,
        tariffs=(facts.tariff,),
        charging_periods=priced.charging_periods,
        total_cost=priced.total_cost,
        total_fixed_cost=priced.total_fixed_cost,
        total_energy=priced.total_energy,
        total_energy_cost=priced.total_energy_cost,
        total_time=priced.total_time,
        total_time_cost=priced.total_time_cost,
        total_parking_time=priced.total_parking_time,
        total_parking_cost=priced.total_parking_cost,
        total_reservation_cost=priced.total_reservation_cost,
    )


def credit_cdr(cdr: Cdr, now: dt.datetime, remark: str | None = None) -> Cdr:
    """The credit CDR that cancels ``cdr``: the same data, the negated total cost."""
    cost = cdr.total_cost
    return msgspec.structs.replace(
        cdr,
        id=cdr.id + CREDIT_SUFFIX,
        credit=True,
        credit_reference_id=cdr.id,
        total_cost=Price(
            excl_vat=_negated(cost.excl_vat),
            incl_vat=None if cost.incl_vat is None else _negated(cost.incl_vat),
        ),
        remark=remark if remark is not None else cdr.remark,
        last_updated=now,
    )


def _negated(amount: Decimal) -> Decimal:
    return Decimal(0) - amount  # never -0


def _auth_method(transaction: Transaction, *, remote_start: bool) -> str:
    if remote_start:
        return "COMMAND"
    return "WHITELIST" if transaction.authorization_status is None else "AUTH_REQUEST"


def _location(
    transaction: Transaction, location: Location | None, terms: BillingTerms
) -> CdrLocation:
    evse = f"{transaction.charger_id}*{transaction.evse_id or 0}"
    coordinates = None
    if location is not None and location.latitude is not None and location.longitude is not None:
        coordinates = GeoLocation(
            latitude=f"{location.latitude:.6f}", longitude=f"{location.longitude:.6f}"
        )
    return CdrLocation(
        id="" if location is None else location.id,
        name=None if location is None else location.name,
        address="" if location is None else location.address or "",
        city="" if location is None else location.city or "",
        postal_code=None if location is None else location.postal_code,
        country="" if location is None else location.country or "",
        coordinates=coordinates,
        evse_uid=evse,
        evse_id=evse,
        connector_id=str(transaction.connector_id or 1),
        connector_standard=terms.connector_standard,
        connector_format=terms.connector_format,
        connector_power_type=terms.connector_power_type,
    )


_NATURES = {"Transaction.Begin": "Start", "Transaction.End": "End"}


def _signed_data(samples: Iterable[MeterSample]) -> SignedData | None:
    signed = [s for s in samples if s.signed_data]
    if not signed:
        return None
    ocmf = all(s.signed_data is not None and s.signed_data.startswith("OCMF|") for s in signed)
    return SignedData(
        encoding_method="OCMF" if ocmf else "UNKNOWN",
        signed_values=tuple(
            SignedValue(
                nature=_NATURES.get(s.context or "", "Intermediate"),
                plain_data="" if s.value is None else f"{s.value!r} {s.unit or 'Wh'}",
                signed_data=s.signed_data or "",
            )
            for s in signed
        ),
    )


def _sum(timeline: SessionTimeline, dimension: CdrDimensionType) -> Decimal:
    volumes = (period.volume(dimension) for period in timeline.charging_periods)
    return ocpi_number(sum((Fraction(v) for v in volumes if v is not None), Fraction(0)))


def _hours(length: dt.timedelta) -> Decimal:
    return ocpi_number(Fraction(length // dt.timedelta(microseconds=1), _MICROSECONDS_PER_HOUR))
