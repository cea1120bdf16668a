"""EVSE and EV physics: the energy register is the integral of the power."""

from __future__ import annotations

import pytest

from chargegrid.simulator.physics import AC_11KW, DC_50KW, TAPER_START_SOC, Ev, Meter

T0 = 1_780_000_000.0


def test_the_register_integrates_piecewise_constant_power() -> None:
    ev = Ev(capacity_wh=60_000.0, soc=20.0, max_power_w=11_000.0, target_soc=90.0)
    meter = Meter(energy_wh=1_000.0, since=T0)
    steps = [(0.0, 11_000.0), (600.0, 5_000.0), (900.0, 0.0), (1_000.0, 7_400.0)]
    for offset, power in steps:
        meter.set_power(T0 + offset, power, ev)
    meter.advance(T0 + 1_300.0, ev)

    expected = (11_000 * 600 + 5_000 * 300 + 0 * 100 + 7_400 * 300) / 3600
    assert meter.energy_wh == pytest.approx(1_000.0 + expected)
    assert ev.soc == pytest.approx(20.0 + expected / 60_000 * 100)


def test_time_going_backwards_adds_nothing() -> None:
    meter = Meter(energy_wh=5.0, since=T0, power_w=10_000.0)
    assert meter.advance(T0 - 10, None) == 0.0
    assert meter.energy_wh == 5.0


def test_the_ev_charges_fully_then_tapers_then_stops() -> None:
    ev = Ev(capacity_wh=50_000.0, soc=50.0, max_power_w=22_000.0, target_soc=95.0)
    assert ev.demand_w() == 22_000.0
    ev.soc = 90.0
    assert ev.demand_w() == pytest.approx(22_000.0 * (100 - 90) / (100 - TAPER_START_SOC))
    ev.soc = 99.9
    assert ev.demand_w() == 0.0  # above its target
    ev.target_soc = 100.0
    assert ev.demand_w() == pytest.approx(2_200.0)  # never below a tenth while charging


def test_the_ev_says_when_its_demand_changes() -> None:
    ev = Ev(capacity_wh=40_000.0, soc=70.0, max_power_w=10_000.0, target_soc=100.0)
    # 10 % of 40 kWh at 10 kW: 0.4 h to the taper.
    assert ev.seconds_to_change(10_000.0) == pytest.approx(1_440.0)
    assert ev.seconds_to_change(0.0) is None
    ev.soc = 85.0
    assert ev.seconds_to_change(5_000.0) == 30.0  # tapering: re-evaluated often


def test_a_reading_agrees_with_the_evse() -> None:
    ev = Ev(capacity_wh=60_000.0, soc=42.04, max_power_w=11_000.0, target_soc=90.0)
    meter = Meter(energy_wh=1_234.6, since=T0, power_w=11_040.0)
    reading = meter.reading(AC_11KW, ev)
    assert reading.energy_wh == 1_235
    assert reading.power_w == 11_040.0
    assert reading.current_a == pytest.approx(16.0)  # per phase, three phases of 230 V
    assert reading.voltage_v == 230.0
    assert reading.soc == 42.0
    assert Meter(0.0, T0, 40_000.0).reading(DC_50KW, None).current_a == pytest.approx(100.0)
