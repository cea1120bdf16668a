"""The pricing rules beyond the spec's worked examples: lookup order, cuts, FLAT, step_size,
VAT, min/max price, reservations, validity and time zones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec
import pytest

from chargegrid.tariffs import (
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    DayOfWeek,
    OcpiDataError,
    Price,
    PricedSession,
    SessionTimeline,
    Tariff,
    TariffDimensionType,
    TariffError,
    price_session,
)
from tests.unit.tariffs.sessions import (
    BERLIN,
    charging,
    component,
    element,
    energy_only,
    example_tariff,
    local,
    parking,
    price,
    reserved,
    tariff,
    timeline,
)

T = TariffDimensionType
D = CdrDimensionType
MONDAY = "2024-03-11"


def priced(tariff_: Tariff, session: SessionTimeline) -> PricedSession:
    return price_session(tariff_, BERLIN, session)


def billed(session: PricedSession) -> list[tuple[int, str, Decimal, Decimal]]:
    """(element, dimension, billed volume, cost excl. VAT) of every billed component."""
    return [
        (c.element, c.type.value, c.volume, c.cost.excl_vat)
        for period in session.breakdown
        for c in period.components
    ]


def local_starts(session: PricedSession) -> list[str]:
    return [
        p.start_date_time.astimezone(BERLIN).strftime("%H:%M:%S") for p in session.charging_periods
    ]


def volumes(session: PricedSession, dimension: CdrDimensionType) -> list[Decimal | None]:
    return [
        next((d.volume for d in p.dimensions if d.type is dimension), None)
        for p in session.charging_periods
    ]


# Which component is active


def test_the_first_matching_element_per_dimension_in_list_order() -> None:
    slow_is_cheaper = tariff(
        element(component(T.ENERGY, "0.30"), max_power=Decimal(11)),
        element(component(T.ENERGY, "0.40"), component(T.TIME, "1.00")),
        element(component(T.TIME, "9.00")),  # never reached: element 1 has TIME too
    )
    slow = priced(slow_is_cheaper, timeline(f"{MONDAY} 10:00", charging(60, "10", max_power="7")))
    assert billed(slow) == [
        (0, "ENERGY", Decimal(10), Decimal(3)),
        (1, "TIME", Decimal(1), Decimal(1)),
    ]
    fast = priced(slow_is_cheaper, timeline(f"{MONDAY} 10:00", charging(60, "10", max_power="22")))
    assert billed(fast) == [
        (1, "ENERGY", Decimal(10), Decimal(4)),
        (1, "TIME", Decimal(1), Decimal(1)),
    ]


def test_no_matching_element_means_no_cost_for_the_dimension() -> None:
    mondays = tariff(element(component(T.TIME, "2.00"), day_of_week=[DayOfWeek.MONDAY]))
    tuesday = priced(mondays, timeline("2024-03-12 10:00", charging(60)))
    assert tuesday.total_time_cost is None
    assert tuesday.total_cost == price("0", "0")
    assert tuesday.charging_periods[0].tariff_id == "T"


# Where periods are cut


def test_a_period_is_cut_where_a_time_of_day_boundary_changes_the_price() -> None:
    evening_energy = tariff(
        element(component(T.ENERGY, "0.20"), start_time="00:00", end_time="17:00"),
        element(component(T.ENERGY, "0.30")),
    )
    result = priced(evening_energy, timeline(f"{MONDAY} 16:30", charging(60, "10", max_power="11")))
    assert local_starts(result) == ["16:30:00", "17:00:00"]
    assert volumes(result, D.ENERGY) == [5, 5]  # shared pro rata
    assert volumes(result, D.TIME) == [Decimal("0.5"), Decimal("0.5")]
    assert volumes(result, D.MAX_POWER) == [11, 11]  # a level: kept by both parts
    assert [p.tariff_id for p in result.charging_periods] == ["T", "T"]
    assert result.total_cost == price("2.50")  # no VAT given: incl. VAT unknown
    assert result.breakdown[1].end_date_time == local(f"{MONDAY} 17:30")


def test_periods_are_not_cut_where_nothing_billed_changes() -> None:
    # The TIME price changes at 17:00, but the periods only report energy.
    result = priced(
        tariff(
            element(component(T.TIME, "1.00"), start_time="17:00", end_time="20:00"),
            element(component(T.ENERGY, "0.25")),
        ),
        timeline(f"{MONDAY} 16:00", energy_only(120, "20")),
    )
    assert local_starts(result) == ["16:00:00"]
    assert result.total_cost.excl_vat == 5


def test_a_kwh_threshold_inside_a_period_is_found_by_interpolation() -> None:
    first_10_kwh_cheap = tariff(
        element(component(T.ENERGY, "0.10"), max_kwh=Decimal(10)),
        element(component(T.ENERGY, "0.50")),
    )
    one_period = priced(first_10_kwh_cheap, timeline(f"{MONDAY} 10:00", charging(60, "20")))
    assert local_starts(one_period) == ["10:00:00", "10:30:00"]
    assert one_period.total_cost.excl_vat == Decimal("6.00")  # 10 * 0.10 + 10 * 0.50
    # The threshold counts the energy of the session so far, not of the period.
    two_periods = priced(
        first_10_kwh_cheap,
        timeline(f"{MONDAY} 10:00", charging(30, "4"), charging(60, "24")),
    )
    assert local_starts(two_periods) == ["10:00:00", "10:30:00", "10:45:00"]
    assert billed(two_periods) == [
        (0, "ENERGY", Decimal(4), Decimal("0.4")),
        (0, "ENERGY", Decimal(6), Decimal("0.6")),
        (1, "ENERGY", Decimal(18), Decimal(9)),
    ]


def test_a_duration_threshold_counts_from_the_session_start() -> None:
    overstay = tariff(element(component(T.PARKING_TIME, "6.00"), min_duration=7200))
    result = priced(overstay, timeline(f"{MONDAY} 10:00", charging(100), parking(40)))
    assert local_starts(result) == ["10:00:00", "11:40:00", "12:00:00"]
    assert result.total_parking_cost == price("2.00")  # 20 minutes after 2 hours
    assert result.total_parking_time == Decimal("0.6667")


def test_local_time_restrictions_across_spring_forward() -> None:
    # 31 March 2024: 02:00 CET becomes 03:00 CEST at 01:00 UTC. 00:30-02:30 UTC is local
    # 01:30-04:30, of which 03:00-04:00 local is one hour (01:00-02:00 UTC).
    amsterdam = ZoneInfo("Europe/Amsterdam")
    night = tariff(
        element(component(T.TIME, "6.00"), start_time="03:00", end_time="04:00"),
        element(component(T.TIME, "0")),
    )
    session = timeline("2024-03-31 01:30", charging(120), zone=amsterdam)
    result = price_session(night, amsterdam, session)
    assert result.total_cost.excl_vat == Decimal("6.00")
    assert [p.start_date_time.strftime("%H:%M") for p in result.charging_periods] == [
        "00:30",
        "01:00",
        "02:00",
    ]


def test_local_time_restrictions_across_fall_back() -> None:
    # 27 October 2024: 03:00 CEST becomes 02:00 CET at 01:00 UTC, so 02:00-03:00 local
    # happens twice: 00:00-01:00 and 01:00-02:00 UTC.
    amsterdam = ZoneInfo("Europe/Amsterdam")
    night = tariff(element(component(T.TIME, "6.00"), start_time="02:00", end_time="03:00"))
    session = SessionTimeline(
        start_date_time=dt.datetime(2024, 10, 26, 23, 30, tzinfo=dt.UTC),
        end_date_time=dt.datetime(2024, 10, 27, 2, 30, tzinfo=dt.UTC),
        charging_periods=(
            ChargingPeriod(
                start_date_time=dt.datetime(2024, 10, 26, 23, 30, tzinfo=dt.UTC),
                dimensions=(CdrDimension(type=D.TIME, volume=Decimal(3)),),
            ),
        ),
    )
    assert price_session(night, amsterdam, session).total_cost.excl_vat == Decimal("12.00")


# FLAT


def test_flat_is_charged_once_for_the_session() -> None:
    start_fees = tariff(
        element(component(T.FLAT, "1.00"), start_time="06:00", end_time="22:00"),
        element(component(T.FLAT, "0.50"), component(T.TIME, "1.00")),
    )
    result = priced(start_fees, timeline(f"{MONDAY} 21:00", charging(60), charging(60)))
    assert result.total_fixed_cost == price("1.00")  # the day fee, not the night one
    assert [c for c in billed(result) if c[1] == "FLAT"] == [(0, "FLAT", Decimal(1), Decimal(1))]


def test_flat_applies_when_its_restrictions_first_match() -> None:
    fee_after_1_kwh = tariff(element(component(T.FLAT, "1.00"), min_kwh=Decimal(1)))
    assert (
        priced(fee_after_1_kwh, timeline(f"{MONDAY} 10:00", charging(5, "0.5"))).total_fixed_cost
        is None
    )
    result = priced(fee_after_1_kwh, timeline(f"{MONDAY} 10:00", charging(60, "4")))
    assert result.total_fixed_cost == price("1.00")
    assert local_starts(result) == ["10:00:00", "10:15:00"]  # charged where 1 kWh is reached
    assert result.breakdown[0].components == ()


def test_a_flat_first_active_while_parking_is_a_parking_cost() -> None:
    overstay = tariff(
        element(
            component(T.FLAT, "5.00", vat="20"),
            component(T.PARKING_TIME, "6.00", vat="20"),
            min_duration=7200,
        )
    )
    result = priced(overstay, timeline(f"{MONDAY} 10:00", charging(100), parking(40)))
    assert result.total_fixed_cost is None
    assert result.total_parking_cost == price("7.00", "8.40")
    assert result.total_cost == price("7.00", "8.40")


# Energy


def test_energy_fed_back_is_not_billed_but_counts_in_the_total() -> None:
    v2g = priced(
        tariff(element(component(T.ENERGY, "0.25"))),
        timeline(f"{MONDAY} 10:00", charging(30, "-2"), charging(30, "5")),
    )
    assert v2g.total_energy == 3
    assert v2g.total_energy_cost == price("1.25")


# step_size


def test_energy_step_size_of_the_last_energy_component_once_per_session() -> None:
    evening_rounds = tariff(
        element(component(T.ENERGY, "0.20", 1), start_time="00:00", end_time="17:00"),
        element(component(T.ENERGY, "0.30", 1000)),
    )
    result = priced(
        evening_rounds, timeline(f"{MONDAY} 16:00", charging(60, "2.5"), charging(10, "0.25"))
    )
    # 2.75 kWh rounded up to 3 with the last step_size (1 kWh), in the last period.
    assert billed(result) == [
        (0, "ENERGY", Decimal("2.5"), Decimal("0.5")),
        (1, "ENERGY", Decimal("0.5"), Decimal("0.15")),
    ]
    # The other way round the last step_size is 1 Wh: nothing to round.
    morning_rounds = tariff(
        element(component(T.ENERGY, "0.20", 1000), start_time="00:00", end_time="17:00"),
        element(component(T.ENERGY, "0.30", 1)),
    )
    result = priced(
        morning_rounds, timeline(f"{MONDAY} 16:00", charging(60, "2.5"), charging(10, "0.25"))
    )
    assert [volume for *_, volume, _ in billed(result)] == [Decimal("2.5"), Decimal("0.25")]


def test_time_step_size_goes_to_whichever_time_dimension_is_billed_last() -> None:
    per_10_minutes = tariff(
        element(component(T.TIME, "6.00", 600), component(T.PARKING_TIME, "6.00", 600))
    )
    # Charging, a pause, charging again: TIME is last, 14 minutes become 20.
    result = priced(
        per_10_minutes, timeline(f"{MONDAY} 10:00", charging(7), parking(3), charging(7))
    )
    assert [cost for *_, cost in billed(result)] == [
        Decimal("0.70"),
        Decimal("0.30"),
        Decimal("1.30"),
    ]


def test_in_a_period_of_charging_and_parking_the_parking_counts_as_billed_last() -> None:
    per_10_minutes = tariff(
        element(component(T.TIME, "6.00", 600), component(T.PARKING_TIME, "6.00", 600))
    )
    session = timeline(f"{MONDAY} 10:00", charging(30))
    both = msgspec.structs.replace(
        session.charging_periods[0],
        dimensions=(
            CdrDimension(type=D.TIME, volume=Decimal("0.25")),
            CdrDimension(type=D.PARKING_TIME, volume=Decimal("0.25")),
        ),
    )
    result = priced(per_10_minutes, msgspec.structs.replace(session, charging_periods=(both,)))
    assert result.total_time_cost == price("1.50")  # 15 minutes
    assert result.total_parking_cost == price("2.00")  # 15 minutes billed as 20


def test_step_size_zero_bills_the_exact_amount() -> None:
    exact = tariff(element(component(T.TIME, "6.00", 0), component(T.ENERGY, "0.25", 0)))
    result = priced(exact, timeline(f"{MONDAY} 10:00", charging(7, "0.1234")))
    assert billed(result) == [
        (0, "ENERGY", Decimal("0.1234"), Decimal("0.0309")),  # 0.03085, half up
        (0, "TIME", Decimal("0.1167"), Decimal("0.70")),
    ]


def test_hours_with_4_decimals_do_not_add_a_step() -> None:
    # 10 minutes as an OCPI number is 0.1667 h, 600.12 s: taken to the whole second first,
    # it fills one 10 minute step, not two.
    session = timeline(f"{MONDAY} 10:00", charging(10))
    period = msgspec.structs.replace(
        session.charging_periods[0],
        dimensions=(CdrDimension(type=D.TIME, volume=Decimal("0.1667")),),
    )
    rounded = msgspec.structs.replace(session, charging_periods=(period,))
    result = priced(tariff(element(component(T.TIME, "6.00", 600))), rounded)
    assert result.total_cost.excl_vat == Decimal("1.0002")  # 0.1667 h, not 0.3333


# VAT


def test_a_component_without_vat_makes_amounts_including_vat_unknown() -> None:
    mixed = tariff(element(component(T.FLAT, "1.00"), component(T.ENERGY, "0.25", vat="10")))
    result = priced(mixed, timeline(f"{MONDAY} 10:00", charging(60, "10")))
    assert result.total_fixed_cost == price("1.00")
    assert result.total_energy_cost == price("2.50", "2.75")
    assert result.total_cost == price("3.50")
    # 0 % is a VAT, unlike no VAT.
    zero = tariff(
        element(component(T.FLAT, "1.00", vat="0"), component(T.ENERGY, "0.25", vat="10"))
    )
    assert priced(zero, timeline(f"{MONDAY} 10:00", charging(60, "10"))).total_cost == price(
        "3.50", "3.75"
    )


def test_a_free_component_without_vat_costs_nothing_including_vat() -> None:
    free_start = tariff(element(component(T.FLAT, "0"), component(T.ENERGY, "0.25", vat="10")))
    result = priced(free_start, timeline(f"{MONDAY} 10:00", charging(60, "10")))
    assert result.total_fixed_cost == price("0", "0")
    assert result.total_cost == price("2.50", "2.75")


# min_price and max_price


def test_min_price_without_incl_vat_leaves_the_raised_total_incl_vat_unknown() -> None:
    minimum = tariff(
        element(component(T.ENERGY, "0.25", vat="10")), min_price=Price(excl_vat=Decimal("0.50"))
    )
    below = priced(minimum, timeline(f"{MONDAY} 10:00", charging(10, "1")))
    assert below.total_cost == price("0.50")
    above = priced(minimum, timeline(f"{MONDAY} 10:00", charging(60, "10")))
    assert above.total_cost == price("2.50", "2.75")


def test_min_and_max_price_bound_excl_and_incl_vat_separately() -> None:
    high_vat = tariff(
        element(component(T.ENERGY, "1.00", vat="25")),
        min_price=Price(excl_vat=Decimal("2.00"), incl_vat=Decimal("2.60")),
        max_price=Price(excl_vat=Decimal("10.00"), incl_vat=Decimal("11.00")),
    )
    # 2.05 excl. VAT is above its minimum, 2.5625 incl. VAT below its own.
    low = priced(high_vat, timeline(f"{MONDAY} 10:00", charging(10, "2.05")))
    assert low.total_cost == price("2.05", "2.60")
    # 9 excl. VAT is below its maximum, 11.25 incl. VAT above its own.
    high = priced(high_vat, timeline(f"{MONDAY} 10:00", charging(60, "9")))
    assert high.total_cost == price("9.00", "11.00")
    capped = priced(high_vat, timeline(f"{MONDAY} 10:00", charging(60, "20")))
    assert capped.total_cost == price("10.00", "11.00")
    assert capped.total_energy_cost == price("20.00", "25.00")


def test_max_price_without_incl_vat_leaves_the_capped_total_incl_vat_unknown() -> None:
    capped = tariff(
        element(component(T.ENERGY, "1.00", vat="20")), max_price=Price(excl_vat=Decimal(10))
    )
    assert priced(capped, timeline(f"{MONDAY} 10:00", charging(60, "12"))).total_cost == price("10")
    assert priced(capped, timeline(f"{MONDAY} 10:00", charging(60, "5"))).total_cost == price(
        "5", "6"
    )


# Reservations


def test_a_reservation_still_running_is_priced_as_not_expired() -> None:
    name = "tariff_17_reservation_with_expire_fee"
    so_far = priced(
        example_tariff(name), timeline(f"{MONDAY} 10:00", reserved(25), reservation_expired=False)
    )
    assert so_far.total_cost == price("1.00", "1.20")  # 30 minutes, no expiry fee


def test_an_expired_reservation_prefers_reservation_expires_wherever_it_is_listed() -> None:
    # The note under ReservationRestrictionType: with TIME in both a RESERVATION and a
    # RESERVATION_EXPIRES element, an expired reservation's time is priced by the latter.
    expires_first = example_tariff("tariff_18_reservation_with_expire_time")
    expires, reservation, session = expires_first.elements
    expires_last = msgspec.structs.replace(expires_first, elements=(reservation, session, expires))
    for tariff_ in (expires_first, expires_last):
        expired = priced(tariff_, timeline(f"{MONDAY} 10:00", reserved(90)))
        assert expired.total_reservation_cost == price("9.00", "10.80")  # 6.00 per hour
        used = priced(tariff_, timeline(f"{MONDAY} 10:00", reserved(22), charging(90, "20")))
        assert used.total_reservation_cost == price("1.50", "1.80")  # 3.00 per hour


def test_reservation_elements_do_not_price_the_charging_session() -> None:
    reservation_time = tariff(
        element(component(T.TIME, "5.00"), reservation="RESERVATION"),
        element(component(T.ENERGY, "0.25")),
    )
    result = priced(reservation_time, timeline(f"{MONDAY} 10:00", charging(60, "10")))
    assert result.total_time_cost is None
    assert result.total_reservation_cost is None
    assert result.total_cost.excl_vat == Decimal("2.50")


# Validity, time zones, the timeline


def test_the_tariff_must_be_valid_when_the_session_starts() -> None:
    energy = element(component(T.ENERGY, "0.25"))
    start = local(f"{MONDAY} 10:00")
    session = timeline(f"{MONDAY} 10:00", charging(60, "10"))
    later = tariff(energy, start_date_time=start + dt.timedelta(seconds=1))
    with pytest.raises(TariffError) as caught:
        priced(later, session)
    assert caught.value.path == "start_date_time"
    assert "tariff T applies from 2024-03-11T09:00:01Z" in str(caught.value)
    ended = tariff(energy, end_date_time=start - dt.timedelta(seconds=1))
    with pytest.raises(TariffError, match="applied until 2024-03-11T08:59:59Z") as caught:
        priced(ended, session)
    assert caught.value.path == "end_date_time"
    for bounds in ({"start_date_time": start}, {"end_date_time": start}):  # both inclusive
        assert priced(tariff(energy, **bounds), session).total_cost.excl_vat == Decimal("2.50")


def test_time_zones_by_name_or_object() -> None:
    session = timeline(f"{MONDAY} 16:30", charging(60, "10"))
    evening = tariff(
        element(component(T.ENERGY, "0.20"), start_time="00:00", end_time="17:00"),
        element(component(T.ENERGY, "0.30")),
    )
    assert price_session(evening, "Europe/Berlin", session) == priced(evening, session)
    london = price_session(evening, "Europe/London", session)  # 15:30-16:30 there
    assert london.total_cost.excl_vat == Decimal("2.00")
    with pytest.raises(OcpiDataError) as caught:
        price_session(evening, "Europe/Gent", session)
    assert (caught.value.path, caught.value.reason) == (
        "time_zone",
        "'Europe/Gent' is not an IANA time zone",
    )


def test_total_time_runs_from_the_session_start_to_its_end() -> None:
    # The first period starts 10 minutes late; the session lasts 70 minutes all the same.
    late = timeline(f"{MONDAY} 10:10", charging(60, "5"))
    session = msgspec.structs.replace(late, start_date_time=local(f"{MONDAY} 10:00"))
    result = priced(tariff(element(component(T.ENERGY, "0.25"))), session)
    assert result.total_time == Decimal("1.1667")
    assert result.total_energy == 5


def test_a_last_period_without_duration_is_priced_as_a_whole() -> None:
    session = timeline(f"{MONDAY} 10:00", charging(60, "5"), energy_only(0, "1"))
    result = priced(tariff(element(component(T.ENERGY, "0.25"))), session)
    assert result.total_energy_cost == price("1.50")
    assert len(result.charging_periods) == 2


def test_output_periods_carry_the_tariff_id_whatever_the_input_said() -> None:
    session = timeline(f"{MONDAY} 10:00", charging(60, "5"))
    tagged = msgspec.structs.replace(
        session,
        charging_periods=(msgspec.structs.replace(session.charging_periods[0], tariff_id="other"),),
    )
    result = priced(tariff(element(component(T.ENERGY, "0.25")), id="12"), tagged)
    assert [p.tariff_id for p in result.charging_periods] == ["12"]
    assert result.cdr_fields().breakdown == ()
    assert result.cdr_fields().charging_periods == result.charging_periods
