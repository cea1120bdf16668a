"""Charging profiles: the cap of an EVSE is min(limits) at now, by OCPP's stacking rules."""

from __future__ import annotations

import pytest

from chargegrid.simulator.physics import AC_11KW, AC_22KW
from chargegrid.simulator.profiles import DAY_S, Kind, Period, Profile, ProfileSet, Purpose

T0 = 1_780_000_000.0


def profile(
    id: int,
    purpose: Purpose,
    *periods: tuple[float, float],
    stack_level: int = 0,
    kind: Kind = Kind.ABSOLUTE,
    unit: str = "W",
    start: float | None = T0,
    **more: object,
) -> Profile:
    return Profile(
        id=id,
        stack_level=stack_level,
        purpose=purpose,
        kind=kind,
        unit=unit,
        periods=tuple(Period(s, limit) for s, limit in periods),
        start=start,
        **more,  # type: ignore[arg-type]
    )


def test_no_profile_no_cap() -> None:
    assert ProfileSet().cap_w(1, AC_11KW, T0, tx="T", tx_start=T0) is None


def test_an_absolute_schedule_follows_its_periods() -> None:
    profiles = ProfileSet()
    profiles.install(1, profile(1, Purpose.TX_DEFAULT, (0, 7_000), (600, 3_000)), T0)

    def cap(at: float) -> float | None:
        return profiles.cap_w(1, AC_11KW, at, tx="T", tx_start=T0)

    assert cap(T0 - 1) is None  # before its start
    assert cap(T0) == 7_000
    assert cap(T0 + 599) == 7_000
    assert cap(T0 + 600) == 3_000
    assert profiles.next_change(1, T0 + 10, T0) == T0 + 600
    assert profiles.next_change(1, T0 + 600, T0) is None


def test_transaction_profiles_apply_only_to_transactions() -> None:
    profiles = ProfileSet()
    profiles.install(0, profile(1, Purpose.TX_DEFAULT, (0, 5_000)), T0)
    assert profiles.cap_w(1, AC_11KW, T0, tx=None, tx_start=None) is None
    assert profiles.cap_w(1, AC_11KW, T0, tx="T", tx_start=T0) == 5_000  # station-wide default


def test_a_tx_profile_beats_the_defaults_and_ends_with_its_transaction() -> None:
    profiles = ProfileSet()
    profiles.install(0, profile(1, Purpose.TX_DEFAULT, (0, 5_000)), T0)
    profiles.install(1, profile(2, Purpose.TX_DEFAULT, (0, 6_000)), T0)
    assert profiles.cap_w(1, AC_11KW, T0, tx="T", tx_start=T0) == 6_000  # the EVSE's own
    assert profiles.cap_w(2, AC_11KW, T0, tx="U", tx_start=T0) == 5_000
    profiles.install(1, profile(3, Purpose.TX, (0, 9_000), transaction="T"), T0)
    assert profiles.cap_w(1, AC_11KW, T0, tx="T", tx_start=T0) == 9_000  # even if higher
    assert profiles.cap_w(1, AC_11KW, T0, tx="OTHER", tx_start=T0) == 6_000
    profiles.end_transaction("T")
    assert profiles.cap_w(1, AC_11KW, T0, tx="T", tx_start=T0) == 6_000


def test_the_highest_stack_level_with_a_period_wins() -> None:
    profiles = ProfileSet()
    profiles.install(1, profile(1, Purpose.TX_DEFAULT, (0, 8_000), stack_level=1), T0)
    later = profile(2, Purpose.TX_DEFAULT, (0, 2_000), stack_level=5, valid_from=T0 + 60)
    profiles.install(1, later, T0)
    assert profiles.cap_w(1, AC_11KW, T0, tx="T", tx_start=T0) == 8_000  # level 5 not valid yet
    assert profiles.cap_w(1, AC_11KW, T0 + 60, tx="T", tx_start=T0) == 2_000
    assert profiles.next_change(1, T0, T0) == T0 + 60


