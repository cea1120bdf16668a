"""A CSMS played by the test: it reads a charger core's CALLs and answers them."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from chargegrid.ocpp.versions import OcppVersion
from chargegrid.simulator.core import ChargerCore, Stats
from chargegrid.simulator.evse import Behaviour
from chargegrid.simulator.fleet import adapter_for
from chargegrid.simulator.physics import AC_11KW, EvseSpec
from chargegrid.simulator.station import Station

T0 = 1_780_000_000.0
QUIET = Behaviour(session_rate=0.0, fault_rate=0.0, unplug_delay_s=(5.0, 5.0))

Answer = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


def make_core(
    version: OcppVersion,
    *,
    specs: tuple[EvseSpec, ...] = (AC_11KW, AC_11KW),
    behaviour: Behaviour = QUIET,
    meter_interval: float = 60.0,
    seed: int = 7,
    now: float = T0,
) -> ChargerCore:
    station = Station(
        "CP-1",
        specs,
        behaviour=behaviour,
        rng=random.Random(seed),
        now=now,
        meter_interval=meter_interval,
    )
    return ChargerCore("CP-1", adapter_for(version), station, stats=Stats(), call_timeout=30.0)


class Csms:
    """Answers a core's CALLs with fixed or computed payloads and records them all."""

    def __init__(self, core: ChargerCore) -> None:
        self.core = core
        self.version = core.version
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.uids: list[str] = []
        self.answers: dict[str, Answer] = {}
        self._transaction = 100

    def default(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        now = "2026-05-04T10:00:00Z"
        v16 = self.version is OcppVersion.V16
        if action == "BootNotification":
            return {"status": "Accepted", "currentTime": now, "interval": 300}
        if action == "Heartbeat":
            return {"currentTime": now}
        if action == "Authorize":
            key = "idTagInfo" if v16 else "idTokenInfo"
            return {key: {"status": "Accepted"}}
        if action == "StartTransaction":
            self._transaction += 1
            return {"transactionId": self._transaction, "idTagInfo": {"status": "Accepted"}}
        return {}

    def next_call(self, now: float) -> tuple[str, str, dict[str, Any]] | None:
        """The core's next CALL (not answered yet)."""
        frame = self.core.next_frame(now)
        if frame is None:
            return None
        kind, uid, action, payload = json.loads(frame)
        assert kind == 2
        self.calls.append((action, payload))
        self.uids.append(uid)
        return uid, action, payload

    def reply(self, uid: str, payload: dict[str, Any], now: float) -> None:
        assert self.core.receive(json.dumps([3, uid, payload]), now) == []

    def fail(self, uid: str, now: float, code: str = "InternalError") -> None:
        assert self.core.receive(json.dumps([4, uid, code, "failed", {}]), now) == []

    def serve(self, now: float, *, limit: int = 1000) -> list[tuple[str, dict[str, Any]]]:
        """Answer every CALL the core has to send now; returns them."""
        served: list[tuple[str, dict[str, Any]]] = []
        for _ in range(limit):
            self.core.tick(now)
            call = self.next_call(now)
            if call is None:
                return served
            uid, action, payload = call
            served.append((action, payload))
            answer = self.answers.get(action)
            if answer is None:
                body = self.default(action, payload)
            elif callable(answer):
                body = answer(payload)
            else:
                body = answer
            self.reply(uid, body, now)
        raise AssertionError("the core kept sending")

    def call(self, action: str, payload: dict[str, Any], now: float) -> list[Any]:
        """Send a CSMS CALL to the core; returns the decoded answer frame."""
        frames = self.core.receive(json.dumps([2, "csms-1", action, payload]), now)
        assert len(frames) == 1
        answer: list[Any] = json.loads(frames[0])
        return answer

    def boot(self, now: float = T0) -> None:
        self.core.connected(now)
        self.serve(now)

    def actions(self) -> list[str]:
        return [action for action, _ in self.calls]


def run_until(csms: Csms, start: float, end: float, step: float = 1.0) -> float:
    """Let time pass as the runner does (to each deadline of the core, and at least every
    ``step`` seconds), answering everything; returns the end time."""
    core = csms.core
    now = start
    while now < end:
        now = min(end, now + step, max(now, core.next_deadline(now)))
        if core.wants_reboot(now):  # the runner reconnects a restarted charger
            core.disconnected(now)
            core.rebooted(now)
            core.connected(now)
        csms.serve(now)
    return now
