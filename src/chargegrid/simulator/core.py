"""The sans-I/O core of one simulated charger: registration, heartbeats and the outbox.

The I/O runner feeds it frames and the time, and sends what it returns:

- ``connected(now)`` / ``disconnected(now)`` when the socket opens or closes;
- ``receive(frame, now)`` for every frame; it returns the frames answering CSMS CALLs;
- ``next_frame(now)`` gives the next CALL to send, one outstanding CALL at a time;
- ``tick(now)`` at ``next_deadline(now)``, or earlier.

Transaction messages (1.6 StartTransaction, StopTransaction and MeterValues of a
transaction; 2.0.1 TransactionEvent) stay queued while the charger is offline and are
delivered in order once it is back; a transaction message in flight when the connection
drops is sent again with the same message id, so the CSMS can recognise the repeat. Other
messages are dropped while offline.
"""

from __future__ import annotations

import logging
import secrets
from collections import deque
from dataclasses import dataclass, fields
from enum import Enum
from typing import Protocol

import msgspec

from chargegrid.ocpp.protocol import (
    ErrorReply,
    IncomingCall,
    IncomingError,
    IncomingResult,
    OcppProtocol,
)
from chargegrid.ocpp.rpc import ErrorKind, RpcError
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.simulator import operations
from chargegrid.simulator.model import (
    Boot,
    BootReason,
    ConnectorStatus,
    Heartbeat,
    Message,
    SecurityEvent,
    SessionRecord,
    StatusChange,
    TxEnded,
    TxStarted,
    TxUpdated,
    record_of,
)
from chargegrid.simulator.station import Station

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 1_048_576
TX_ATTEMPTS = 3  # a transaction message answered with a CALLERROR is tried this often
TX_RETRY_S = 10.0  # times the attempt number, between those tries
BOOT_RETRY_S = 60.0  # after Pending or Rejected without an interval
BOOT_ERROR_RETRY_S = 10.0  # after a BootNotification without an answer
# The security events a charger reports once it is back after a restart.
RESTART_EVENTS = {
    BootReason.REMOTE_RESET: "ResetOrReboot",
    BootReason.FIRMWARE_UPDATE: "FirmwareUpdated",
}


class Undeliverable(Exception):
    """A queued message that can no longer be sent (e.g. its transaction never started)."""


class Adapter(Protocol):
    """One OCPP version's spelling of the neutral messages and operations."""

    version: OcppVersion
    protocol: OcppProtocol

    def status_name(self, status: ConnectorStatus) -> str:
        """How the version reports a connector status (several may share one name)."""
        ...

    def sends(self, message: Message) -> bool:
        """Whether the version has a message for this at all."""
        ...

    def encode(self, message: Message, core: ChargerCore) -> tuple[str, msgspec.Struct]:
        """The action and request of a message; raises Undeliverable if it cannot go."""
        ...

    def boot_result(self, response: msgspec.Struct) -> tuple[str, int]:
        """Registration status and interval of a BootNotification answer."""
        ...

    def on_response(
        self, message: Message, response: msgspec.Struct, core: ChargerCore, now: float
    ) -> None:
        """Act on the CSMS's answer to a message."""
        ...

    def answer(self, call: IncomingCall, core: ChargerCore, now: float) -> msgspec.Struct:
        """Do what a CSMS CALL asks and return the response; RpcError to refuse it."""
        ...


class Registration(Enum):
    UNKNOWN = "unknown"  # not booted (yet, or since a reboot)
    PENDING = "Pending"
    REJECTED = "Rejected"
    ACCEPTED = "Accepted"


@dataclass(slots=True)
class Stats:
    """Counters of a whole fleet (every core of a fleet shares one)."""

    chargers: int = 0
    connected: int = 0
    booted: int = 0  # registration accepted
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    calls_sent: int = 0
    calls_answered: int = 0
    call_errors: int = 0  # answered with a CALLERROR
    call_timeouts: int = 0
    csms_calls: int = 0  # CALLs of the CSMS answered
    tx_dropped: int = 0  # transaction messages given up
    latency_total_s: float = 0.0
    latency_max_s: float = 0.0

    @property
    def latency_mean_ms(self) -> float:
        answered = self.calls_answered + self.call_errors
        return self.latency_total_s / answered * 1000 if answered else 0.0

    def snapshot(self) -> dict[str, float]:
        values: dict[str, float] = {
            f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("latency")
        }
        values["latency_mean_ms"] = round(self.latency_mean_ms, 2)
        values["latency_max_ms"] = round(self.latency_max_s * 1000, 2)
        return values


