"""Every worked price example of OCPI 2.2.1 (mod_tariffs, mod_cdrs), with the spec's numbers.

The spec rounds some figures to cents for display; the engine reports 4 decimals (see
`chargegrid.tariffs.arithmetic`), so those tests state the exact value and how the
spec's figure follows from it. Where the spec's figure is wrong, the test says why.
"""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec

from chargegrid.tariffs import (
    PricedSession,
    SessionTimeline,
    TariffDimensionType,
    TariffElement,
    parse_tariff,
    parse_timeline,
    price_session,
)
from tests.unit.tariffs.sessions import (
    BERLIN,
    EXAMPLES,
    charging,
    component,
    element,
    energy_only,
    example_tariff,
    parking,
    price,
    reserved,
    tariff,
    timeline,
)

T = TariffDimensionType
MONDAY = "2024-03-11"
SATURDAY = "2024-03-16"


def priced(name: str, session: SessionTimeline) -> PricedSession:
    return price_session(example_tariff(name), BERLIN, session)


def billed(session: PricedSession) -> list[tuple[str, Decimal, Decimal]]:
    """(dimension, billed volume, cost excl. VAT) of every billed component, in order."""
    return [
        (c.type.value, c.volume, c.cost.excl_vat)
        for period in session.breakdown
        for c in period.components
    ]


# mod_tariffs, Tariff object examples


def test_simple_tariff_025_euro_per_kwh() -> None:
    # "costs of € 5.00 (excl. VAT) or € 5.50 (incl. VAT) when 20 kWh are charged"
    result = priced("tariff_8_simple_025kwh", timeline(f"{MONDAY} 10:00", charging(90, kwh="20")))
    assert result.total_cost == price("5.00", "5.50")
    assert result.total_energy_cost == price("5.00", "5.50")
    assert result.total_energy == Decimal(20)
    assert result.total_fixed_cost is None
    assert result.total_time_cost is None


def test_025_euro_per_kwh_and_start_fee() -> None:
    # "total cost of € 5.50 (excl. VAT) or € 6.10 (incl. VAT) when 20 kWh are charged"
    result = priced("tariff_9_025kwh_start", timeline(f"{MONDAY} 10:00", charging(90, kwh="20")))
    assert result.total_cost == price("5.50", "6.10")
    assert result.total_fixed_cost == price("0.50", "0.60")
    assert result.total_energy_cost == price("5.00", "5.50")


def test_025_euro_per_kwh_and_minimum_price() -> None:
    # "€ 5.00 (excl. VAT) or € 5.50 (incl. VAT) when 20 kWh are charged. But if less than
    # 2 kWh is charged, € 0.50 (excl. VAT) or € 0.55 (incl. VAT) will be billed."
    name = "tariff_12_025kwh_min_price"
    full = priced(name, timeline(f"{MONDAY} 10:00", charging(90, kwh="20")))
    assert full.total_cost == price("5.00", "5.50")
    little = priced(name, timeline(f"{MONDAY} 10:00", charging(10, kwh="1.5")))
    assert little.total_energy_cost == price("0.375", "0.4125")  # the energy itself
    assert little.total_cost == price("0.50", "0.55")


def test_025_euro_per_kwh_parking_fee_and_start_fee() -> None:
    # 20 kWh and 40 minutes parked: "€ 7.00 (excl. VAT) or € 7.90 (incl. VAT)", parking
    # billed per 15 minutes, so 45 minutes.
    result = priced(
        "tariff_10_025kwh_parking_start",
        timeline(f"{MONDAY} 10:00", charging(120, kwh="20"), parking(40)),
    )
    assert result.total_cost == price("7.00", "7.90")
    assert result.total_parking_cost == price("1.50", "1.80")
    assert ("PARKING_TIME", Decimal("0.75"), Decimal("1.50")) in billed(result)
    assert result.total_parking_time == Decimal("0.6667")  # 40 minutes, as measured


