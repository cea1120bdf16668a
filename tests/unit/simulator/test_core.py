"""The charger core: registration, heartbeats, one CALL at a time, the offline queue."""

from __future__ import annotations

import json

import pytest

from chargegrid.ocpp.versions import OcppVersion
from chargegrid.simulator.core import BOOT_RETRY_S, TX_ATTEMPTS, TX_RETRY_S, Registration
from chargegrid.simulator.model import Fault, StopReason
from chargegrid.simulator.physics import Ev
from tests.unit.simulator.csms import T0, Csms, make_core, run_until

V16, V201 = OcppVersion.V16, OcppVersion.V201
EV = Ev(capacity_wh=60_000.0, soc=30.0, max_power_w=11_000.0, target_soc=90.0)


def fresh_ev() -> Ev:
    return Ev(EV.capacity_wh, EV.soc, EV.max_power_w, EV.target_soc)


@pytest.mark.parametrize("version", [V16, V201])
def test_an_accepted_boot_reports_every_evse_then_heartbeats(version: OcppVersion) -> None:
    core = make_core(version)
    csms = Csms(core)
    csms.answers["BootNotification"] = {
        "status": "Accepted",
        "currentTime": "2026-05-04T10:00:00Z",
        "interval": 120,
    }
    csms.boot()
    assert csms.actions() == ["BootNotification", "StatusNotification", "StatusNotification"]
    assert core.registration is Registration.ACCEPTED
    assert core.stats.booted == 1
    assert core.next_deadline(T0) == T0 + 120
    assert csms.serve(T0 + 119) == []
    assert [a for a, _ in csms.serve(T0 + 120)] == ["Heartbeat"]
    assert [a for a, _ in csms.serve(T0 + 240)] == ["Heartbeat"]


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_pending_and_rejected_boot_again_after_the_interval_and_say_nothing_else(
    status: str,
) -> None:
    core = make_core(V16)
    csms = Csms(core)
    csms.answers["BootNotification"] = {
        "status": status,
        "currentTime": "2026-05-04T10:00:00Z",
        "interval": 20,
    }
    csms.boot()
    assert csms.actions() == ["BootNotification"]
    assert core.registration.value == status
    assert core.station.plug_in(1, T0 + 1, ev=fresh_ev())
    # While not accepted, the CSMS may still ask; the charger answers.
    answer = csms.call("GetConfiguration", {"key": ["HeartbeatInterval"]}, T0 + 2)
    assert answer[0] == 3
    assert csms.serve(T0 + 19.9) == []
    assert core.next_deadline(T0 + 19.9) == T0 + 20
    del csms.answers["BootNotification"]
    served = [a for a, _ in csms.serve(T0 + 20)]
    assert served[0] == "BootNotification"
    assert core.registration is Registration.ACCEPTED
    assert "StatusNotification" in served


def test_a_boot_without_an_interval_retries_after_the_default() -> None:
    core = make_core(V201)
    csms = Csms(core)
    csms.answers["BootNotification"] = {
        "status": "Rejected",
        "currentTime": "2026-05-04T10:00:00Z",
        "interval": 0,
    }
    csms.boot()
    assert core.next_deadline(T0) == T0 + BOOT_RETRY_S


def test_one_call_at_a_time() -> None:
    core = make_core(V16)
    csms = Csms(core)
    core.connected(T0)
    first = csms.next_call(T0)
    assert first is not None
    assert first[1] == "BootNotification"
    assert core.next_frame(T0) is None  # unanswered: nothing else goes out
    csms.reply(first[0], csms.default("BootNotification", {}), T0)
    assert csms.next_call(T0) is not None


def start_session(csms: Csms, now: float, *, duration: float = 600.0) -> None:
    assert csms.core.station.plug_in(1, now, id_token="TAG", duration=duration, ev=fresh_ev())
    csms.serve(now)


def test_transaction_messages_wait_offline_and_arrive_in_order() -> None:
    core = make_core(V201, meter_interval=10.0)
    csms = Csms(core)
    csms.boot()
    start_session(csms, T0, duration=100.0)
    run_until(csms, T0, T0 + 25)
    before = len(csms.calls)

    core.disconnected(T0 + 25)
    now = T0 + 25
    while now < T0 + 200:  # the session goes on and ends while offline
        now += 5
        core.tick(now)
        assert core.next_frame(now) is None
    assert core.backlog == 8  # 7 periodic updates and the end; no statuses
    core.connected(now)
    csms.serve(now)
    after = csms.calls[before:]
    events = [p for a, p in after if a == "TransactionEvent"]
    assert [e["seqNo"] for e in events] == list(range(3, 11))
    assert all(e["offline"] is True for e in events)
    assert events[-1]["eventType"] == "Ended"
    times = [e["timestamp"] for e in events]
    assert times == sorted(times)
    assert "BootNotification" not in [a for a, _ in after]  # no reboot: no boot
    assert [a for a, _ in after].count("StatusNotification") == 2
    (record,) = core.records()
    assert record.complete
    assert record.messages == record.delivered == 11