def test_the_station_maximum_caps_and_is_shared() -> None:
    profiles = ProfileSet()
    profiles.install(0, profile(1, Purpose.STATION_MAX, (0, 12_000)), T0)
    profiles.install(1, profile(2, Purpose.TX_DEFAULT, (0, 20_000)), T0)
    assert profiles.cap_w(1, AC_22KW, T0, tx="T", tx_start=T0) == 12_000  # min of both
    assert profiles.cap_w(1, AC_22KW, T0, tx="T", tx_start=T0, sharing=3) == 4_000


def test_current_limits_become_power_with_the_phases_used() -> None:
    profiles = ProfileSet()
    amps = Profile(
        id=1,
        stack_level=0,
        purpose=Purpose.TX_DEFAULT,
        kind=Kind.ABSOLUTE,
        unit="A",
        periods=(Period(0, 16.0), Period(60, 16.0, phases=1)),
        start=T0,
    )
    profiles.install(1, amps, T0)
    assert profiles.cap_w(1, AC_11KW, T0, tx="T", tx_start=T0) == pytest.approx(11_040.0)
    assert profiles.cap_w(1, AC_11KW, T0 + 60, tx="T", tx_start=T0) == pytest.approx(3_680.0)


def test_relative_and_recurring_schedules() -> None:
    relative = profile(1, Purpose.TX_DEFAULT, (0, 3_000), (100, 1_000), kind=Kind.RELATIVE)
    assert relative.limit_at(T0 + 50, tx_start=T0 + 20) == Period(0, 3_000)
    assert relative.limit_at(T0 + 150, tx_start=T0 + 20) == Period(100, 1_000)
    assert relative.limit_at(T0 + 150, tx_start=None) is None

    daily = profile(2, Purpose.TX_DEFAULT, (0, 1_000), (3_600, 4_000), kind=Kind.RECURRING)
    assert daily.limit_at(T0 + 3 * DAY_S + 10, None) == Period(0, 1_000)
    assert daily.limit_at(T0 + 3 * DAY_S + 3_700, None) == Period(3_600, 4_000)
    assert daily.next_change(T0 + 3 * DAY_S + 3_700, None) == T0 + 4 * DAY_S


def test_install_replaces_by_id_and_by_stack_slot_and_clear_by_criteria() -> None:
    profiles = ProfileSet()
    profiles.install(1, profile(1, Purpose.TX_DEFAULT, (0, 1_000), stack_level=2), T0)
    profiles.install(1, profile(1, Purpose.TX_DEFAULT, (0, 2_000), stack_level=3), T0)
    profiles.install(1, profile(7, Purpose.TX_DEFAULT, (0, 3_000), stack_level=3), T0)
    assert [(e, p.id) for e, p in profiles.entries()] == [(1, 7)]
    profiles.install(0, profile(8, Purpose.STATION_MAX, (0, 9_000)), T0)
    assert profiles.clear(purpose=Purpose.STATION_MAX) == 1
    assert profiles.clear(profile_id=99) == 0
    assert profiles.clear(evse_id=1, stack_level=3) == 1
    assert len(profiles) == 0


def test_an_absolute_profile_without_a_start_starts_when_installed() -> None:
    profiles = ProfileSet()
    profiles.install(1, profile(1, Purpose.TX_DEFAULT, (0, 1_000), (30, 2_000), start=None), T0)
    assert profiles.cap_w(1, AC_11KW, T0 + 30, tx="T", tx_start=T0) == 2_000


def test_the_composite_schedule_merges_every_limit() -> None:
    profiles = ProfileSet()
    profiles.install(0, profile(1, Purpose.STATION_MAX, (0, 9_000), (300, 4_000)), T0)
    profiles.install(1, profile(2, Purpose.TX_DEFAULT, (0, 6_000), (200, 7_000)), T0)
    periods = profiles.composite(1, AC_11KW, T0, 600, tx="T", tx_start=T0, unit="W")
    assert periods == [Period(0, 6_000), Period(200, 7_000), Period(300, 4_000)]
    amps = profiles.composite(1, AC_11KW, T0, 100, tx=None, tx_start=None, unit="A")
    assert amps == [Period(0, 13.0)]  # the station maximum alone: 9 kW on 3 x 230 V