def test_025_euro_per_kwh_start_fee_and_maximum_price() -> None:
    # 50 kWh: "€ 10.00 (excl. VAT) or € 11.00 (incl. VAT) due to the price limit";
    # 30 kWh: "€ 8.00 (excl. VAT) and € 8.85 (incl. VAT)". The tariff ends 2019-06-30.
    name = "tariff_6_025kwh_start_max_price"
    capped = priced(name, timeline("2019-06-03 10:00", charging(120, kwh="50")))
    assert capped.total_cost == price("10.00", "11.00")
    assert capped.total_energy_cost == price("12.50", "13.75")  # parts are not capped
    below = priced(name, timeline("2019-06-03 10:00", charging(90, kwh="30")))
    assert below.total_cost == price("8.00", "8.85")


def test_simple_tariff_2_euro_per_hour() -> None:
    # "For a charging session of 2.5 hours ... € 5.00 (excl. VAT) or € 5.50 (incl. VAT)"
    result = priced("tariff_1_simple_2hour", timeline(f"{MONDAY} 10:00", charging(150)))
    assert result.total_cost == price("5.00", "5.50")
    assert result.total_time_cost == price("5.00", "5.50")
    assert result.total_time == Decimal("2.5")


def test_simple_tariff_3_euro_per_hour_5_euro_parking() -> None:
    # 150 minutes charging, 42 parking: "€ 11.25 (excl. VAT) or € 12.75 (incl. VAT)",
    # parking billed per 5 minutes, so 45 minutes.
    result = priced(
        "tariff_13_simple_3hour_5parking",
        timeline(f"{MONDAY} 10:00", charging(150), parking(42)),
    )
    assert result.total_cost == price("11.25", "12.75")
    assert result.total_time_cost == price("7.50", "8.25")
    assert result.total_parking_cost == price("3.75", "4.50")


def test_ad_hoc_tariff_with_alternative_texts() -> None:
    # 2.5 hours at € 1.90 per hour, 5.2 % VAT: "€ 4.75 (excl. VAT) or € 5.00 (incl. VAT)".
    # Including VAT it is exactly 4.997; the spec shows it rounded to cents.
    result = priced("tariff_2_alt_text", timeline(f"{MONDAY} 10:00", charging(150)))
    assert result.total_cost == price("4.75", "4.997")


def test_ad_hoc_tariff_not_possible_with_ocpi_matches_its_text() -> None:
    # No worked figure in the spec; the alternative text promises "2.00 euro p/hour, start
    # tariff ... credit card: 0.50 euro including VAT": 0.40 * 1.25 and 1.90 * 1.052.
    result = priced("tariff_11_not_possible_alt_text", timeline(f"{MONDAY} 10:00", charging(60)))
    assert result.total_fixed_cost == price("0.40", "0.50")
    assert result.total_time_cost == price("1.90", "1.9988")


def test_tariff_with_alternative_url() -> None:
    # 20.45 kWh billed per 0.1 kWh, so 20.5 kWh. The spec's table, in cents: energy 5.13 /
    # 5.64, total 5.63 / 6.24. Exactly: 20.5 * 0.25 = 5.125, * 1.1 = 5.6375; with the
    # 0.50 / 0.60 start fee 5.625 / 6.2375, which half-up to cents are the spec's figures.
    name = "tariff_3_alt_url"
    result = priced(name, timeline(f"{MONDAY} 10:00", charging(120, kwh="20.45")))
    assert result.total_fixed_cost == price("0.50", "0.60")
    assert result.total_energy_cost == price("5.125", "5.6375")
    assert result.total_cost == price("5.625", "6.2375")
    assert ("ENERGY", Decimal("20.5"), Decimal("5.125")) in billed(result)
    # "With an assumed current energy price of € 0.22 per kWh": energy 4.51 / 4.96, total
    # 5.01 / 5.56 in cents; exactly 4.51 / 4.961 and 5.01 / 5.561.
    tariff_ = example_tariff(name)
    flat, energy = tariff_.elements[0].price_components
    cheaper = msgspec.structs.replace(
        tariff_,
        elements=(
            TariffElement(
                price_components=(flat, msgspec.structs.replace(energy, price=Decimal("0.22")))
            ),
        ),
    )
    result = price_session(cheaper, BERLIN, timeline(f"{MONDAY} 10:00", charging(120, "20.45")))
    assert result.total_energy_cost == price("4.51", "4.961")
    assert result.total_cost == price("5.01", "5.561")


