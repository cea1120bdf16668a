"""Charging profiles, version-neutral: which limit applies to an EVSE at a given moment.

The rules of OCPP smart charging, for both 1.6 and 2.0.1:

- within one purpose, the valid profile of the highest stack level that has a period at
  that moment sets the limit;
- a transaction uses its TxProfile if it has one, else the EVSE's TxDefaultProfile,
  else the station-wide one (EVSE 0);
- the station maximum (and 2.0.1 external constraints) caps that again; the station
  maximum is shared equally by the EVSEs drawing power;
- the cap is the minimum of all that applies: min(limits) at ``now``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from enum import Enum

from chargegrid.simulator.physics import EvseSpec
from chargegrid.values import immutable

DAY_S = 86_400.0
WEEK_S = 7 * DAY_S
MAX_COMPOSITE_PERIODS = 1024


class Purpose(Enum):
    STATION_MAX = "station_max"
    TX_DEFAULT = "tx_default"
    TX = "tx"
    EXTERNAL = "external"  # OCPP 2.0.1 ChargingStationExternalConstraints


class Kind(Enum):
    ABSOLUTE = "absolute"
    RELATIVE = "relative"
    RECURRING = "recurring"


@immutable
class Period:
    start_s: float  # from the start of the schedule
    limit: float  # in the profile's unit
    phases: int | None = None


@immutable
class Profile:
    id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    unit: str  # "W" or "A"
    periods: tuple[Period, ...]
    recurring_daily: bool = True  # for RECURRING: daily, else weekly
    valid_from: float | None = None
    valid_to: float | None = None
    start: float | None = None  # startSchedule
    duration: float | None = None
    transaction: str | None = None  # the transaction (charger's key) a TX profile is for

    def schedule_start(self, at: float, tx_start: float | None) -> float | None:
        """When the schedule that covers ``at`` began; None if it has not begun."""
        if self.kind is Kind.RELATIVE:
            return tx_start
        if self.start is None:
            return None
        if self.kind is Kind.RECURRING:
            cycle = DAY_S if self.recurring_daily else WEEK_S
            return self.start + math.floor((at - self.start) / cycle) * cycle
        return self.start

    def limit_at(self, at: float, tx_start: float | None) -> Period | None:
        """The period in force at ``at``, if any."""
        if (self.valid_from is not None and at < self.valid_from) or (
            self.valid_to is not None and at >= self.valid_to
        ):
            return None
        start = self.schedule_start(at, tx_start)
        if start is None:
            return None
        offset = at - start
        if offset < 0 or (self.duration is not None and offset >= self.duration):
            return None
        found = None
        for period in self.periods:
            if period.start_s <= offset:
                found = period
            else:
                break
        return found

    def next_change(self, at: float, tx_start: float | None) -> float | None:
        """The first moment after ``at`` when this profile's limit may change."""
        candidates = [t for t in (self.valid_from, self.valid_to) if t is not None and t > at]
        start = self.schedule_start(at, tx_start)
        if start is not None:
            candidates.extend(start + p.start_s for p in self.periods if start + p.start_s > at)
            if self.duration is not None and start + self.duration > at:
                candidates.append(start + self.duration)
            if self.kind is Kind.RECURRING:
                candidates.append(start + (DAY_S if self.recurring_daily else WEEK_S))
        return min(candidates, default=None)

    def watts(self, period: Period, spec: EvseSpec) -> float:
        return period.limit if self.unit == "W" else spec.watts(period.limit, period.phases)