class Pending:
    """A message on its way: built into a frame once, sent again the same if needed."""

    __slots__ = ("action", "attempts", "frame", "message", "not_before", "tx", "uid")

    def __init__(self, message: Message) -> None:
        self.message = message
        # The transaction of a transaction message: such messages wait while offline.
        self.tx = message.tx if isinstance(message, TxStarted | TxUpdated | TxEnded) else None
        self.uid = ""
        self.action = ""
        self.frame: bytes | None = None
        self.attempts = 0
        self.not_before = 0.0


class ChargerCore:
    """One charger's OCPP side: what to send when, and what to answer."""

    __slots__ = (
        "_boot_at",
        "_heartbeat_at",
        "_in_flight",
        "_queue",
        "_sent_at",
        "_uid_count",
        "_uid_prefix",
        "adapter",
        "call_timeout",
        "charger_id",
        "online",
        "organization",
        "registration",
        "station",
        "stats",
    )

    def __init__(
        self,
        charger_id: str,
        adapter: Adapter,
        station: Station,
        *,
        stats: Stats | None = None,
        call_timeout: float = 30.0,
        organization: str | None = None,
    ) -> None:
        self.charger_id = charger_id
        self.adapter = adapter
        self.station = station
        self.stats = stats or Stats()
        self.stats.chargers += 1
        self.call_timeout = call_timeout
        self.organization = organization  # the O of the charger's certificate requests
        self.online = False
        self.registration = Registration.UNKNOWN
        self._boot_at: float | None = None
        self._heartbeat_at: float | None = None
        self._queue: deque[Pending] = deque()
        self._in_flight: Pending | None = None
        self._sent_at = 0.0
        # Message ids must not repeat across runs (the CSMS replays the answers of repeated
        # ones), whatever the seed.
        self._uid_prefix = secrets.token_hex(4)
        self._uid_count = 0

    @property
    def version(self) -> OcppVersion:
        return self.adapter.version

    @property
    def backlog(self) -> int:
        """Messages waiting to be sent (transaction messages kept while offline included)."""
        return len(self._queue) + (self._in_flight is not None)

    def queued_for(self, key: str | None) -> bool:
        """Whether messages of a transaction (None: of any) wait to be delivered."""
        waiting = [*self._queue, *([self._in_flight] if self._in_flight else [])]
        return any(p.tx is not None and key in (None, p.tx.key) for p in waiting)

    def records(self) -> list[SessionRecord]:
        """The ground truth: every transaction this charger started."""
        version = self.version.value
        return [record_of(self.charger_id, version, tx) for tx in self.station.transactions]

    # -- connection ----------------------------------------------------------------------

    def connected(self, now: float) -> None:
        self.online = self.station.online = True
        self.stats.connected += 1
        self.stats.connects += 1
        if self.registration is Registration.ACCEPTED:
            self._heartbeat_at = now + self.station.heartbeat_interval
            self._report_statuses(now)
        else:
            self._boot_at = now

    def disconnected(self, now: float) -> None:
        if not self.online:
            return
        self.online = self.station.online = False
        self.stats.connected -= 1
        self.stats.disconnects += 1
        in_flight, self._in_flight = self._in_flight, None
        kept: deque[Pending] = deque()
        if in_flight is not None:
            if in_flight.tx is not None:
                kept.append(in_flight)
            else:
                self._lost(in_flight, now)
        for pending in self._queue:
            if pending.tx is not None:
                kept.append(pending)
            else:
                self._lost(pending, now)
        self._queue = kept
        for evse in self.station.evses:
            evse.reported = None
        self._boot_at = self._heartbeat_at = None
        if self.registration is not Registration.ACCEPTED:
            self.registration = Registration.UNKNOWN

    def wants_reboot(self, now: float) -> bool:
        """Whether the charger restarts now (the runner closes and reconnects)."""
        return self.station.reboot_at is not None and now >= self.station.reboot_at

    def rebooted(self, now: float) -> None:
        """The charger restarted: it boots again when it reconnects."""
        if self.registration is Registration.ACCEPTED:
            self.stats.booted -= 1
        self.registration = Registration.UNKNOWN
        self.station.rebooted(now)
        self._collect(now)

    # -- time ----------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        if self._in_flight is not None and now >= self._sent_at + self.call_timeout:
            pending, self._in_flight = self._in_flight, None
            self.stats.call_timeouts += 1
            self._failed(pending, now)
        self.station.tick(now)
        if (
            self.online
            and self.registration is Registration.ACCEPTED
            and self._heartbeat_at is not None
            and now >= self._heartbeat_at
        ):
            self._heartbeat_at = now + self.station.heartbeat_interval
            self._enqueue(Heartbeat(), now)
        self._collect(now)

    def next_deadline(self, now: float) -> float:
        """When to call ``tick`` (or ``next_frame``) next."""
        if self.station.outbox:
            return now  # the station has something to say
        best = self.station.next_deadline()
        if self._in_flight is not None:
            best = min(best, self._sent_at + self.call_timeout)
        elif self.online:
            if self.registration is not Registration.ACCEPTED:
                if self._boot_at is not None:
                    best = min(best, self._boot_at)
            elif self._queue:
                best = min(best, self._queue[0].not_before)
        if self.online and self._heartbeat_at is not None:
            best = min(best, self._heartbeat_at)
        return best

    def set_heartbeat_interval(self, seconds: float, now: float) -> None:
        self.station.heartbeat_interval = seconds
        if self._heartbeat_at is not None:
            self._heartbeat_at = now + seconds

    # -- sending -------------------------------------------------------------------------

    def _collect(self, now: float) -> None:
        """Queue what the station wants to say."""
        outbox = self.station.outbox
        if outbox:
            self.station.outbox = []
            for message in outbox:
                self._enqueue(message, now)

    def _enqueue(self, message: Message, now: float) -> None:
        if not self.adapter.sends(message):
            return
        if isinstance(message, StatusChange):
            if not self.online:
                return
            evse = self.station.evse(message.evse_id)
            if evse is not None:
                name = self.adapter.status_name(message.status)
                if name == evse.reported and not message.forced and message.fault is None:
                    return
                evse.reported = name
        pending = Pending(message)
        if pending.tx is not None:
            pending.tx.messages += 1
        elif not self.online:
            self._lost(pending, now)
            return
        self._queue.append(pending)

    def _report_statuses(self, now: float) -> None:
        for evse in self.station.evses:
            evse.reported = None
            self._enqueue(StatusChange(evse.id, evse.status, now, evse.fault, forced=True), now)

    def next_frame(self, now: float) -> bytes | None:
        """The next CALL to send now, if any (never while one is unanswered)."""
        if not self.online or self._in_flight is not None:
            return None
        if self.registration is not Registration.ACCEPTED:
            if self._boot_at is None or now < self._boot_at:
                return None
            self._boot_at = None
            return self._send(Pending(Boot(self.station.reboot_reason)), now)
        while self._queue:
            head = self._queue[0]
            if head.not_before > now:
                return None
            self._queue.popleft()
            frame = self._send(head, now)
            if frame is not None:
                return frame
        return None

    def _send(self, pending: Pending, now: float) -> bytes | None:
        if pending.frame is None:
            try:
                action, request = self.adapter.encode(pending.message, self)
            except Undeliverable as reason:
                logger.warning("charger %s drops a message: %s", self.charger_id, reason)
                self._drop(pending)
                return None
            self._uid_count += 1
            pending.uid = f"{self._uid_prefix}-{self._uid_count:x}"
            pending.action = action
            pending.frame = self.adapter.protocol.call_frame(pending.uid, action, request)
        self._in_flight = pending
        self._sent_at = now
        self.stats.calls_sent += 1
        return pending.frame

    # -- receiving -----------------------------------------------------------------------

    def receive(self, data: str | bytes, now: float) -> list[bytes]:
        """Handle one frame; returns the frames to send back at once."""
        event = self.adapter.protocol.receive(data)
        if isinstance(event, IncomingCall):
            self.stats.csms_calls += 1
            frame = self._answer(event, now)
            self._collect(now)
            return [frame]
        if isinstance(event, ErrorReply):
            return [event.frame]
        if isinstance(event, IncomingResult | IncomingError):
            self._answered(event, now)
            self._collect(now)
            return []
        logger.warning("charger %s got an unusable frame: %s", self.charger_id, event.reason)
        return []

    def _answer(self, call: IncomingCall, now: float) -> bytes:
        protocol = self.adapter.protocol
        try:
            response = self.adapter.answer(call, self, now)
            return protocol.result_frame(call.unique_id, response)
        except RpcError as error:
            return protocol.error_frame(call.unique_id, error)
        except Exception:
            logger.exception("charger %s failed to answer %s", self.charger_id, call.action)
            failure = RpcError(ErrorKind.INTERNAL_ERROR, f"{call.action} failed in the simulator")
            return protocol.error_frame(call.unique_id, failure)

    def _answered(self, event: IncomingResult | IncomingError, now: float) -> None:
        pending = self._in_flight
        if pending is None or event.unique_id != pending.uid:
            logger.warning("charger %s got an answer to no CALL of its own", self.charger_id)
            return
        self._in_flight = None
        latency = max(0.0, now - self._sent_at)
        self.stats.latency_total_s += latency
        self.stats.latency_max_s = max(self.stats.latency_max_s, latency)
        if isinstance(event, IncomingError):
            self.stats.call_errors += 1
            logger.warning(
                "charger %s: %s answered %s: %s",
                self.charger_id,
                pending.action,
                event.code,
                event.description,
            )
            self._failed(pending, now)
            return
        try:
            response = self.adapter.protocol.decode_response(pending.action, event.payload)
        except RpcError as error:
            self.stats.call_errors += 1
            logger.warning("charger %s: bad %s answer: %s", self.charger_id, pending.action, error)
            self._failed(pending, now)
            return
        self.stats.calls_answered += 1
        message = pending.message
        if pending.tx is not None:
            pending.tx.delivered += 1
        if isinstance(message, Boot):
            self._booted(*self.adapter.boot_result(response), now)
        else:
            self.adapter.on_response(message, response, self, now)

    def _booted(self, status: str, interval: int, now: float) -> None:
        if status != Registration.ACCEPTED.value:
            if self.registration is Registration.ACCEPTED:
                self.stats.booted -= 1
            self.registration = Registration(status)
            self._boot_at = now + (interval if interval > 0 else BOOT_RETRY_S)
            return
        if self.registration is not Registration.ACCEPTED:
            self.stats.booted += 1
        self.registration = Registration.ACCEPTED
        if interval > 0:
            self.station.heartbeat_interval = float(interval)
        self._heartbeat_at = now + self.station.heartbeat_interval
        self.station.accepted = True
        self._report_statuses(now)
        event = RESTART_EVENTS.get(self.station.reboot_reason)
        if event is not None:
            self._enqueue(
                SecurityEvent(event, now, f"firmware {self.station.firmware_version}"), now
            )
        self.station.reboot_reason = BootReason.POWER_UP

    def _failed(self, pending: Pending, now: float) -> None:
        """A CALL answered with an error, or not at all."""
        if isinstance(pending.message, Boot):
            if self.registration is not Registration.ACCEPTED:
                self._boot_at = now + BOOT_ERROR_RETRY_S
        elif pending.tx is not None:
            pending.attempts += 1
            if pending.attempts >= TX_ATTEMPTS:
                self._drop(pending)
            else:
                pending.not_before = now + TX_RETRY_S * pending.attempts
                self._queue.appendleft(pending)
        else:
            self._lost(pending, now)

    def _lost(self, pending: Pending, now: float) -> None:
        self.station.lost(pending.message, now)

    def _drop(self, pending: Pending) -> None:
        if pending.tx is not None:
            self.stats.tx_dropped += 1
            pending.tx.dropped += 1

    # -- requests of the CSMS that concern the core ----------------------------------------

    def trigger(
        self, what: str, evse_id: int | None, now: float, *, boot_when_accepted: bool = True
    ) -> str:
        """Send a message on the CSMS's request: Accepted, Rejected or NotImplemented."""
        if what == "BootNotification":
            if self.registration is not Registration.ACCEPTED:
                self._boot_at = now
                return operations.ACCEPTED
            if not boot_when_accepted:
                return operations.REJECTED
            self._enqueue(Boot(BootReason.TRIGGERED), now)
            return operations.ACCEPTED
        if what == "Heartbeat":
            self._enqueue(Heartbeat(), now)
            return operations.ACCEPTED
        return operations.trigger(self.station, what, evse_id, now)