def test_complex_tariff_on_a_monday_morning() -> None:
    # Monday 09:30, 165 minutes at 16 A at most, then 42 minutes parking: "€ 9.00 (excl.
    # VAT) or € 10.30 (incl. VAT)"; charging time is not rounded (parking follows), parking
    # is rounded to 45 minutes.
    result = priced(
        "tariff_4_complex",
        timeline(f"{MONDAY} 09:30", charging(165, max_current="16", min_current="6"), parking(42)),
    )
    assert result.total_cost == price("9.00", "10.30")
    assert result.total_fixed_cost == price("2.50", "2.875")
    assert result.total_time_cost == price("2.75", "3.30")
    assert result.total_parking_cost == price("3.75", "4.125")
    assert billed(result)[1:] == [
        ("TIME", Decimal("2.75"), Decimal("2.75")),
        ("PARKING_TIME", Decimal("0.75"), Decimal("3.75")),
    ]


def test_complex_tariff_on_a_saturday_afternoon_corrects_the_spec() -> None:
    # Saturday 13:30, 114 minutes at 43 A or more, then 71 minutes parking. The spec says
    # "€ 12.28 (excl. VAT) or € 13.861 (incl. VAT)" with charging time "1.25 per hour |
    # 2.28 | 20% | 2.736". But 114 minutes at 1.25 per hour is 1.9 * 1.25 = 2.375 (2.85
    # with VAT); 2.28 is 1.9 * 1.20, a price the tariff does not have. Corrected totals:
    # 2.50 + 2.375 + 7.50 = 12.375 excl. VAT, 2.875 + 2.85 + 8.25 = 13.975 incl. VAT.
    result = priced(
        "tariff_4_complex",
        timeline(
            f"{SATURDAY} 13:30", charging(114, max_current="43", min_current="43"), parking(71)
        ),
    )
    assert result.total_time_cost == price("2.375", "2.85")
    assert result.total_parking_cost == price("7.50", "8.25")  # 75 minutes, as the spec
    assert result.total_cost == price("12.375", "13.975")


def test_free_of_charge_tariff() -> None:
    # FLAT 0.00 without VAT: nothing to pay, and 0 including VAT whatever the VAT would be.
    result = priced("tariff_5_free_of_charge", timeline(f"{MONDAY} 10:00", charging(60, "10")))
    assert result.total_cost == price("0", "0")
    assert result.total_fixed_cost == price("0", "0")


def test_reservation_price() -> None:
    # Charging starts 15 minutes after the reservation, 20 kWh: "€ 6.75 (excl. VAT) or
    # € 7.60 (incl. VAT)", the reservation 1.25 / 1.50.
    result = priced(
        "tariff_15_reservation_5_euro_per_hour",
        timeline(f"{MONDAY} 10:00", reserved(15), charging(90, kwh="20")),
    )
    assert result.total_cost == price("6.75", "7.60")
    assert result.total_reservation_cost == price("1.25", "1.50")
    assert result.total_fixed_cost == price("0.50", "0.60")
    assert result.total_energy_cost == price("5.00", "5.50")
    assert result.total_time_cost is None  # the reservation TIME is not charging time
    assert result.total_time == Decimal("1.5")  # the charging session, after the reservation