class ProfileSet:
    """The charging profiles installed on one charger, by EVSE (0: the station)."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: list[tuple[int, Profile]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[tuple[int, Profile]]:
        return list(self._entries)

    def install(self, evse_id: int, profile: Profile, now: float) -> None:
        """Add a profile; it replaces one of the same id, or of the same EVSE, purpose and
        stack level. An absolute schedule without a start starts now."""
        if profile.kind is Kind.ABSOLUTE and profile.start is None:
            profile = replace(profile, start=now)
        self._entries = [
            (e, p)
            for e, p in self._entries
            if p.id != profile.id
            and not (
                e == evse_id
                and p.purpose is profile.purpose
                and p.stack_level == profile.stack_level
            )
        ]
        self._entries.append((evse_id, profile))

    def clear(
        self,
        *,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove the profiles matching every criterion given; returns how many."""

        def matches(e: int, p: Profile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                (evse_id is None or e == evse_id)
                and (purpose is None or p.purpose is purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        before = len(self._entries)
        self._entries = [(e, p) for e, p in self._entries if not matches(e, p)]
        return before - len(self._entries)

    def end_transaction(self, key: str) -> None:
        """A transaction's TxProfiles end with it."""
        self._entries = [(e, p) for e, p in self._entries if p.transaction != key]

    def _stack_limit(
        self,
        evse_id: int,
        purpose: Purpose,
        at: float,
        spec: EvseSpec,
        tx: str | None,
        tx_start: float | None,
    ) -> float | None:
        candidates = sorted(
            (
                p
                for e, p in self._entries
                if e == evse_id
                and p.purpose is purpose
                and (purpose is not Purpose.TX or p.transaction in (None, tx))
            ),
            key=lambda p: -p.stack_level,
        )
        for profile in candidates:
            period = profile.limit_at(at, tx_start)
            if period is not None:
                return profile.watts(period, spec)
        return None

    def cap_w(
        self,
        evse_id: int,
        spec: EvseSpec,
        at: float,
        *,
        tx: str | None,
        tx_start: float | None,
        sharing: int = 1,
    ) -> float | None:
        """The power limit of an EVSE at ``at`` (None: no profile limits it).

        ``tx`` is the key of the EVSE's transaction (transaction profiles apply only
        during one); ``sharing`` how many EVSEs share the station maximum.
        """
        if not self._entries:
            return None
        caps: list[float] = []
        station = self._stack_limit(0, Purpose.STATION_MAX, at, spec, None, None)
        if station is not None:
            caps.append(station / max(1, sharing))
        for where in (0, evse_id):
            external = self._stack_limit(where, Purpose.EXTERNAL, at, spec, None, None)
            if external is not None:
                caps.append(external)
        if tx is not None:
            limit = self._stack_limit(evse_id, Purpose.TX, at, spec, tx, tx_start)
            for where in (evse_id, 0):
                if limit is None:
                    limit = self._stack_limit(where, Purpose.TX_DEFAULT, at, spec, tx, tx_start)
            if limit is not None:
                caps.append(limit)
        return min(caps, default=None)

    def next_change(self, evse_id: int, at: float, tx_start: float | None) -> float | None:
        """The first moment after ``at`` when the cap of an EVSE may change."""
        return min(
            (
                t
                for e, p in self._entries
                if e in (0, evse_id) and (t := p.next_change(at, tx_start)) is not None
            ),
            default=None,
        )

    def composite(
        self,
        evse_id: int,
        spec: EvseSpec,
        start: float,
        duration: float,
        *,
        tx: str | None,
        tx_start: float | None,
        unit: str,
    ) -> list[Period]:
        """The limits of an EVSE from ``start`` for ``duration`` seconds, merged, in ``unit``."""
        periods: list[Period] = []
        at, end = start, start + duration
        for _ in range(MAX_COMPOSITE_PERIODS):
            cap = self.cap_w(evse_id, spec, at, tx=tx, tx_start=tx_start)
            watts = spec.max_power_w if cap is None else min(cap, spec.max_power_w)
            limit = round(watts if unit == "W" else spec.amps(watts), 1)
            if not periods or periods[-1].limit != limit:
                periods.append(Period(round(at - start), limit))
            following = self.next_change(evse_id, at, tx_start)
            if following is None or following >= end:
                break
            at = following
        return periods
