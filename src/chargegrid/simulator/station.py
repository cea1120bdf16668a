"""A simulated charging station, version-neutral: its EVSEs, the EVs that come and go,
their sessions and every timer that drives them.

The station is fed the time (``now``, POSIX seconds) and events; it never reads a clock
and does no I/O. What it wants to tell the CSMS it appends to ``outbox`` as neutral
messages (``model``); the charger core turns them into OCPP CALLs of its version.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric import ec

from chargegrid.simulator.backoff import BackOff
from chargegrid.simulator.certificates import InstalledCertificate
from chargegrid.simulator.evse import Behaviour, Evse, Job, TokenPool
from chargegrid.simulator.model import (
    IN_TRANSACTION,
    Authorize,
    BootReason,
    ConnectorStatus,
    Fault,
    FirmwareStatus,
    LogState,
    LogStatus,
    Message,
    ReservationEnded,
    StatusChange,
    StopReason,
    Transaction,
    TxEnded,
    TxStarted,
    TxUpdated,
    UpdateCause,
)
from chargegrid.simulator.physics import Ev, EvseSpec, Meter
from chargegrid.simulator.profiles import Profile, ProfileSet

# A reset or a firmware installation restarts the charger this long after it is decided,
# so that the answer and the messages it causes can go out first.
REBOOT_DELAY_S = 1.0
# Power is never re-evaluated more often than this for an EV reaching a threshold.
MIN_STEP_S = 1.0
INSTALLED = "Installed"


class Station:
    """The station: sessions, faults, reservations, profiles and jobs, all on ``now``."""

    __slots__ = (
        "_key_prefix",
        "_tx_count",
        "accepted",
        "auth_cache",
        "backoff",
        "behaviour",
        "certificates",
        "charger_id",
        "config",
        "csr_key",
        "evses",
        "firmware_status",
        "firmware_version",
        "heartbeat_interval",
        "jobs",
        "local_list",
        "local_list_version",
        "log_state",
        "meter_interval",
        "next_arrival_at",
        "next_fault_at",
        "online",
        "outbox",
        "profiles",
        "reboot_at",
        "reboot_reason",
        "reset_when_idle",
        "rng",
        "tokens",
        "transactions",
    )

    def __init__(
        self,
        charger_id: str,
        specs: Sequence[EvseSpec],
        *,
        behaviour: Behaviour,
        rng: random.Random,
        now: float,
        meter_interval: float = 60.0,
        backoff: BackOff | None = None,
        key_prefix: str | None = None,
        tokens: TokenPool | None = None,
    ) -> None:
        self.charger_id = charger_id
        self.behaviour = behaviour
        self.rng = rng
        self.tokens = tokens or TokenPool(behaviour.id_tokens)  # a fleet shares one
        self.evses = [
            Evse(n, spec, Meter(energy_wh=rng.uniform(0.0, 2_000_000.0), since=now))
            for n, spec in enumerate(specs, start=1)
        ]
        self.meter_interval = meter_interval
        self.heartbeat_interval = 300.0
        self.backoff = backoff or BackOff()
        self.outbox: list[Message] = []
        self.online = False
        self.accepted = False  # the CSMS accepted the registration: sessions may start
        self.transactions: list[Transaction] = []
        self.auth_cache: dict[str, bool] = {}
        self.local_list: dict[str, bool] = {}
        self.local_list_version = 0
        self.profiles = ProfileSet()
        self.jobs: list[Job] = []
        self.config: dict[str, str] = {}  # configuration keys / variables set by the CSMS
        self.certificates: list[InstalledCertificate] = []
        self.csr_key: ec.EllipticCurvePrivateKey | None = None
        self.firmware_version = "1.0.0"
        self.firmware_status = "Idle"
        self.log_state = LogState.IDLE
        self.reboot_at: float | None = None
        self.reboot_reason = BootReason.POWER_UP
        self.reset_when_idle = False
        self.next_arrival_at = self._after(now, behaviour.session_rate)
        self.next_fault_at = self._after(now, behaviour.fault_rate * len(self.evses))
        # Names of transactions must not repeat across runs (the CSMS keeps them), whatever
        # the seed: they take their randomness from the system.
        self._key_prefix = key_prefix or secrets.token_hex(4)
        self._tx_count = 0

    # -- helpers ---------------------------------------------------------------------------

    def emit(self, message: Message) -> None:
        self.outbox.append(message)

    def evse(self, evse_id: int | None) -> Evse | None:
        if evse_id is None or not 1 <= evse_id <= len(self.evses):
            return None
        return self.evses[evse_id - 1]

    def _after(self, now: float, rate_per_hour: float) -> float | None:
        return None if rate_per_hour <= 0 else now + self.rng.expovariate(rate_per_hour / 3600)

    def idle_status(self, evse: Evse) -> ConnectorStatus:
        """The status of an EVSE with nothing plugged in."""
        if evse.fault is not None:
            return ConnectorStatus.FAULTED
        if not evse.operative:
            return ConnectorStatus.UNAVAILABLE
        if evse.reservation is not None:
            return ConnectorStatus.RESERVED
        return ConnectorStatus.AVAILABLE

    def set_status(
        self, evse: Evse, status: ConnectorStatus, now: float, fault: Fault | None = None
    ) -> None:
        if status is evse.status and fault is None:
            return
        evse.status = status
        self.emit(StatusChange(evse.id, status, now, fault))

    def is_free(self, evse: Evse, id_token: str | None) -> bool:
        """Whether a new session (of ``id_token``, if known) may begin on ``evse``."""
        return (
            evse.ev is None
            and evse.tx is None
            and evse.operative
            and evse.fault is None
            and (evse.reservation is None or evse.reservation.id_token == id_token)
        )

    def locally_accepted(self, id_token: str) -> bool:
        """The decision without the CSMS: the local list first, then the cache."""
        listed = self.local_list.get(id_token)
        return self.auth_cache.get(id_token, False) if listed is None else listed

    def active(self, *, key: str | None = None, csms_id: int | None = None) -> Evse | None:
        """The EVSE of a running transaction, by the charger's key or the CSMS's number."""
        for evse in self.evses:
            tx = evse.tx
            if tx is None:
                continue
            if tx.key == key or (csms_id is not None and tx.csms_id == csms_id):
                return evse
        return None

    # -- time ------------------------------------------------------------------------------

    def next_deadline(self) -> float:
        """When ``tick`` has something to do next (inf: nothing planned)."""
        best = math.inf
        for evse in self.evses:
            for at in evse.timers():
                if at is not None and at < best:
                    best = at
        for at in (self.next_arrival_at, self.next_fault_at, self.reboot_at):
            if at is not None and at < best:
                best = at
        for job in self.jobs:
            if job.steps and job.steps[0][0] < best:
                best = job.steps[0][0]
        return best

    def tick(self, now: float) -> None:
        """Do what is due at ``now``."""
        for evse in self.evses:
            if evse.fault_until is not None and now >= evse.fault_until:
                self._recover(evse, now)
            if evse.reservation is not None and now >= evse.reservation.expires_at:
                self._expire(evse, now)
            if evse.depart_at is not None and now >= evse.depart_at:
                self._depart(evse, now)
            if evse.unplug_at is not None and now >= evse.unplug_at:
                self.unplug(evse, now)
        if self.next_arrival_at is not None and now >= self.next_arrival_at:
            self._arrive(now)
            self.next_arrival_at = self._after(now, self.behaviour.session_rate)
        if self.next_fault_at is not None and now >= self.next_fault_at:
            evse = self.rng.choice(self.evses)
            low, high = self.behaviour.fault_duration_s
            self.fault(evse, self.rng.choice(list(Fault)), now, self.rng.uniform(low, high))
            self.next_fault_at = self._after(now, self.behaviour.fault_rate * len(self.evses))
        if self.jobs:
            self._run_jobs(now)
        self.repower(now)
        for evse in self.evses:
            if evse.tx is not None and evse.sample_at is not None and now >= evse.sample_at:
                self.report(evse, now, UpdateCause.PERIODIC)
                evse.sample_at += self.meter_interval
                if evse.sample_at <= now:
                    evse.sample_at = now + self.meter_interval

    def report(self, evse: Evse, now: float, cause: UpdateCause) -> None:
        """Report the meter of an EVSE's transaction (call ``repower`` or advance first)."""
        tx = evse.tx
        assert tx is not None
        evse.meter.advance(now, evse.ev)
        self.emit(TxUpdated(tx, tx.seq(), now, evse.reading(), evse.status, cause, not self.online))

    # -- power -----------------------------------------------------------------------------

    def repower(self, now: float) -> None:
        """Integrate every meter up to ``now`` and set the power from now on."""
        sharing = sum(
            1 for e in self.evses if e.tx is not None and e.ev is not None and e.ev.demand_w() > 0
        )
        for evse in self.evses:
            meter, ev, tx = evse.meter, evse.ev, evse.tx
            if tx is None or ev is None:
                if meter.power_w:
                    meter.set_power(now, 0.0, ev)
                evse.change_at = None
                continue
            meter.advance(now, ev)
            demand = ev.demand_w()
            cap = self.profiles.cap_w(
                evse.id, evse.spec, now, tx=tx.key, tx_start=tx.started_at, sharing=max(1, sharing)
            )
            limit = math.inf if cap is None else cap
            meter.power_w = max(0.0, min(demand, evse.spec.max_power_w, limit))
            seconds = ev.seconds_to_change(meter.power_w)
            limit_change = (
                self.profiles.next_change(evse.id, now, tx.started_at) if self.profiles else None
            )
            ev_change = None if seconds is None else now + max(MIN_STEP_S, seconds)
            evse.change_at = min(
                (t for t in (limit_change, ev_change) if t is not None), default=None
            )
            status = self._tx_status(evse)
            if status is not evse.status and evse.status in IN_TRANSACTION:
                self.set_status(evse, status, now)
                self.report(evse, now, UpdateCause.CHARGING_STATE)

    @staticmethod
    def _tx_status(evse: Evse) -> ConnectorStatus:
        if evse.meter.power_w > 0:
            return ConnectorStatus.CHARGING
        if evse.ev is not None and evse.ev.demand_w() <= 0:
            return ConnectorStatus.SUSPENDED_EV
        return ConnectorStatus.SUSPENDED_EVSE

    # -- sessions --------------------------------------------------------------------------

    def random_ev(self, spec: EvseSpec) -> Ev:
        rng = self.rng
        if spec.phases:
            max_power = rng.choice((7_400.0, 11_000.0, 22_000.0))
        else:
            max_power = rng.uniform(50_000.0, 200_000.0)
        return Ev(
            capacity_wh=rng.uniform(40_000.0, 100_000.0),
            soc=rng.uniform(10.0, 60.0),
            max_power_w=max_power,
            target_soc=rng.uniform(80.0, 100.0),
        )

    def _arrive(self, now: float) -> None:
        if not self.accepted:
            return
        free = [e for e in self.evses if self.is_free(e, None)]
        if not free:
            return
        token = self.tokens.take(self.rng)
        if token is not None:  # else every driver is busy elsewhere
            self.plug_in(self.rng.choice(free).id, now, id_token=token)

    def plug_in(
        self,
        evse_id: int,
        now: float,
        *,
        id_token: str | None = None,
        duration: float | None = None,
        ev: Ev | None = None,
    ) -> bool:
        """An EV is plugged in and its driver presents ``id_token`` (by default a free one
        of the fleet's); the driver comes back after ``duration`` seconds."""
        evse = self.evse(evse_id)
        if evse is None or not self.is_free(evse, id_token):
            return False
        if id_token is None:
            id_token = self.tokens.take(self.rng)
            if id_token is None:
                return False
        self.tokens.hold(id_token)
        evse.ev = ev or self.random_ev(evse.spec)
        evse.token = id_token
        evse.token_type = self.behaviour.token_type
        low, high = self.behaviour.duration_s
        evse.depart_at = now + (self.rng.uniform(low, high) if duration is None else duration)
        self.set_status(evse, ConnectorStatus.PREPARING, now)
        if self.online and self.accepted:
            evse.authorizing = True
            self.emit(Authorize(evse.id, evse.token, evse.token_type))
        else:
            decision = self.locally_accepted(evse.token)
            self.authorized(evse.id, evse.token, decision, now, remember=False)
        return True

    def authorized(
        self, evse_id: int, id_token: str, accepted: bool, now: float, *, remember: bool = True
    ) -> None:
        """The decision on a driver's id token (the CSMS's answer, or a local one)."""
        if remember:
            self.auth_cache[id_token] = accepted
        evse = self.evse(evse_id)
        if evse is None or evse.ev is None or evse.tx is not None or evse.token != id_token:
            return  # the driver left meanwhile
        evse.authorizing = False
        if accepted and evse.operative and evse.fault is None:
            self.begin(evse, now)
        else:
            self.unplug(evse, now)

    def begin(
        self,
        evse: Evse,
        now: float,
        *,
        remote_start_id: int | None = None,
        remote: bool = False,
        profile: Profile | None = None,
    ) -> Transaction:
        """Start a transaction on an EVSE with an EV and a token."""
        assert evse.ev is not None
        assert evse.token is not None
        self._tx_count += 1
        reservation_id = None
        if evse.reservation is not None and evse.reservation.id_token == evse.token:
            reservation_id = evse.reservation.id
            evse.reservation = None
        evse.meter.advance(now, evse.ev)
        tx = Transaction(
            key=f"{self._key_prefix}-{self._tx_count}",
            evse_id=evse.id,
            id_token=evse.token,
            token_type=evse.token_type,
            started_at=now,
            meter_start_wh=round(evse.meter.energy_wh),
            remote_start_id=remote_start_id,
            reservation_id=reservation_id,
            offline=not self.online,
        )
        self.transactions.append(tx)
        evse.tx = tx
        if profile is not None:
            self.profiles.install(evse.id, replace(profile, transaction=tx.key), now)
        self.repower(now)
        status = self._tx_status(evse)
        reading = evse.reading()
        self.emit(TxStarted(tx, tx.seq(), now, reading, status, remote, not self.online))
        self.set_status(evse, status, now)
        evse.sample_at = now + self.meter_interval
        return tx

    def stop(self, evse: Evse, reason: StopReason, now: float, *, leave: bool = False) -> None:
        """End the transaction of an EVSE; the EV leaves now (``leave``) or a bit later."""
        tx = evse.tx
        if tx is None:
            return
        evse.meter.set_power(now, 0.0, evse.ev)
        reading = evse.reading()
        tx.meter_stop_wh = reading.energy_wh
        tx.stopped_at = now
        tx.stop_reason = reason
        evse.tx = None
        evse.sample_at = evse.change_at = None
        self.profiles.end_transaction(tx.key)
        self.emit(TxEnded(tx, tx.seq(), now, reading, reason, not self.online))
        if leave or evse.ev is None:
            self.unplug(evse, now)
        else:
            self.set_status(evse, ConnectorStatus.FINISHING, now)
            evse.depart_at = None
            low, high = self.behaviour.unplug_delay_s
            evse.unplug_at = now + self.rng.uniform(low, high)
        if self.reset_when_idle and all(e.tx is None for e in self.evses):
            self.request_reboot(now, BootReason.REMOTE_RESET)

    def _depart(self, evse: Evse, now: float) -> None:
        if evse.tx is not None:
            self.stop(evse, StopReason.EV_DISCONNECTED, now, leave=True)
        else:
            self.unplug(evse, now)

    def unplug(self, evse: Evse, now: float) -> None:
        """The EV leaves: nothing is plugged in any more."""
        self.driver_leaves(evse)
        self.set_status(evse, self.idle_status(evse), now)

    def driver_leaves(self, evse: Evse) -> None:
        if evse.token is not None:
            self.tokens.release(evse.token)
        evse.ev = None
        evse.token = None
        evse.authorizing = False
        evse.depart_at = evse.unplug_at = None

    def tx_confirmed(
        self, tx: Transaction, accepted: bool, now: float, csms_id: int | None = None
    ) -> None:
        """The CSMS answered a transaction's start; a refused token ends it (DeAuthorized)."""
        if csms_id is not None:
            tx.csms_id = csms_id
        self.auth_cache[tx.id_token] = accepted
        if not accepted:
            evse = self.active(key=tx.key)
            if evse is not None:
                self.stop(evse, StopReason.DEAUTHORIZED, now)

    def lost(self, message: Message, now: float) -> None:
        """A message that will not be answered: an authorization is decided locally."""
        if isinstance(message, Authorize):
            self.authorized(
                message.evse_id,
                message.id_token,
                self.locally_accepted(message.id_token),
                now,
                remember=False,
            )

    # -- faults and reservations -----------------------------------------------------------

    def fault(self, evse: Evse, kind: Fault, now: float, duration: float) -> None:
        if evse.fault is not None:
            return
        if evse.tx is not None:
            self.stop(evse, StopReason.FAULT, now, leave=True)
        self.driver_leaves(evse)
        evse.fault = kind
        evse.fault_until = now + duration
        self.set_status(evse, ConnectorStatus.FAULTED, now, kind)

    def _recover(self, evse: Evse, now: float) -> None:
        evse.fault = None
        evse.fault_until = None
        self.set_status(evse, self.idle_status(evse), now)

    def _expire(self, evse: Evse, now: float) -> None:
        reservation = evse.reservation
        assert reservation is not None
        evse.reservation = None
        self.emit(ReservationEnded(reservation.id, expired=True))
        if evse.ev is None and evse.tx is None:
            self.set_status(evse, self.idle_status(evse), now)

    # -- reboots and jobs ------------------------------------------------------------------

    def request_reboot(self, now: float, reason: BootReason) -> None:
        self.reboot_at = now + REBOOT_DELAY_S
        self.reboot_reason = reason
        self.reset_when_idle = False

    def rebooted(self, now: float) -> None:
        """The charger restarted: EVs are gone, statuses are reported after the boot."""
        self.reboot_at = None
        for evse in self.evses:
            if evse.tx is not None:
                self.stop(evse, StopReason.HARD_RESET, now, leave=True)
            self.driver_leaves(evse)
            evse.reservation = None
            evse.meter.set_power(now, 0.0, None)
            evse.status = self.idle_status(evse)
        self.outbox = [m for m in self.outbox if not isinstance(m, StatusChange)]
        self.auth_cache.clear()

    def _run_jobs(self, now: float) -> None:
        for job in list(self.jobs):
            while job.steps and job.steps[0][0] <= now:
                _, status = job.steps.pop(0)
                if job.firmware:
                    self.firmware_status = status
                    self.emit(FirmwareStatus(status, job.request_id, job.flag))
                    if status == INSTALLED:
                        self.firmware_version = f"1.0.{job.request_id or 1}"
                        if all(e.tx is None for e in self.evses):
                            self.request_reboot(now, BootReason.FIRMWARE_UPDATE)
                else:
                    self.log_state = LogState(status)
                    self.emit(LogStatus(self.log_state, job.request_id, job.flag))
            if not job.steps:
                self.jobs.remove(job)
