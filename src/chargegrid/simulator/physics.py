"""EVSE and EV physics, the same for every OCPP version.

Power is piecewise constant: it is set at discrete moments (a meter sample, a change of
charging limit, the EV reaching a state-of-charge threshold) and the energy register
integrates it exactly in between, so every reading agrees with the power reported
before it: E(t2) - E(t1) = P(t1) * (t2 - t1).
"""

from __future__ import annotations

from dataclasses import dataclass

from chargegrid.simulator.model import Reading
from chargegrid.values import immutable

# An EV charges at full power up to this state of charge, then tapers linearly towards
# MIN_TAPER_FRACTION of its power at 100 %.
TAPER_START_SOC = 80.0
MIN_TAPER_FRACTION = 0.1
# While tapering, power is recomputed at least this often.
TAPER_STEP_S = 30.0


@immutable
class EvseSpec:
    """The electrical side of an EVSE."""

    max_power_w: float
    phases: int  # 1 or 3 for AC; 0 for DC
    voltage_v: float  # phase voltage (AC) or DC voltage

    def watts(self, amps: float, phases: int | None = None) -> float:
        """The power of a current limit (per phase on AC)."""
        if self.phases == 0:
            return amps * self.voltage_v
        return amps * self.voltage_v * (phases or self.phases)

    def amps(self, watts: float) -> float:
        """The current (per phase on AC) that carries ``watts``."""
        return watts / (self.voltage_v * max(1, self.phases))


AC_11KW = EvseSpec(11_040.0, 3, 230.0)
AC_22KW = EvseSpec(22_080.0, 3, 230.0)
DC_50KW = EvseSpec(50_000.0, 0, 400.0)
DC_150KW = EvseSpec(150_000.0, 0, 800.0)
SPECS = (AC_11KW, AC_22KW, DC_50KW, DC_150KW)


@dataclass(slots=True)
class Ev:
    """An electric vehicle plugged into an EVSE."""

    capacity_wh: float
    soc: float  # percent
    max_power_w: float
    target_soc: float  # it stops drawing power here

    def demand_w(self) -> float:
        """The power the EV accepts now: full up to the taper, then less, none when full."""
        if self.soc >= self.target_soc:
            return 0.0
        if self.soc < TAPER_START_SOC:
            return self.max_power_w
        fraction = (100.0 - self.soc) / (100.0 - TAPER_START_SOC)
        return self.max_power_w * max(MIN_TAPER_FRACTION, fraction)

    def seconds_to_change(self, power_w: float) -> float | None:
        """How long ``power_w`` may be drawn before the EV's demand changes."""
        if power_w <= 0 or self.soc >= self.target_soc:
            return None
        threshold = min(self.target_soc, TAPER_START_SOC) if self.soc < TAPER_START_SOC else None
        until = self.target_soc if threshold is None else threshold
        seconds = (until - self.soc) / 100.0 * self.capacity_wh / power_w * 3600.0
        return seconds if threshold is not None else min(TAPER_STEP_S, seconds)


@dataclass(slots=True)
class Meter:
    """The energy register of an EVSE and the power flowing through it."""

    energy_wh: float
    since: float  # the register is exact at this moment
    power_w: float = 0.0

    def advance(self, now: float, ev: Ev | None) -> float:
        """Integrate the power up to ``now``; returns the energy added (Wh)."""
        elapsed = now - self.since
        if elapsed <= 0:
            return 0.0
        added = self.power_w * elapsed / 3600.0
        self.energy_wh += added
        self.since = now
        if ev is not None and added:
            ev.soc = min(100.0, ev.soc + added / ev.capacity_wh * 100.0)
        return added

    def set_power(self, now: float, power_w: float, ev: Ev | None) -> None:
        """From ``now`` on, ``power_w`` flows (the time before is integrated first)."""
        self.advance(now, ev)
        self.power_w = max(0.0, power_w)

    def reading(self, spec: EvseSpec, ev: Ev | None) -> Reading:
        """What the meter shows (call ``advance`` first)."""
        return Reading(
            energy_wh=round(self.energy_wh),
            power_w=round(self.power_w, 1),
            current_a=round(spec.amps(self.power_w), 2),
            voltage_v=spec.voltage_v,
            soc=None if ev is None else round(ev.soc, 1),
        )
