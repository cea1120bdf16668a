"""The platform's vocabulary: Location > Charger > EVSE > Connector, transactions, tokens.

These are plain values; services load and store them. Nothing here knows which OCPP
version a charger speaks: an OCPP 1.6 connector *n* is EVSE *n* with connector 1.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from chargegrid.values import immutable


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
    UNKNOWN = "Unknown"  # no such token is known to the platform


class TransactionStatus(StrEnum):
    """Life cycle of a charging transaction."""

    ACTIVE = "active"
    COMPLETED = "completed"


class TransactionEventKind(StrEnum):
    """Where in its life a transaction is, as a charger reports it."""

    STARTED = "Started"
    UPDATED = "Updated"
    ENDED = "Ended"


class IdIssuer(StrEnum):
    """Who names a transaction: the charger (OCPP 2.x) or the platform (OCPP 1.6)."""

    CHARGER = "charger"
    PLATFORM = "platform"


class Direction(StrEnum):
    """Direction of an OCPP message relative to the platform."""

    INBOUND = "in"
    OUTBOUND = "out"


@immutable
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


@immutable
class Connector:
    """One plug of an EVSE, with its last reported status (None: known, never reported)."""

    evse_id: int
    connector_id: int
    status: str | None = None
    status_at: datetime | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@immutable
class Evse:
    """An EVSE: the part of a charger that charges one vehicle at a time."""

    id: int
    connectors: tuple[Connector, ...]


@immutable
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
    last_boot_reason: str | None = None
    last_heartbeat_at: datetime | None = None
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None
    has_password: bool = False
    evses: tuple[Evse, ...] = ()


@immutable
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
    reason: str | None = None


@immutable
class BootDecision:
    """The answer to a boot: registration status and the interval to use."""

    status: RegistrationStatus
    interval: int


@immutable
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


@immutable
class IdToken:
    """An identifier a driver presents (RFID uid, app token...)."""

    id_token: str
    status: IdTokenStatus
    type: str | None = None
    expires_at: datetime | None = None
    group_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@immutable
class Authorization:
    """Whether an id token may charge, and until when; ``group_id`` is the parent id."""

    status: AuthorizationStatus
    expires_at: datetime | None = None
    group_id: str | None = None


@immutable
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
_WH_PER_UNIT = {None: 1.0, "Wh": 1.0, "kWh": 1000.0}


def energy_register_wh(sample: MeterSample) -> float | None:
    """The reading of the total imported-energy register in Wh; None for any other sample."""
    if sample.measurand != ENERGY_IMPORT or sample.phase is not None or sample.value is None:
        return None
    factor = _WH_PER_UNIT.get(sample.unit)
    return None if factor is None else sample.value * factor


@immutable
class TransactionEvent:
    """One report of a charger about a transaction, whatever its OCPP version.

    ``transaction_id`` is the id both sides use; None on a start means the platform
    assigns it. ``seq_no`` orders the events of a transaction when the charger numbers
    them; ``meter_start_wh`` / ``meter_stop_wh`` are the meter readings a charger states
    explicitly at the start and the end (otherwise they come from the energy register
    readings among ``samples``).
    """

    kind: TransactionEventKind
    charger_id: str
    occurred_at: datetime
    transaction_id: str | None = None
    id_issuer: IdIssuer = IdIssuer.CHARGER
    seq_no: int | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    samples: tuple[MeterSample, ...] = ()
    meter_start_wh: float | None = None
    meter_stop_wh: float | None = None
    trigger_reason: str | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    offline: bool = False
    number_of_phases: int | None = None
    cable_max_current: int | None = None
    reservation_id: int | None = None
    remote_start_id: int | None = None
    time_spent_charging_s: int | None = None


@immutable
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
    id_token_type: str | None = None
    charging_state: str | None = None
    trigger_reason: str | None = None
    offline: bool = False
    number_of_phases: int | None = None
    cable_max_current: int | None = None
    remote_start_id: int | None = None
    time_spent_charging_s: int | None = None
    last_seq_no: int | None = None
    seq_gaps: int | None = None
    superseded_at: datetime | None = None
    tariff_id: str | None = None  # of the tariff frozen onto it when it started, if any


@immutable
class BillingTerms:
    """What tariffs, costs and CDRs are made with (set by the operator).

    ``country_code`` and ``party_id`` name the platform as an OCPI party (the CPO);
    ``currency`` is that of sessions without a tariff; ``time_zone`` is where the
    tariffs of chargers without a location are read; a CDR waits up to ``cdr_wait_s``
    for events its charger has not sent yet; the ``connector_*`` values describe
    connectors in CDRs until connectors carry their own.
    """

    country_code: str = "ZZ"
    party_id: str = "CGR"
    currency: str = "EUR"
    time_zone: str = "UTC"
    cdr_wait_s: int = 3600
    connector_standard: str = "IEC_62196_T2"
    connector_format: str = "SOCKET"
    connector_power_type: str = "AC_3_PHASE"


@immutable
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


@immutable
class ComponentRef:
    """A part of a charger in its device model: the charger itself, an EVSE, a connector..."""

    name: str
    instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None


@immutable
class VariableAttribute:
    """One value of a variable: its actual value, or a target, minimum or maximum setting."""

    type: str
    value: str | None = None
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None


@immutable
class VariableCharacteristics:
    """What values a variable takes."""

    data_type: str
    supports_monitoring: bool
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: str | None = None


@immutable
class DeviceVariable:
    """A variable of a component in a charger's device model, with what is known of it."""

    component: ComponentRef
    name: str
    instance: str | None = None
    attributes: tuple[VariableAttribute, ...] = ()
    characteristics: VariableCharacteristics | None = None
    reported_at: datetime | None = None
    updated_at: datetime | None = None