def test_reservation_price_and_fee() -> None:
    # Charging starts 13 minutes after the reservation, billed per 5 minutes so 15: "€ 8.75
    # (excl. VAT) or € 10.00 (incl. VAT)". (The spec's table calls the 1.25 line "Parking
    # time"; it is the reservation's TIME component.)
    result = priced(
        "tariff_16_reservation_2_euro_fee_5_euro_per_hour",
        timeline(f"{MONDAY} 10:00", reserved(13), charging(90, kwh="20")),
    )
    assert result.total_cost == price("8.75", "10.00")
    assert result.total_reservation_cost == price("3.25", "3.90")  # 2.00 fee + 1.25
    assert result.total_fixed_cost == price("0.50", "0.60")
    assert billed(result)[:2] == [
        ("FLAT", Decimal(1), Decimal("2.00")),
        ("TIME", Decimal("0.25"), Decimal("1.25")),
    ]


def test_reservation_price_and_expire_fee() -> None:
    name = "tariff_17_reservation_with_expire_fee"
    # Started 22 minutes after the reservation, billed per 10 minutes so 30: "€ 6.50
    # (excl. VAT) or € 7.30 (incl. VAT)"; no expiry fee.
    used = priced(name, timeline(f"{MONDAY} 10:00", reserved(22), charging(90, kwh="20")))
    assert used.total_cost == price("6.50", "7.30")
    assert used.total_reservation_cost == price("1.00", "1.20")
    # Expired after 1 hour: "€ 6.00 (excl. VAT) or € 7.20 (incl. VAT)", the 4.00 fee and
    # the hour of reservation.
    expired = priced(name, timeline(f"{MONDAY} 10:00", reserved(60)))
    assert expired.total_cost == price("6.00", "7.20")
    assert expired.total_reservation_cost == price("6.00", "7.20")
    assert expired.total_fixed_cost is None  # the session's start fee: no session
    assert expired.total_time == Decimal(0)


def test_reservation_time_and_expire_time() -> None:
    name = "tariff_18_reservation_with_expire_time"
    # Started after 22 minutes, billed 30 at 3.00 per hour: "€ 7.00 (excl. VAT) or € 7.90
    # (incl. VAT)".
    used = priced(name, timeline(f"{MONDAY} 10:00", reserved(22), charging(90, kwh="20")))
    assert used.total_cost == price("7.00", "7.90")
    # Expired after 1.5 hours at 6.00 per hour: "€ 9.00 (excl. VAT) or € 10.80 (incl. VAT)".
    expired = priced(name, timeline(f"{MONDAY} 10:00", reserved(90)))
    assert expired.total_cost == price("9.00", "10.80")


# mod_tariffs, PriceComponent: step_size


def test_step_size_of_energy_in_wh() -> None:
    # "115.2 Wh, then they are billed for 116 Wh, resulting in total cost of € 0.029.
    # When step_size = 25 ... 101 to 125 Wh: € 0.031. When step_size = 500 ... € 0.125."
    # 125 Wh cost exactly 0.03125: 0.0313 in 4 decimals, 0.031 in the spec's 3.
    for step, wh, cost in ((1, "0.116", "0.029"), (25, "0.125", "0.0313"), (500, "0.5", "0.125")):
        result = price_session(
            tariff(element(component(T.ENERGY, "0.25", step))),
            BERLIN,
            timeline(f"{MONDAY} 10:00", charging(5, kwh="0.1152")),
        )
        assert billed(result) == [("ENERGY", Decimal(wh), Decimal(cost))]


def test_step_size_of_time_and_parking_in_seconds() -> None:
    # PriceComponent: "if type is TIME and step_size has a value of 300 ... If 6 minutes
    # were consumed, 10 minutes ... will be billed." The note: "step_size = 300 means 300
    # seconds ... when someone parked for 8 minutes they will be billed for 10 minutes."
    time_only = tariff(element(component(T.TIME, "6.00", 300)))
    result = price_session(time_only, BERLIN, timeline(f"{MONDAY} 10:00", charging(6)))
    assert billed(result) == [("TIME", Decimal("0.1667"), Decimal("1.00"))]
    parking_only = tariff(element(component(T.PARKING_TIME, "6.00", 300)))
    result = price_session(
        parking_only, BERLIN, timeline(f"{MONDAY} 10:00", charging(30), parking(8))
    )
    assert billed(result) == [("PARKING_TIME", Decimal("0.1667"), Decimal("1.00"))]


