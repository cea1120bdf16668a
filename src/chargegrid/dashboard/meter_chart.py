"""A transaction's power and energy charts, from its meter samples.

Energy is what the register gained since the start (the meter start, or the first
reading when the charger gave none), one point per register reading. Power is the
total active import in kW, one point per moment: the total when the charger sent it,
else the sum of its phases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chargegrid.domain.model import ENERGY_IMPORT
from chargegrid.storage.repositories.meter_series import POWER_IMPORT, ChartSample

_WH_PER_UNIT = {None: 1.0, "Wh": 1.0, "kWh": 1000.0}
_W_PER_UNIT = {None: 1.0, "W": 1.0, "kW": 1000.0}


@dataclass
class Series:
    """Points of one chart: Unix times (s) and values."""

    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)

    def chart(self, label: str, unit: str) -> dict[str, Any]:
        """The chart's data as ``app.js`` draws it."""
        return {"x": self.x, "y": self.y, "label": label, "unit": unit, "xLabel": "Time"}


@dataclass
class MeterCharts:
    """The energy and power series of a transaction, and what they start from."""

    energy: Series
    power: Series
    base_wh: float | None  # the register at the start
    last_wh: float | None  # the latest register reading
    last_id: int  # the newest sample row read

    @property
    def energy_wh(self) -> float | None:
        """Energy delivered up to the latest reading."""
        if self.base_wh is None or self.last_wh is None:
            return None
        return max(0.0, self.last_wh - self.base_wh)


def register_wh(sample: ChartSample) -> float | None:
    """A reading of the whole energy register in Wh; None for any other sample."""
    if sample.measurand != ENERGY_IMPORT or sample.phase is not None or sample.value is None:
        return None
    factor = _WH_PER_UNIT.get(sample.unit)
    return None if factor is None else sample.value * factor


def _power_kw(samples: Iterable[ChartSample]) -> list[tuple[datetime, float]]:
    totals: dict[datetime, float] = {}
    phases: dict[datetime, float] = {}
    for sample in samples:
        factor = _W_PER_UNIT.get(sample.unit)
        if sample.measurand != POWER_IMPORT or sample.value is None or factor is None:
            continue
        kw = sample.value * factor / 1000
        if sample.phase is None:
            totals[sample.sampled_at] = kw
        elif sample.phase.startswith("L") and not sample.phase.startswith("L1-L"):
            phases[sample.sampled_at] = phases.get(sample.sampled_at, 0.0) + kw
    merged = {**phases, **totals}
    return sorted(merged.items())


def charts(
    samples: Sequence[ChartSample], *, meter_start_wh: float | None, base_wh: float | None = None
) -> MeterCharts:
    """The charts of ``samples`` (ordered by time). ``base_wh`` continues a series drawn
    before (live updates); otherwise the base is the meter start or the first reading."""
    readings = [(s.sampled_at, wh) for s in samples if (wh := register_wh(s)) is not None]
    if base_wh is None:
        base_wh = meter_start_wh if meter_start_wh is not None else None
        if base_wh is None and readings:
            base_wh = readings[0][1]
    energy = Series()
    for at, wh in readings:
        energy.x.append(at.timestamp())
        energy.y.append(round(max(0.0, wh - (base_wh or 0.0)) / 1000, 4))
    power = Series()
    for at, kw in _power_kw(samples):
        power.x.append(at.timestamp())
        power.y.append(round(kw, 3))
    return MeterCharts(
        energy=energy,
        power=power,
        base_wh=base_wh,
        last_wh=readings[-1][1] if readings else None,
        last_id=max((s.id for s in samples), default=0),
    )
