"""Charging periods from meter values and charging states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from chargegrid.domain.charging_periods import (
    PARKING_STATES,
    StateChange,
    charging_periods,
    is_charging,
)
from chargegrid.domain.model import ENERGY_IMPORT, MeterSample
from chargegrid.tariffs import CdrDimensionType, ChargingPeriod, SessionTimeline
from chargegrid.tariffs.arithmetic import ocpi_number

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reading(minutes: float, wh: float, unit: str = "Wh") -> MeterSample:
    return MeterSample(sampled_at=at(minutes), measurand=ENERGY_IMPORT, value=wh, unit=unit)


def sample(
    minutes: float, measurand: str, value: float, unit: str, phase: str | None = None
) -> MeterSample:
    return MeterSample(
        sampled_at=at(minutes), measurand=measurand, value=value, unit=unit, phase=phase
    )


def state(minutes: float, name: str) -> StateChange:
    return StateChange(at=at(minutes), state=name)


def table(periods: tuple[ChargingPeriod, ...]) -> list[tuple[int, dict[str, str]]]:
    """(minute, {dimension: volume}) of each period, for comparing at a glance."""
    return [
        (
            int((p.start_date_time - T0) / MINUTE),
            {d.type.value: str(d.volume) for d in p.dimensions},
        )
        for p in periods
    ]


def test_states_that_are_parking() -> None:
    assert {"SuspendedEV", "Finishing", "EVConnected", "Idle"} == PARKING_STATES
    for charging in ("Charging", "SuspendedEVSE", "Preparing", "Occupied"):
        assert is_charging(charging)
    for parking in PARKING_STATES:
        assert not is_charging(parking)


def test_energy_goes_to_the_time_spent_charging() -> None:
    periods = charging_periods(
        start=T0,
        end=at(45),
        samples=[reading(15, 4000), reading(40, 7600)],
        states=[state(-1, "Preparing"), state(0.5, "Charging"), state(30, "SuspendedEV")],
        meter_start_wh=1000,
        meter_stop_wh=7600,
    )
    assert table(periods) == [
        (0, {"ENERGY": "3.0000", "TIME": "0.2500", "POWER": "12.0000"}),
        (15, {"ENERGY": "3.6000", "TIME": "0.2500", "POWER": "14.4000"}),
        (30, {"ENERGY": "0.0000", "PARKING_TIME": "0.1667", "POWER": "0.0000"}),
        (40, {"ENERGY": "0.0000", "PARKING_TIME": "0.0833", "POWER": "0.0000"}),
    ]


def test_without_charging_between_readings_the_energy_goes_to_parking() -> None:
    periods = charging_periods(
        start=T0,
        end=at(20),
        samples=[reading(0, 500), reading(10, 600), reading(20, 600)],
        states=[state(0, "SuspendedEV")],
    )
    assert table(periods) == [
        (0, {"ENERGY": "0.1000", "PARKING_TIME": "0.1667", "POWER": "0.6000"}),
        (10, {"ENERGY": "0.0000", "PARKING_TIME": "0.1666", "POWER": "0.0000"}),
    ]


def test_a_change_of_state_between_readings_splits_the_energy_pro_rata() -> None:
    # Charging 10:00-10:05 and 10:10-10:20 between readings 20 minutes apart.
    periods = charging_periods(
        start=T0,
        end=at(20),
        samples=[reading(20, 1500)],
        states=[state(5, "SuspendedEV"), state(10, "Charging")],
        meter_start_wh=0,
    )
    assert [(minute, dims["ENERGY"]) for minute, dims in table(periods)] == [
        (0, "0.5000"),
        (5, "0.0000"),
        (10, "1.0000"),
    ]


def test_a_register_that_goes_back_is_not_billed_twice() -> None:
    periods = charging_periods(
        start=T0,
        end=at(30),
        samples=[reading(10, 2000), reading(20, 1500), reading(30, 2500)],
        meter_start_wh=1000,
    )
    assert [dims["ENERGY"] for _, dims in table(periods)] == ["1.0000", "0.0000", "0.5000"]


def test_readings_outside_the_session_and_other_units() -> None:
    periods = charging_periods(
        start=T0,
        end=at(10),
        samples=[reading(-5, 100.0, "kWh"), reading(5, 100.75, "kWh"), reading(12, 200, "kWh")],
    )
    # Only the reading inside counts; the energy before it is not known.
    assert table(periods) == [
        (0, {"ENERGY": "0.0000", "TIME": "0.0833", "POWER": "0.0000"}),
        (5, {"ENERGY": "0.0000", "TIME": "0.0834", "POWER": "0.0000"}),
    ]


def test_explicit_meter_values_win_over_readings_at_the_same_moment() -> None:
    periods = charging_periods(
        start=T0,
        end=at(60),
        samples=[reading(0, 999_999), reading(60, 5)],
        meter_start_wh=1000,
        meter_stop_wh=12_000,
    )
    assert table(periods) == [(0, {"ENERGY": "11.0000", "TIME": "1.0000", "POWER": "11.0000"})]


def test_levels_of_the_samples_in_each_period() -> None:
    periods = charging_periods(
        start=T0,
        end=at(20),
        samples=[
            reading(0, 0),
            sample(0, "Power.Active.Import", 7400, "W"),
            *(sample(0, "Current.Import", 10, "A", phase) for phase in ("L1", "L2", "L3")),
            sample(0, "Current.Import", 99, "A"),  # the phases' sum comes first
            reading(10, 2000),
            sample(10, "Power.Active.Import", 11.04, "kW"),
            sample(10, "Power.Active.Import", 3.68, "kW", "L1"),  # the total comes first
            sample(10, "Current.Import", 16, "A"),
            sample(10, "SoC", 40, "Percent"),
            sample(10, "SoC", 41, "Percent"),
            reading(20, 3000),
            sample(20, "SoC", 250, "Percent"),  # impossible: left out
        ],
    )
    first, second = table(periods)
    assert first == (
        0,
        {
            "ENERGY": "2.0000",
            "TIME": "0.1667",
            "POWER": "12.0000",
            "MIN_POWER": "7.4000",
            "MAX_POWER": "11.0400",
            "MIN_CURRENT": "16.0000",
            "MAX_CURRENT": "30.0000",
            "STATE_OF_CHARGE": "41.0000",
        },
    )
    assert second == (10, {"ENERGY": "1.0000", "TIME": "0.1666", "POWER": "6.0000"})


def test_states_reported_at_the_start_and_at_one_moment() -> None:
    periods = charging_periods(
        start=T0,
        end=at(10),
        samples=[],
        states=[
            state(-10, "Charging"),
            state(0, "EVConnected"),  # the state in force at the start
            state(5, "Charging"),
            state(5, "SuspendedEV"),  # the later report of one moment wins
            state(10, "Charging"),  # at the end: changes nothing
        ],
    )
    assert [(minute, set(dims)) for minute, dims in table(periods)] == [
        (0, {"ENERGY", "PARKING_TIME", "POWER"}),
    ]


def test_a_session_of_no_length_and_one_that_ends_before_it_starts() -> None:
    for end in (T0, at(-5)):
        periods = charging_periods(start=T0, end=end, samples=[], meter_start_wh=10)
        assert table(periods) == [(0, {"ENERGY": "0.0000", "TIME": "0.0000"})]


@given(
    st.lists(st.integers(min_value=1, max_value=7_200), min_size=0, max_size=12, unique=True),
    st.lists(st.integers(min_value=0, max_value=500_000), min_size=12, max_size=12),
    st.lists(
        st.tuples(
            st.integers(min_value=-60, max_value=7_260),
            st.sampled_from(["Charging", "SuspendedEV", "Idle", "SuspendedEVSE"]),
        ),
        max_size=8,
    ),
    st.integers(min_value=1, max_value=7_260),
)
def test_periods_add_up_to_the_session(
    seconds: list[int], wh: list[int], states: list[tuple[int, str]], length: int
) -> None:
    end = T0 + timedelta(seconds=length)
    samples = [
        MeterSample(
            sampled_at=T0 + timedelta(seconds=s), measurand=ENERGY_IMPORT, value=float(w), unit="Wh"
        )
        for s, w in zip(sorted(seconds), wh, strict=False)
    ]
    periods = charging_periods(
        start=T0,
        end=end,
        samples=samples,
        states=[StateChange(at=T0 + timedelta(seconds=s), state=n) for s, n in states],
        meter_start_wh=0.0,
    )
    # A valid OCPI timeline (the engine's own checks), whose amounts add up exactly.
    SessionTimeline(start_date_time=T0, end_date_time=end, charging_periods=periods)
    inside = [s for s in samples if s.sampled_at <= end]
    highest = max([0.0, *(s.value or 0.0 for s in inside)])
    energy = sum(p.volume(CdrDimensionType.ENERGY) or Decimal(0) for p in periods)
    assert energy == ocpi_number(Fraction(repr(highest)) / 1000)
    hours = sum(
        (p.volume(CdrDimensionType.TIME) or Decimal(0))
        + (p.volume(CdrDimensionType.PARKING_TIME) or Decimal(0))
        for p in periods
    )
    assert hours == ocpi_number(Fraction(length, 3600))