STEP_SIZE_TARIFF = "tariff_14_step_size"


def test_step_size_switching_to_different_tariff_element_1() -> None:
    # Plugs in at 16:55, charges 10 minutes, parks 2: parking rounded to 15 minutes, the
    # charging time (5 min at 1.20, 5 at 2.40) is not: "the session costs € 0.55 ex VAT".
    result = priced(STEP_SIZE_TARIFF, timeline(f"{MONDAY} 16:55", charging(10), parking(2)))
    assert result.total_cost == price("0.55")  # no VAT in the tariff: incl. VAT unknown
    assert billed(result) == [
        ("TIME", Decimal("0.0833"), Decimal("0.10")),
        ("TIME", Decimal("0.0833"), Decimal("0.20")),
        ("PARKING_TIME", Decimal("0.25"), Decimal("0.25")),
    ]
    assert [p.start_date_time.strftime("%H:%M") for p in result.charging_periods] == [
        "15:55",  # UTC: 16:55 in Berlin
        "16:00",
        "16:05",
    ]


def test_step_size_switching_to_different_tariff_element_2() -> None:
    # Plugs in at 16:35, charges 35 minutes, leaves: rounded to 45 minutes with the last
    # step_size (15 min), so 25 minutes at 1.20 and 20 at 2.40: "€ 1.30".
    result = priced(STEP_SIZE_TARIFF, timeline(f"{MONDAY} 16:35", charging(35)))
    assert result.total_cost == price("1.30")
    assert billed(result) == [
        ("TIME", Decimal("0.4167"), Decimal("0.50")),
        ("TIME", Decimal("0.3333"), Decimal("0.80")),
    ]


def test_step_size_switching_to_free_of_charge_tariff_element() -> None:
    # Plugs in at 19:40, charges 12 minutes, parks 20; parking is free from 20:00. The 8
    # billable minutes are rounded to 15, billed in the 19:52-20:00 period: "€ 0.73".
    result = priced(STEP_SIZE_TARIFF, timeline(f"{MONDAY} 19:40", charging(12), parking(20)))
    assert result.total_cost == price("0.73")
    assert result.total_time_cost == price("0.48")
    assert result.total_parking_cost == price("0.25")
    assert [len(period.components) for period in result.breakdown] == [1, 1, 0]
    assert result.breakdown[1].components[0].volume == Decimal("0.25")


# mod_tariffs, TariffRestrictions examples


def test_max_power_restriction() -> None:
    # 1 kWh at 6 kW, 40 kWh at 48 kW, 0.5 kWh at 4 kW: 0.20 + 20.00 + 0.10 = "€ 20.30".
    result = priced(
        "tariffrestriction_example_max_power",
        timeline(
            f"{MONDAY} 10:00",
            energy_only(10, "1", max_power="6", min_power="6"),
            energy_only(50, "40", max_power="48", min_power="48"),
            energy_only(8, "0.5", max_power="4", min_power="4"),
        ),
    )
    assert result.total_cost.excl_vat == Decimal("20.30")
    assert [cost for _, _, cost in billed(result)] == [Decimal("0.20"), Decimal(20), Decimal("0.1")]


def test_max_duration_restriction() -> None:
    # 40 minutes: 5 kWh in the first 30 (free), 1.2 kWh in the last 10 at 0.25: "€ 0.30".
    result = priced(
        "tariffrestriction_example_max_duration",
        timeline(f"{MONDAY} 10:00", charging(30, kwh="5"), charging(10, kwh="1.2")),
    )
    assert result.total_cost == price("0.30", "0.36")


# mod_cdrs, CDR object: step_size


def test_cdr_step_size_not_applied_when_charging_switches_to_parking() -> None:
    # Both step sizes 5 minutes, 21 minutes charging then 7 parking: charging billed for
    # 21 minutes (not 25), parking for 10.
    both = tariff(element(component(T.TIME, "6.00", 300), component(T.PARKING_TIME, "6.00", 300)))
    result = price_session(both, BERLIN, timeline(f"{MONDAY} 10:00", charging(21), parking(7)))
    assert billed(result) == [
        ("TIME", Decimal("0.35"), Decimal("2.10")),
        ("PARKING_TIME", Decimal("0.1667"), Decimal("1.00")),
    ]