@immutable
class ChargerEvent:
    """Something a monitored variable of a charger did (a fault, a threshold crossed...)."""

    event_id: int
    occurred_at: datetime
    trigger: str
    actual_value: str
    component: ComponentRef
    variable_name: str
    notification_type: str
    variable_instance: str | None = None
    cause: int | None = None
    tech_code: str | None = None
    tech_info: str | None = None
    cleared: bool | None = None
    transaction_id: str | None = None
    variable_monitoring_id: int | None = None
    generated_at: datetime | None = None
    seq_no: int | None = None
    received_at: datetime | None = None


class ReportKind(StrEnum):
    """Reports from chargers that are kept as they were sent, until a module owns them."""

    DEVICE_MODEL = "device_model"  # which parts of a device model report arrived
    CHARGING_LIMIT = "charging_limit"
    CHARGING_LIMIT_CLEARED = "charging_limit_cleared"
    EV_CHARGING_NEEDS = "ev_charging_needs"
    EV_CHARGING_SCHEDULE = "ev_charging_schedule"
    CHARGING_PROFILES = "charging_profiles"
    RESERVATION_STATUS = "reservation_status"
    CUSTOMER_INFORMATION = "customer_information"
    DISPLAY_MESSAGES = "display_messages"
    MONITORING = "monitoring"
    FIRMWARE_PUBLICATION = "firmware_publication"
    EV_CERTIFICATE_REQUEST = "ev_certificate_request"
    CERTIFICATE_STATUS_REQUEST = "certificate_status_request"


@immutable
class ChargerReport:
    """One report of a charger; ``payload`` is its content as the charger sent it."""

    kind: ReportKind
    payload: dict[str, Any]
    request_id: int | None = None
    seq_no: int | None = None
    tbc: bool | None = None
    evse_id: int | None = None
    status: str | None = None
    generated_at: datetime | None = None
    received_at: datetime | None = None


class CommandState(StrEnum):
    """Where a command to a charger is in its life."""

    QUEUED = "queued"  # waiting for its charger (or its turn)
    SENT = "sent"  # on its way; the answer has not come yet
    ACCEPTED = "accepted"  # the charger said it will do it
    REJECTED = "rejected"  # the charger answered that it will not
    FAILED = "failed"  # could not be sent, or the charger answered with a CALLERROR
    TIMEOUT = "timeout"  # no answer in time
    EXPIRED = "expired"  # the charger did not come back before the command expired

    @property
    def finished(self) -> bool:
        """Whether the command has come to its end."""
        return self not in (CommandState.QUEUED, CommandState.SENT)


RAW_COMMAND = "ocpp"  # the name of a command given as an OCPP action and payload


@immutable
class Command:
    """An operation asked of a charger: what was asked, what was sent, how it ended.

    ``name`` is version-neutral (``remote-start``, ``reset``...) or ``ocpp`` for a raw
    OCPP call; ``action`` and ``request`` are the OCPP message it became when sent.
    """

    id: int
    charger_id: str
    name: str
    params: dict[str, Any]
    state: CommandState
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    ocpp_version: str | None = None
    action: str | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    error: str | None = None
    transaction_pk: int | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    requested_by: str | None = None
    sent_at: datetime | None = None
    answered_at: datetime | None = None
