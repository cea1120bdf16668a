"""The simulator's version-neutral vocabulary.

A simulated charger decides *what* happens in these words (a connector starts charging,
a transaction ends because the EV left, a meter is read) and the version adapters
(``v16``, ``v201``) decide how each is spelled in OCPP. Times are POSIX seconds (floats),
passed in by the caller: nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

import msgspec

from chargegrid.values import immutable


def utc(at: float) -> datetime:
    """A POSIX time as an aware UTC datetime, to the millisecond (as chargers report it)."""
    return datetime.fromtimestamp(round(at, 3), UTC)


def posix(value: datetime) -> float:
    """A datetime of a message as POSIX seconds (one without offset is UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def posix_or_none(value: datetime | None) -> float | None:
    return None if value is None else posix(value)


class ConnectorStatus(Enum):
    """The state of an EVSE (OCPP 1.6 names; 2.0.1 folds several into Occupied)."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


IN_TRANSACTION = frozenset(
    {ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV, ConnectorStatus.SUSPENDED_EVSE}
)


class StopReason(Enum):
    """Why a transaction ended."""

    LOCAL = "local"  # the driver ended it at the charger
    EV_DISCONNECTED = "ev_disconnected"  # the EV left
    REMOTE = "remote"
    HARD_RESET = "hard_reset"
    SOFT_RESET = "soft_reset"
    UNLOCK = "unlock"
    DEAUTHORIZED = "deauthorized"  # the CSMS did not accept the id token
    FAULT = "fault"


class BootReason(Enum):
    POWER_UP = "power_up"
    REMOTE_RESET = "remote_reset"
    FIRMWARE_UPDATE = "firmware_update"
    TRIGGERED = "triggered"


class Fault(Enum):
    """A fault of an EVSE (the values are OCPP 1.6 error codes)."""

    GROUND_FAILURE = "GroundFailure"
    OVER_CURRENT = "OverCurrentFailure"
    HIGH_TEMPERATURE = "HighTemperature"


class UpdateCause(Enum):
    """Why a transaction is reported while it runs."""

    PERIODIC = "periodic"
    CHARGING_STATE = "charging_state"
    TRIGGER = "trigger"


@immutable
class Reading:
    """What the meter of an EVSE shows at one moment."""

    energy_wh: int  # the register, as reported
    power_w: float
    current_a: float
    voltage_v: float
    soc: float | None  # percent, when an EV is connected


@dataclass(slots=True, eq=False)
class Transaction:
    """One charging session as this charger knows it: the ground truth of what it reported."""

    key: str  # the charger's name for it (OCPP 2.0.1 transactionId)
    evse_id: int
    id_token: str
    token_type: str
    started_at: float
    meter_start_wh: int
    remote_start_id: int | None = None
    reservation_id: int | None = None
    offline: bool = False  # started while the charger was offline
    csms_id: int | None = None  # OCPP 1.6: the transactionId the CSMS gave it
    next_seq: int = 0
    meter_stop_wh: int | None = None
    stopped_at: float | None = None
    stop_reason: StopReason | None = None
    messages: int = 0  # transaction messages queued for the CSMS
    delivered: int = 0  # of those, answered
    dropped: int = 0  # of those, given up

    def seq(self) -> int:
        """The next event sequence number (OCPP 2.0.1 seqNo)."""
        number = self.next_seq
        self.next_seq += 1
        return number


# -- what a charger sends (each becomes one CALL of the charger's version) -------------


@immutable
class Boot:
    reason: BootReason


@immutable
class Heartbeat:
    pass


@immutable
class StatusChange:
    evse_id: int
    status: ConnectorStatus
    at: float
    fault: Fault | None = None
    forced: bool = False  # sent even if the CSMS was told this status already


@immutable
class Authorize:
    evse_id: int
    id_token: str
    token_type: str


@immutable
class TxStarted:
    tx: Transaction
    seq_no: int
    at: float
    reading: Reading
    status: ConnectorStatus
    remote: bool
    offline: bool


@immutable
class TxUpdated:
    tx: Transaction
    seq_no: int
    at: float
    reading: Reading
    status: ConnectorStatus
    cause: UpdateCause
    offline: bool


@immutable
class TxEnded:
    tx: Transaction
    seq_no: int
    at: float
    reading: Reading
    reason: StopReason
    offline: bool


@immutable
class MeterReport:
    """Meter values outside a transaction (asked for by the CSMS)."""

    evse_id: int
    at: float
    reading: Reading


@immutable
class FirmwareStatus:
    status: str  # Downloading, Downloaded, DownloadFailed, SignatureVerified, Installing, ...
    request_id: int | None
    signed: bool


class LogState(Enum):
    IDLE = "idle"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    FAILED = "failed"


@immutable
class LogStatus:
    state: LogState
    request_id: int | None
    diagnostics: bool  # OCPP 1.6 GetDiagnostics (rather than GetLog)


@immutable
class SecurityEvent:
    kind: str
    at: float
    info: str | None = None


@immutable
class SignRequest:
    csr: str
    certificate_type: str | None = None


@immutable
class ReservationEnded:
    reservation_id: int
    expired: bool


@immutable
class Custom:
    """A message only one version has, built by its adapter (e.g. NotifyReport)."""

    action: str
    request: msgspec.Struct


TransactionMessage = TxStarted | TxUpdated | TxEnded
Message = (
    Boot
    | Heartbeat
    | StatusChange
    | Authorize
    | TxStarted
    | TxUpdated
    | TxEnded
    | MeterReport
    | FirmwareStatus
    | LogStatus
    | SecurityEvent
    | SignRequest
    | ReservationEnded
    | Custom
)


@immutable
class SessionRecord:
    """The ground truth of one transaction: what the simulator reported to the CSMS."""

    charger_id: str
    version: str
    transaction_id: str | None  # as the CSMS knows it (1.6: its number, once answered)
    evse_id: int
    id_token: str
    meter_start_wh: int
    meter_stop_wh: int | None
    started_at: datetime
    stopped_at: datetime | None
    stop_reason: str | None
    remote_start_id: int | None
    reservation_id: int | None
    offline: bool
    messages: int
    delivered: int
    dropped: int

    @property
    def energy_wh(self) -> int | None:
        return None if self.meter_stop_wh is None else self.meter_stop_wh - self.meter_start_wh

    @property
    def complete(self) -> bool:
        """Ended, and every one of its messages answered by the CSMS."""
        return self.meter_stop_wh is not None and self.delivered == self.messages


def record_of(charger_id: str, version: str, tx: Transaction) -> SessionRecord:
    if version == "1.6":
        transaction_id = None if tx.csms_id is None else str(tx.csms_id)
    else:
        transaction_id = tx.key
    return SessionRecord(
        charger_id=charger_id,
        version=version,
        transaction_id=transaction_id,
        evse_id=tx.evse_id,
        id_token=tx.id_token,
        meter_start_wh=tx.meter_start_wh,
        meter_stop_wh=tx.meter_stop_wh,
        started_at=utc(tx.started_at),
        stopped_at=None if tx.stopped_at is None else utc(tx.stopped_at),
        stop_reason=None if tx.stop_reason is None else tx.stop_reason.value,
        remote_start_id=tx.remote_start_id,
        reservation_id=tx.reservation_id,
        offline=tx.offline,
        messages=tx.messages,
        delivered=tx.delivered,
        dropped=tx.dropped,
    )