def test_cdr_step_size_of_energy_applies_to_the_session_total() -> None:
    # 0.20 per kWh before 17:00, 0.27 after, both per 500 Wh; 4.3 kWh before and 1.1 after
    # make 5.4, rounded to 5.5: the 0.1 kWh goes to the energy after 17:00 (1.2, not 1.5).
    two_prices = tariff(
        element(component(T.ENERGY, "0.20", 500), start_time="00:00", end_time="17:00"),
        element(component(T.ENERGY, "0.27", 500)),
    )
    result = price_session(
        two_prices,
        BERLIN,
        timeline(f"{MONDAY} 16:00", charging(60, kwh="4.3"), charging(30, kwh="1.1")),
    )
    assert billed(result) == [
        ("ENERGY", Decimal("4.3"), Decimal("0.86")),
        ("ENERGY", Decimal("1.2"), Decimal("0.324")),
    ]
    assert result.total_cost == price("1.184")


def test_cdr_step_size_of_time_applies_to_the_session_total() -> None:
    # € 5 per hour before 17:00, € 7 after, both per 10 minutes; 6 minutes before and 22
    # after make 28, rounded to 30: 24 minutes after 17:00 are billed (not 30).
    two_prices = tariff(
        element(component(T.TIME, "5", 600), start_time="00:00", end_time="17:00"),
        element(component(T.TIME, "7", 600)),
    )
    result = price_session(two_prices, BERLIN, timeline(f"{MONDAY} 16:54", charging(28)))
    assert billed(result) == [
        ("TIME", Decimal("0.1"), Decimal("0.50")),
        ("TIME", Decimal("0.4"), Decimal("2.80")),
    ]


def test_cdr_step_size_only_for_parking_when_time_and_parking_are_used() -> None:
    # Charging € 1.00 per hour, parking € 2.00, both per 10 minutes; 21 minutes charging
    # and 16 parking: parking rounded to 20 minutes, charging stays 21.
    both = tariff(element(component(T.TIME, "1.00", 600), component(T.PARKING_TIME, "2.00", 600)))
    result = price_session(both, BERLIN, timeline(f"{MONDAY} 10:00", charging(21), parking(16)))
    assert billed(result) == [
        ("TIME", Decimal("0.35"), Decimal("0.35")),
        ("PARKING_TIME", Decimal("0.3333"), Decimal("0.6667")),
    ]
    assert result.total_cost == price("1.0167")  # 0.35 + 2/3 exactly, then rounded


# mod_cdrs, Example of a CDR


def test_cdr_example() -> None:
    text = (EXAMPLES / "cdr_example.json").read_text()
    cdr = json.loads(text, parse_float=Decimal)
    result = price_session(parse_tariff(cdr["tariffs"][0]), "Europe/Brussels", parse_timeline(text))
    # 1.973 hours at € 2.00 per hour, billed per 5 minutes: 2 hours, as the CDR says.
    assert result.total_cost == price(*cdr["total_cost"].values())
    assert result.total_time_cost == price(*cdr["total_time_cost"].values())
    assert result.total_cost == price("4.00", "4.40")
    assert [p.tariff_id for p in result.charging_periods] == ["12"]
    # Where the example differs: total_time is the session's wall-clock length, 21:39:09
    # to 23:37:32, 1.97306 hours; the CDR's 1.973 is its TIME volume, rounded to 3
    # decimals. And it states total_energy 15.342 kWh, but its only charging period has
    # no ENERGY dimension, so the periods give 0 kWh (the tariff prices time only, the
    # cost is not affected).
    assert cdr["total_time"] == Decimal("1.973")
    assert result.total_time == Decimal("1.9731")
    assert cdr["total_energy"] == Decimal("15.342")
    assert result.total_energy == Decimal(0)