def test_a_message_in_flight_when_the_connection_drops_is_sent_again_the_same() -> None:
    core = make_core(V16, meter_interval=10.0)
    csms = Csms(core)
    csms.boot()
    start_session(csms, T0)
    core.tick(T0 + 10)
    sent = csms.next_call(T0 + 10)
    assert sent is not None
    uid, action, payload = sent
    assert action == "MeterValues"
    core.disconnected(T0 + 11)
    core.connected(T0 + 12)
    again = csms.next_call(T0 + 12)
    assert again == (uid, action, payload)


def test_a_start_queued_offline_gets_its_transaction_id_when_delivered() -> None:
    """OCPP 1.6: the CSMS names transactions; later messages use the name it gives."""
    core = make_core(V16, meter_interval=10.0)
    csms = Csms(core)
    csms.boot()
    start_session(csms, T0, duration=5.0)  # TAG is now in the authorization cache
    run_until(csms, T0, T0 + 10)
    core.disconnected(T0 + 10)
    assert core.station.plug_in(1, T0 + 11, id_token="TAG", duration=35.0, ev=fresh_ev())
    now = T0 + 11
    while now < T0 + 60:
        now += 1
        core.tick(now)
    core.connected(now)
    csms.answers["StartTransaction"] = {"transactionId": 4242, "idTagInfo": {"status": "Accepted"}}
    served = csms.serve(now)
    offline = [(a, p) for a, p in served if a != "StatusNotification"]
    assert [a for a, _ in offline] == [
        "StartTransaction",
        "MeterValues",
        "MeterValues",
        "MeterValues",
        "StopTransaction",
    ]
    assert all(p["transactionId"] == 4242 for _, p in offline[1:])
    records = core.records()
    assert records[-1].transaction_id == "4242"
    assert records[-1].offline
    assert records[-1].complete
    assert offline[0][1]["meterStart"] == records[-1].meter_start_wh
    assert offline[-1][1]["meterStop"] == records[-1].meter_stop_wh


def test_a_refused_start_ends_the_transaction_deauthorized() -> None:
    core = make_core(V16)
    csms = Csms(core)
    csms.boot()
    csms.answers["StartTransaction"] = {"transactionId": 7, "idTagInfo": {"status": "Invalid"}}
    start_session(csms, T0)
    stop = [p for a, p in csms.calls if a == "StopTransaction"]
    assert stop[0]["reason"] == "DeAuthorized"
    assert stop[0]["transactionId"] == 7


def test_an_unauthorized_driver_leaves_without_a_transaction() -> None:
    core = make_core(V201)
    csms = Csms(core)
    csms.boot()
    csms.answers["Authorize"] = {"idTokenInfo": {"status": "Unknown"}}
    start_session(csms, T0)
    assert "TransactionEvent" not in csms.actions()
    statuses = [p["connectorStatus"] for a, p in csms.calls if a == "StatusNotification"]
    assert statuses[-2:] == ["Occupied", "Available"]
    assert core.records() == []


def test_an_unanswered_transaction_message_is_tried_again_then_given_up() -> None:
    core = make_core(V16, meter_interval=1000.0)
    csms = Csms(core)
    csms.boot()
    start_session(csms, T0)
    assert core.station.evses[0].tx is not None
    core.station.stop(core.station.evses[0], StopReason.LOCAL, T0 + 1)
    core.tick(T0 + 1)
    uids = []
    now = T0 + 1
    for attempt in range(1, TX_ATTEMPTS + 1):
        call = csms.next_call(now)
        assert call is not None
        assert call[1] == "StopTransaction"
        uids.append(call[0])
        if attempt == 1:
            now += core.call_timeout  # no answer at all
            core.tick(now)
            assert core.stats.call_timeouts == 1
        else:
            csms.fail(call[0], now)
        if attempt < TX_ATTEMPTS:
            assert core.next_frame(now) is None  # nothing overtakes it meanwhile
            now += TX_RETRY_S * attempt
            core.tick(now)
    assert len(set(uids)) == 1  # the same message each time
    assert {a for a, _ in csms.serve(now)} == {"StatusNotification"}  # then the rest
    assert core.stats.tx_dropped == 1
    assert core.records()[0].dropped == 1
    assert not core.records()[0].complete


def test_other_messages_are_dropped_while_offline() -> None:
    core = make_core(V16)
    csms = Csms(core)
    csms.boot()
    core.disconnected(T0 + 1)
    assert core.trigger("Heartbeat", None, T0 + 2) == "Accepted"
    core.station.fault(core.station.evses[1], Fault.GROUND_FAILURE, T0 + 2, 60.0)
    core.tick(T0 + 3)
    assert core.backlog == 0


def test_frames_are_text_json_with_short_unique_ids() -> None:
    core = make_core(V16)
    core.connected(T0)
    frame = core.next_frame(T0)
    assert frame is not None
    decoded = json.loads(frame)
    assert decoded[0] == 2
    assert 0 < len(decoded[1]) <= 36
