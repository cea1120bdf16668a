"""Properties of pricing over generated tariffs and sessions (hypothesis).

Costs are never negative, never below min_price nor above max_price, include VAT at
least as much as they exclude it, and do not change when a charging period is cut in two
(amounts shared pro rata, levels kept by both parts).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from chargegrid.tariffs import (
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    DayOfWeek,
    Price,
    PriceComponent,
    PricedSession,
    ReservationRestrictionType,
    SessionTimeline,
    Tariff,
    TariffDimensionType,
    TariffElement,
    TariffRestrictions,
    price_session,
)
from chargegrid.tariffs.cdr import AMOUNTS

ZONE = ZoneInfo("Europe/Amsterdam")
T = TariffDimensionType
D = CdrDimensionType
COST_FIELDS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)
STEP_SIZES = {
    T.ENERGY: [0, 1, 100, 500, 1000],
    T.TIME: [0, 1, 60, 300, 900],
    T.PARKING_TIME: [0, 1, 60, 300, 900],
    T.FLAT: [0, 1],
}
START_TIMES = [  # plain days and both daylight saving time changes in Amsterdam
    dt.datetime(2024, 3, 11, 6, tzinfo=dt.UTC),
    dt.datetime(2024, 3, 16, 12, tzinfo=dt.UTC),
    dt.datetime(2024, 3, 30, 20, tzinfo=dt.UTC),
    dt.datetime(2024, 10, 26, 20, tzinfo=dt.UTC),
]


def money(high: int, places: int = 2) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=high, places=places)


times = st.builds(
    lambda hour, minute: f"{hour:02}:{minute:02}",
    st.integers(0, 23),
    st.sampled_from([0, 15, 30, 45]),
)


@st.composite
def restrictions(draw: st.DrawFn, reservation: bool) -> TariffRestrictions | None:
    fields: dict[str, Any] = {}
    if draw(st.booleans()):
        fields["start_time"] = draw(st.none() | times)
        fields["end_time"] = draw(st.none() | times)
    if draw(st.booleans()):
        fields["day_of_week"] = tuple(draw(st.lists(st.sampled_from(DayOfWeek), unique=True)))
    for name, high in (("kwh", 40), ("current", 64), ("power", 50)):
        if draw(st.booleans()):
            low = draw(st.none() | money(high, 1))
            above = draw(st.none() | money(high, 1))
            fields[f"min_{name}"] = low
            fields[f"max_{name}"] = None if above is None else above + (low or 0) + 1
    if draw(st.booleans()):
        low_seconds = draw(st.none() | st.integers(0, 4 * 3600))
        fields["min_duration"] = low_seconds
        fields["max_duration"] = draw(
            st.none() | st.integers(1, 4 * 3600).map(lambda s: s + (low_seconds or 0))
        )
    if reservation:
        fields["reservation"] = draw(st.sampled_from(ReservationRestrictionType))
    if not fields:
        return None
    return TariffRestrictions(**fields)


@st.composite
def elements(draw: st.DrawFn) -> TariffElement:
    reservation = draw(st.integers(0, 4)) == 0
    kinds = [T.FLAT, T.TIME] if reservation else list(T)
    dimensions = draw(st.lists(st.sampled_from(kinds), min_size=1, unique=True))
    return TariffElement(
        price_components=tuple(
            PriceComponent(
                type=kind,
                price=draw(money(5)),
                vat=draw(
                    st.sampled_from([None, Decimal(0), Decimal("5.5"), Decimal(9), Decimal(21)])
                ),
                step_size=draw(st.sampled_from(STEP_SIZES[kind])),
            )
            for kind in dimensions
        ),
        restrictions=draw(restrictions(reservation)),
    )


@st.composite
def tariffs(draw: st.DrawFn) -> Tariff:
    min_price = max_price = None
    if draw(st.booleans()):
        excl = draw(money(5))
        incl = draw(st.none() | money(2).map(lambda extra: excl + extra))
        min_price = Price(excl_vat=excl, incl_vat=incl)
    if draw(st.booleans()):
        low = min_price or Price(excl_vat=Decimal(0), incl_vat=Decimal(0))
        excl = low.excl_vat + draw(money(20))
        incl = draw(st.none() | money(5).map(lambda x: max(excl, low.incl_vat or 0) + x))
        max_price = Price(excl_vat=excl, incl_vat=incl)
    return Tariff(
        country_code="NL",
        party_id="TNM",
        id="P",
        currency="EUR",
        min_price=min_price,
        max_price=max_price,
        elements=tuple(draw(st.lists(elements(), min_size=1, max_size=4))),
    )


def hours(units_of_36_seconds: int) -> Decimal:
    return Decimal(units_of_36_seconds) / 100


@st.composite
def sessions(draw: st.DrawFn) -> SessionTimeline:
    """Periods lasting whole multiples of 36 s, so their hours have 2 exact decimals."""
    start = draw(st.sampled_from(START_TIMES)) + dt.timedelta(minutes=draw(st.integers(0, 900)))
    kinds = draw(st.lists(st.sampled_from(["charge", "park", "both"]), min_size=1, max_size=5))
    if draw(st.integers(0, 3)) == 0:
        kinds = ["reserve", *kinds] if draw(st.booleans()) else ["reserve"]
    periods = []
    at = start
    for kind in kinds:
        units = draw(st.integers(1, 400))
        dimensions: dict[CdrDimensionType, Decimal] = {}
        if kind == "reserve":
            dimensions[D.RESERVATION_TIME] = hours(units)
        elif kind == "park":
            dimensions[D.PARKING_TIME] = hours(units)
        else:
            charged = units if kind == "charge" else draw(st.integers(0, units))
            dimensions[D.TIME] = hours(charged)
            if kind == "both":
                dimensions[D.PARKING_TIME] = hours(units - charged)
            dimensions[D.ENERGY] = draw(st.decimals(min_value=-2, max_value=40, places=3))
            for level, high in ((D.MAX_CURRENT, 64), (D.MIN_CURRENT, 64), (D.MAX_POWER, 50)):
                if draw(st.booleans()):
                    dimensions[level] = draw(money(high, 1))
        periods.append(
            ChargingPeriod(
                start_date_time=at,
                dimensions=tuple(CdrDimension(type=k, volume=v) for k, v in dimensions.items()),
            )
        )
        at += dt.timedelta(seconds=36 * units)
    return SessionTimeline(start_date_time=start, end_date_time=at, charging_periods=tuple(periods))


def costs(priced: PricedSession) -> list[Price]:
    found = [getattr(priced, name) for name in COST_FIELDS]
    found += [c.cost for period in priced.breakdown for c in period.components]
    return [cost for cost in found if cost is not None]


PROPERTIES = settings(max_examples=200, deadline=None)


@PROPERTIES
@given(tariffs(), sessions())
def test_costs_are_never_negative_and_incl_vat_is_at_least_excl_vat(
    tariff: Tariff, session: SessionTimeline
) -> None:
    for cost in costs(price_session(tariff, ZONE, session)):
        assert cost.excl_vat >= 0
        assert cost.incl_vat is None or cost.incl_vat >= cost.excl_vat


@PROPERTIES
@given(tariffs(), sessions())
def test_the_total_is_within_min_price_and_max_price(
    tariff: Tariff, session: SessionTimeline
) -> None:
    total = price_session(tariff, ZONE, session).total_cost
    low, high = tariff.min_price, tariff.max_price
    if low is not None:
        assert total.excl_vat >= low.excl_vat
        if total.incl_vat is not None and low.incl_vat is not None:
            assert total.incl_vat >= low.incl_vat
    if high is not None:
        assert total.excl_vat <= high.excl_vat
        if total.incl_vat is not None and high.incl_vat is not None:
            assert total.incl_vat <= high.incl_vat


@PROPERTIES
@given(tariffs(), sessions())
def test_the_breakdown_adds_up_to_the_total_before_min_and_max_price(
    tariff: Tariff, session: SessionTimeline
) -> None:
    unbounded = msgspec.structs.replace(tariff, min_price=None, max_price=None)
    priced = price_session(unbounded, ZONE, session)
    parts = [c.cost.excl_vat for period in priced.breakdown for c in period.components]
    rounding = Decimal("0.00005") * (len(parts) + 1)  # each figure is rounded on its own
    assert abs(sum(parts, Decimal(0)) - priced.total_cost.excl_vat) <= rounding


def cut(session: SessionTimeline, index: int, numerator: int, denominator: int) -> SessionTimeline:
    """The session with period `index` cut at `numerator / denominator` of its length."""
    period = session.charging_periods[index]
    length = session.end_of(index) - period.start_date_time
    first = tuple(
        CdrDimension(type=d.type, volume=d.volume * numerator / denominator)
        if d.type in AMOUNTS
        else d
        for d in period.dimensions
    )
    rest = tuple(
        CdrDimension(type=d.type, volume=d.volume - share.volume) if d.type in AMOUNTS else d
        for d, share in zip(period.dimensions, first, strict=True)
    )
    middle = period.start_date_time + length * numerator / denominator
    periods = list(session.charging_periods)
    periods[index : index + 1] = [
        ChargingPeriod(start_date_time=period.start_date_time, dimensions=first),
        ChargingPeriod(start_date_time=middle, dimensions=rest),
    ]
    return msgspec.structs.replace(session, charging_periods=tuple(periods))


def totals(priced: PricedSession) -> PricedSession:
    return msgspec.structs.replace(priced, charging_periods=(), breakdown=())


@PROPERTIES
@given(tariffs(), sessions(), st.data())
def test_cutting_a_period_in_two_does_not_change_the_totals(
    tariff: Tariff, session: SessionTimeline, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(session.charging_periods) - 1))
    denominator = data.draw(st.sampled_from([2, 4, 5, 8, 10]))  # exact decimal shares
    numerator = data.draw(st.integers(1, denominator - 1))
    whole = price_session(tariff, ZONE, session)
    halves = price_session(tariff, ZONE, cut(session, index, numerator, denominator))
    assert len(halves.charging_periods) >= len(whole.charging_periods)
    assert totals(halves) == totals(whole)
