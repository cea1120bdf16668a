"""The platform's vocabulary: Location > Charger > EVSE > Connector, transactions, tokens.

These are plain values; services load and store them. Nothing here knows which OCPP
version a charger speaks: an OCPP 1.6 connector *n* is EVSE *n* with connector 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RegistrationStatus(StrEnum):
    """Whether a charger's boot is accepted (BootNotification status)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class IdTokenStatus(StrEnum):
    """The stored state of an id token."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


class AuthorizationStatus(StrEnum):
    """The answer to 'may this token charge now?'."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


class TransactionStatus(StrEnum):
    """Life cycle of a charging transaction."""

    ACTIVE = "active"
    COMPLETED = "completed"


class Direction(StrEnum):
    """Direction of an OCPP message relative to the platform."""

    INBOUND = "in"
    OUTBOUND = "out"


@dataclass(frozen=True, slots=True)
class Location:
    """A site with chargers."""

    id: str
    name: str
    time_zone: str = "UTC"
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class Connector:
    """One plug of an EVSE, with its last reported status."""

    evse_id: int
    connector_id: int
    status: str
    status_at: datetime
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class Evse:
    """An EVSE: the part of a charger that charges one vehicle at a time."""

    id: int
    connectors: tuple[Connector, ...]


@dataclass(frozen=True, slots=True)
class Charger:
    """A charging station and what it last told us about itself."""

    id: str
    registration_status: RegistrationStatus
    security_profile: int
    created_at: datetime
    updated_at: datetime
    location_id: str | None = None
    ocpp_version: str | None = None
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    status: str | None = None
    error_code: str | None = None
    firmware_status: str | None = None
    firmware_status_at: datetime | None = None
    diagnostics_status: str | None = None
    diagnostics_status_at: datetime | None = None
    log_status: str | None = None
    log_status_at: datetime | None = None
    last_boot_at: datetime | None = None
    last_heartbeat_at: datetime | None = None
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None
    has_password: bool = False
    evses: tuple[Evse, ...] = ()


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a charger reports about itself when it boots."""

    vendor: str
    model: str
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(frozen=True, slots=True)
class BootDecision:
    """The answer to a boot: registration status and the interval to use."""

    status: RegistrationStatus
    interval: int


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A status change of a charger (``evse_id`` None), an EVSE or a connector."""

    status: str
    occurred_at: datetime
    evse_id: int | None = None
    connector_id: int | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class IdToken:
    """An identifier a driver presents (RFID uid, app token...)."""

    id_token: str
    status: IdTokenStatus
    type: str | None = None
    expires_at: datetime | None = None
    group_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Authorization:
    """Whether an id token may charge, and until when; ``group_id`` is the parent id."""

    status: AuthorizationStatus
    expires_at: datetime | None = None
    group_id: str | None = None


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value of a meter reading."""

    sampled_at: datetime
    measurand: str
    value: float | None
    unit: str | None = None
    phase: str | None = None
    context: str | None = None
    location: str | None = None
    signed_data: str | None = None


ENERGY_IMPORT = "Energy.Active.Import.Register"


@dataclass(frozen=True, slots=True)
class TransactionStart:
    """A charger says a transaction started."""

    charger_id: str
    evse_id: int
    connector_id: int
    id_token: str
    meter_start_wh: float
    started_at: datetime
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionStop:
    """A charger says a transaction stopped; ``transaction_id`` is the charger's id for it."""

    charger_id: str
    transaction_id: str
    meter_stop_wh: float
    stopped_at: datetime
    reason: str | None = None
    id_token: str | None = None
    samples: tuple[MeterSample, ...] = ()


@dataclass(frozen=True, slots=True)
class Transaction:
    """A charging session on one EVSE/connector."""

    id: int
    charger_id: str
    status: TransactionStatus
    transaction_id: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    authorization_status: str | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    meter_start_wh: float | None = None
    meter_stop_wh: float | None = None
    energy_wh: float | None = None
    stop_reason: str | None = None
    stop_id_token: str | None = None
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One OCPP message exchanged with a charger, and its answer."""

    charger_id: str
    direction: Direction
    unique_id: str
    action: str | None
    payload: str
    received_at: datetime
    response: str | None = None
    error_code: str | None = None
    error_description: str | None = None
    answered_at: datetime | None = None
    latency_ms: float | None = None
