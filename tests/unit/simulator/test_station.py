"""The station: sessions whose readings are consistent, capped by profiles, with
reservations, availability, faults and Poisson arrivals."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from chargegrid.ocpp.versions import OcppVersion
from chargegrid.simulator import operations
from chargegrid.simulator.evse import Behaviour, TokenPool
from chargegrid.simulator.model import ConnectorStatus, Fault, StopReason
from chargegrid.simulator.physics import AC_11KW, AC_22KW, Ev
from chargegrid.simulator.profiles import Kind, Period, Profile, Purpose
from tests.unit.simulator.csms import QUIET, T0, Csms, make_core, run_until

V16, V201 = OcppVersion.V16, OcppVersion.V201


def ev(soc: float = 30.0, target: float = 95.0, power: float = 22_000.0) -> Ev:
    return Ev(capacity_wh=60_000.0, soc=soc, max_power_w=power, target_soc=target)


def readings(csms: Csms) -> list[tuple[str, dict[str, float]]]:
    """(timestamp, {measurand: value}) of every 1.6 MeterValues."""
    found = []
    for action, payload in csms.calls:
        if action == "MeterValues":
            (value,) = payload["meterValue"]
            found.append(
                (
                    value["timestamp"],
                    {v["measurand"]: float(v["value"]) for v in value["sampledValue"]},
                )
            )
    return found


def started(csms: Csms) -> dict[str, Any]:
    return next(p for a, p in csms.calls if a == "StartTransaction")


def stopped(csms: Csms) -> dict[str, Any]:
    return next(p for a, p in csms.calls if a == "StopTransaction")


def test_every_reading_agrees_with_the_power_reported_before_it() -> None:
    core = make_core(V16, meter_interval=30.0)
    csms = Csms(core)
    csms.boot()
    assert core.station.plug_in(1, T0, id_token="TAG", duration=300.0, ev=ev())
    run_until(csms, T0, T0 + 400, step=7.0)
    samples = readings(csms)
    assert len(samples) == 9  # every 30 s until the EV left at 300 s
    energy = [started(csms)["meterStart"]] + [
        s["Energy.Active.Import.Register"] for _, s in samples
    ]
    power = [s["Power.Active.Import"] for _, s in samples]
    assert power[0] == pytest.approx(11_040.0)  # the EVSE, not the EV, limits it
    for before, after in itertools.pairwise(energy):
        assert after - before == pytest.approx(11_040.0 * 30 / 3600, abs=1.0)
    stop = stopped(csms)
    assert stop["meterStop"] - started(csms)["meterStart"] == pytest.approx(
        11_040 * 300 / 3600, abs=1
    )
    assert stop["reason"] == "EVDisconnected"
    (record,) = core.records()
    assert record.energy_wh == stop["meterStop"] - started(csms)["meterStart"]
    assert samples[0][1]["Current.Import"] == pytest.approx(16.0)
    assert 30.0 < samples[-1][1]["SoC"] < 50.0


def test_a_charging_profile_caps_the_power_and_its_removal_lifts_the_cap() -> None:
    core = make_core(V16, meter_interval=60.0)
    csms = Csms(core)
    csms.boot()
    assert core.station.plug_in(1, T0, id_token="TAG", duration=3_600.0, ev=ev())
    csms.serve(T0)
    profile = {
        "chargingProfileId": 5,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0, "numberPhases": 1}],
        },
    }
    answer = csms.call(
        "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}, T0 + 60
    )
    assert answer[2] == {"status": "Accepted"}
    run_until(csms, T0 + 60, T0 + 180, step=60.0)
    capped = readings(csms)[-1][1]
    assert capped["Power.Active.Import"] == pytest.approx(8 * 230.0)
    first, second = (s["Energy.Active.Import.Register"] for _, s in readings(csms)[-2:])
    assert second - first == pytest.approx(8 * 230.0 * 60 / 3600, abs=1)

    answer = csms.call("ClearChargingProfile", {"id": 5}, T0 + 180)
    assert answer[2] == {"status": "Accepted"}
    run_until(csms, T0 + 180, T0 + 240, step=60.0)
    assert readings(csms)[-1][1]["Power.Active.Import"] == pytest.approx(11_040.0)


def test_a_schedule_period_changes_the_power_exactly_on_time() -> None:
    core = make_core(V16, meter_interval=100.0)
    station = core.station
    csms = Csms(core)
    csms.boot()
    schedule = (Period(0, 10_000.0), Period(50, 4_000.0))
    station.profiles.install(
        1, Profile(1, 0, Purpose.TX_DEFAULT, Kind.ABSOLUTE, "W", schedule, start=T0), T0
    )
    assert station.plug_in(1, T0, id_token="TAG", duration=1_000.0, ev=ev())
    csms.serve(T0)
    start = station.evses[0].meter.energy_wh
    assert core.next_deadline(T0) == T0 + 50
    run_until(csms, T0, T0 + 100, step=100.0)
    assert station.evses[0].meter.energy_wh - start == pytest.approx((10_000 + 4_000) * 50 / 3600)


def test_the_station_maximum_is_shared_by_the_evses_charging() -> None:
    core = make_core(V201, specs=(AC_22KW, AC_22KW), meter_interval=60.0)
    station = core.station
    csms = Csms(core)
    csms.boot()
    cap = Profile(1, 0, Purpose.STATION_MAX, Kind.ABSOLUTE, "W", (Period(0, 20_000.0),))
    assert operations.set_profile(station, 0, cap, T0)
    assert station.plug_in(1, T0, id_token="A", duration=600.0, ev=ev())
    csms.serve(T0)
    assert station.evses[0].meter.power_w == 20_000.0
    assert station.plug_in(2, T0 + 1, id_token="B", duration=600.0, ev=ev())
    csms.serve(T0 + 1)
    assert [e.meter.power_w for e in station.evses] == [10_000.0, 10_000.0]


def test_a_full_ev_suspends_the_charging() -> None:
    core = make_core(V201, meter_interval=3_600.0)
    csms = Csms(core)
    csms.boot()
    assert core.station.plug_in(1, T0, id_token="T", duration=7_200.0, ev=ev(soc=78.0, target=80.0))
    csms.serve(T0)
    # 2 % of 60 kWh at 11.04 kW: 391 s, then the EV wants nothing more.
    run_until(csms, T0, T0 + 400, step=10.0)
    evse = core.station.evses[0]
    assert evse.status is ConnectorStatus.SUSPENDED_EV
    assert evse.meter.power_w == 0.0
    updates = [p for a, p in csms.calls if a == "TransactionEvent" and p["eventType"] == "Updated"]
    assert updates[-1]["triggerReason"] == "ChargingStateChanged"
    assert updates[-1]["transactionInfo"]["chargingState"] == "SuspendedEV"


def test_a_reservation_holds_the_evse_for_its_token_until_it_expires() -> None:
    core = make_core(V201)
    station = core.station
    csms = Csms(core)
    csms.boot()
    status = operations.reserve(
        station, reservation_id=9, id_token="MINE", expires_at=T0 + 100, evse_id=1, now=T0
    )
    assert status == "Accepted"
    assert not station.plug_in(1, T0 + 1, id_token="OTHER", ev=ev())
    assert station.plug_in(1, T0 + 2, id_token="MINE", duration=30.0, ev=ev())
    csms.serve(T0 + 2)
    start = next(p for a, p in csms.calls if a == "TransactionEvent")
    assert start["reservationId"] == 9
    run_until(csms, T0 + 2, T0 + 40)
    assert (
        operations.reserve(
            station, reservation_id=10, id_token="X", expires_at=T0 + 60, evse_id=1, now=T0 + 40
        )
        == "Accepted"
    )
    csms.serve(T0 + 40)
    run_until(csms, T0 + 40, T0 + 61)
    assert (
        "ReservationStatusUpdate",
        {"reservationId": 10, "reservationUpdateStatus": "Expired"},
    ) in csms.calls
    statuses = [p["connectorStatus"] for a, p in csms.calls if a == "StatusNotification"]
    assert statuses[-2:] == ["Reserved", "Available"]


def test_unavailable_is_scheduled_while_charging() -> None:
    core = make_core(V16)
    station = core.station
    csms = Csms(core)
    csms.boot()
    assert station.plug_in(1, T0, id_token="T", duration=60.0, ev=ev())
    csms.serve(T0)
    answer = csms.call("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, T0 + 1)
    assert answer[2] == {"status": "Scheduled"}
    csms.serve(T0 + 1)
    statuses = [p["status"] for a, p in csms.calls if a == "StatusNotification"]
    assert statuses[-1] == "Unavailable"  # the idle EVSE at once
    run_until(csms, T0 + 1, T0 + 70)
    by_connector = {
        p["connectorId"]: p["status"] for a, p in csms.calls if a == "StatusNotification"
    }
    assert by_connector == {1: "Unavailable", 2: "Unavailable"}
    assert not station.plug_in(1, T0 + 80, id_token="T", ev=ev())


def test_a_fault_ends_the_session_and_clears_later() -> None:
    core = make_core(V16)
    station = core.station
    csms = Csms(core)
    csms.boot()
    assert station.plug_in(1, T0, id_token="T", duration=600.0, ev=ev())
    csms.serve(T0)
    station.fault(station.evses[0], Fault.GROUND_FAILURE, T0 + 10, 30.0)
    csms.serve(T0 + 10)
    assert stopped(csms)["reason"] == "Other"
    faulted = [p for a, p in csms.calls if a == "StatusNotification"][-1]
    assert (faulted["status"], faulted["errorCode"]) == ("Faulted", "GroundFailure")
    assert core.records()[0].stop_reason == StopReason.FAULT.value
    run_until(csms, T0 + 10, T0 + 41)
    last = [p for a, p in csms.calls if a == "StatusNotification"][-1]
    assert (last["status"], last["errorCode"]) == ("Available", "NoError")


def test_sessions_arrive_at_the_configured_rate() -> None:
    behaviour = Behaviour(session_rate=6.0, duration_s=(60.0, 60.0), fault_rate=0.0)
    core = make_core(V201, specs=(AC_11KW,) * 4, behaviour=behaviour, seed=3)
    csms = Csms(core)
    csms.boot()
    run_until(csms, T0, T0 + 20 * 3600, step=30.0)
    sessions = core.records()
    # 6 per hour for 20 hours (a busy EVSE turns few away at this rate): about 120.
    assert 90 <= len(sessions) <= 150
    assert all(r.complete for r in sessions[:-1])
    assert {r.id_token for r in sessions} == set(QUIET.id_tokens)


def test_a_driver_charges_at_one_place_at_a_time() -> None:
    behaviour = Behaviour(session_rate=0.0, fault_rate=0.0, id_tokens=("ONLY",))
    core = make_core(V16, behaviour=behaviour)
    station = core.station
    csms = Csms(core)
    csms.boot()
    assert station.plug_in(1, T0, duration=10.0, ev=ev())
    assert station.evses[0].token == "ONLY"
    assert not station.plug_in(2, T0 + 1, ev=ev())  # the fleet's only driver is busy
    assert station.plug_in(2, T0 + 1, id_token="GUEST", duration=5.0, ev=ev())  # not the fleet's
    run_until(csms, T0 + 1, T0 + 20)
    assert station.plug_in(2, T0 + 20, ev=ev())  # back, and free again
    csms.serve(T0 + 20)
    assert [r.id_token for r in core.records()] == ["ONLY", "GUEST", "ONLY"]


def test_the_token_pool_lends_each_token_once() -> None:
    pool = TokenPool(["A", "B", "C"])
    rng = random.Random(5)
    taken = {pool.take(rng), pool.take(rng), pool.take(rng)}
    assert taken == {"A", "B", "C"}
    assert pool.take(rng) is None
    pool.release("B")
    pool.release("B")
    pool.release("STRANGER")
    assert len(pool) == 1
    assert pool.take(rng) == "B"
