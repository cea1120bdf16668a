"""A transaction's charts from its meter samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargegrid.dashboard.meter_chart import charts, register_wh
from chargegrid.domain.model import ENERGY_IMPORT
from chargegrid.storage.repositories.meter_series import POWER_IMPORT, ChartSample

START = datetime(2030, 1, 1, 12, tzinfo=UTC)


def sample(
    n: int, measurand: str, value: float | None, unit: str | None = None, **more: str
) -> ChartSample:
    return ChartSample(
        id=n,
        sampled_at=START + timedelta(minutes=n),
        measurand=measurand,
        phase=more.get("phase"),
        unit=unit,
        value=value,
    )


def test_energy_counts_from_the_meter_start_one_point_per_register_reading() -> None:
    samples = [
        sample(1, ENERGY_IMPORT, 10_500.0, "Wh"),
        sample(2, POWER_IMPORT, 7_200.0, "W"),
        sample(3, ENERGY_IMPORT, 11.5, "kWh"),
        sample(4, ENERGY_IMPORT, 12_000.0, "Wh", phase="L1"),  # one phase: not the register
        sample(5, ENERGY_IMPORT, None, "Wh"),
    ]
    meter = charts(samples, meter_start_wh=10_000.0)
    assert meter.energy.x == [(START + timedelta(minutes=n)).timestamp() for n in (1, 3)]
    assert meter.energy.y == [0.5, 1.5]
    assert meter.energy_wh == 1_500.0
    assert meter.last_id == 5
    assert meter.power.y == [7.2]
    chart = meter.energy.chart("Energy", "kWh")
    assert chart == {
        "x": meter.energy.x,
        "y": [0.5, 1.5],
        "label": "Energy",
        "unit": "kWh",
        "xLabel": "Time",
    }


def test_without_a_meter_start_the_first_reading_is_the_start() -> None:
    meter = charts(
        [sample(1, ENERGY_IMPORT, 500.0), sample(2, ENERGY_IMPORT, 900.0)], meter_start_wh=None
    )
    assert meter.base_wh == 500.0
    assert meter.energy.y == [0.0, 0.4]
    # Live updates continue from the base drawn before.
    later = charts([sample(3, ENERGY_IMPORT, 1_500.0)], meter_start_wh=None, base_wh=500.0)
    assert later.energy.y == [1.0]
    assert later.energy_wh == 1_000.0


def test_power_is_the_total_or_else_the_sum_of_the_phases() -> None:
    samples = [
        sample(1, POWER_IMPORT, 2.0, "kW", phase="L1"),
        sample(1, POWER_IMPORT, 2.5, "kW", phase="L2"),
        sample(2, POWER_IMPORT, 3_000.0, "W", phase="L1-N"),
        sample(2, POWER_IMPORT, 11_000.0, "W"),  # the total wins over its phases
        sample(3, POWER_IMPORT, 1.0, "kvar"),  # not a unit of active power
    ]
    meter = charts(samples, meter_start_wh=None)
    assert meter.power.y == [4.5, 11.0]
    assert meter.energy.x == []
    assert meter.energy_wh is None


def test_only_the_whole_register_is_energy() -> None:
    assert register_wh(sample(1, ENERGY_IMPORT, 2.0, "kWh")) == 2_000.0
    assert register_wh(sample(1, ENERGY_IMPORT, 2.0, "varh")) is None
    assert register_wh(sample(1, POWER_IMPORT, 2.0, "W")) is None
