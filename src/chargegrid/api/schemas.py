"""Request and response bodies of the REST API."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from chargegrid.domain.model import (
    Charger,
    ChargerEvent,
    ChargerReport,
    DeviceVariable,
    IdToken,
    MessageRecord,
    StatusReport,
    Transaction,
)
from chargegrid.domain.services.access import Role
from chargegrid.domain.transaction_state import EventFacts
from chargegrid.domain.users import User
from chargegrid.storage.repositories.pages import Page

S = TypeVar("S")
T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def page_out(page: Page[S], item: Callable[[S], T]) -> PageOut[T]:
    """A page of domain values as the API's list envelope."""
    return PageOut(
        items=[item(value) for value in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


class ConnectorOut(BaseModel):
    id: int
    status: str | None = Field(description="Last reported status; null if never reported.")
    error_code: str | None
    info: str | None
    vendor_error_code: str | None
    status_at: datetime | None


class EvseOut(BaseModel):
    id: int
    connectors: list[ConnectorOut]


class ChargerIn(BaseModel):
    id: str = Field(description="The charger identity, as in ws://.../ocpp/{id}.")
    password: str | None = Field(
        None, description="Basic auth password (16-40 characters); required for profiles 1-2."
    )
    security_profile: int = Field(1, ge=0, le=3)
    registration_status: Literal["Accepted", "Pending", "Rejected"] = "Accepted"


class ChargerOut(BaseModel):
    id: str
    connected: bool
    ocpp_version: str | None
    registration_status: str
    security_profile: int
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    status: str | None
    error_code: str | None
    firmware_status: str | None
    diagnostics_status: str | None
    last_boot_at: datetime | None
    last_boot_reason: str | None
    last_heartbeat: datetime | None
    connected_at: datetime | None
    disconnected_at: datetime | None
    created_at: datetime
    evses: list[EvseOut]

    @classmethod
    def of(cls, charger: Charger, *, connected: bool) -> ChargerOut:
        return cls(
            id=charger.id,
            connected=connected,
            ocpp_version=charger.ocpp_version,
            registration_status=charger.registration_status.value,
            security_profile=charger.security_profile,
            vendor=charger.vendor,
            model=charger.model,
            serial_number=charger.serial_number or charger.charge_box_serial_number,
            firmware_version=charger.firmware_version,
            status=charger.status,
            error_code=charger.error_code,
            firmware_status=charger.firmware_status,
            diagnostics_status=charger.diagnostics_status,
            last_boot_at=charger.last_boot_at,
            last_boot_reason=charger.last_boot_reason,
            last_heartbeat=charger.last_heartbeat_at,
            connected_at=charger.connected_at,
            disconnected_at=charger.disconnected_at,
            created_at=charger.created_at,
            evses=[
                EvseOut(
                    id=evse.id,
                    connectors=[
                        ConnectorOut(
                            id=c.connector_id,
                            status=c.status,
                            error_code=c.error_code,
                            info=c.info,
                            vendor_error_code=c.vendor_error_code,
                            status_at=c.status_at,
                        )
                        for c in evse.connectors
                    ],
                )
                for evse in charger.evses
            ],
        )


class IdTokenIn(BaseModel):
    id_token: str = Field(min_length=1, max_length=255)
    status: Literal["Accepted", "Blocked", "Expired", "Invalid"] = "Accepted"
    expires_at: AwareDatetime | None = None
    group_id: str | None = Field(None, max_length=255)
    type: str | None = Field(None, max_length=20)


class IdTokenOut(BaseModel):
    id_token: str
    status: str
    type: str | None
    expires_at: datetime | None
    group_id: str | None
    created_at: datetime | None

    @classmethod
    def of(cls, token: IdToken) -> IdTokenOut:
        return cls(
            id_token=token.id_token,
            status=token.status.value,
            type=token.type,
            expires_at=token.expires_at,
            group_id=token.group_id,
            created_at=token.created_at,
        )


class TransactionOut(BaseModel):
    id: int
    charger_id: str
    transaction_id: str | None
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    authorization_status: str | None
    status: str
    started_at: datetime | None
    stopped_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float | None
    stop_reason: str | None
    stop_id_token: str | None
    id_token_type: str | None
    reservation_id: int | None
    remote_start_id: int | None
    charging_state: str | None = Field(description="Last reported (Charging, SuspendedEV...).")
    trigger_reason: str | None = Field(description="Why the charger sent its last event.")
    offline: bool = Field(description="Some events were sent while the charger was offline.")
    number_of_phases: int | None
    cable_max_current: int | None = Field(description="Amperes.")
    time_spent_charging_s: int | None
    last_seq_no: int | None = Field(description="Highest event sequence number received.")
    seq_gaps: int | None = Field(
        description="Event sequence numbers missing between 0 and last_seq_no "
        "(null when the charger does not number its events)."
    )
    tariff_id: str | None = Field(description="The tariff frozen onto it when it started.")

    @classmethod
    def of(cls, t: Transaction) -> TransactionOut:
        return cls(
            id=t.id,
            charger_id=t.charger_id,
            transaction_id=t.transaction_id,
            evse_id=t.evse_id,
            connector_id=t.connector_id,
            id_token=t.id_token,
            authorization_status=t.authorization_status,
            status=t.status.value,
            started_at=t.started_at,
            stopped_at=t.stopped_at,
            meter_start_wh=t.meter_start_wh,
            meter_stop_wh=t.meter_stop_wh,
            energy_wh=t.energy_wh,
            stop_reason=t.stop_reason,
            stop_id_token=t.stop_id_token,
            id_token_type=t.id_token_type,
            reservation_id=t.reservation_id,
            remote_start_id=t.remote_start_id,
            charging_state=t.charging_state,
            trigger_reason=t.trigger_reason,
            offline=t.offline,
            number_of_phases=t.number_of_phases,
            cable_max_current=t.cable_max_current,
            time_spent_charging_s=t.time_spent_charging_s,
            last_seq_no=t.last_seq_no,
            seq_gaps=t.seq_gaps,
            tariff_id=t.tariff_id,
        )


class TransactionEventOut(BaseModel):
    event_type: str
    seq_no: int | None
    occurred_at: datetime
    received_at: datetime | None
    trigger_reason: str | None
    charging_state: str | None
    stopped_reason: str | None
    id_token: str | None
    id_token_type: str | None
    authorization_status: str | None
    evse_id: int | None
    connector_id: int | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_first_wh: float | None = Field(description="Earliest energy register reading.")
    energy_last_wh: float | None = Field(description="Latest energy register reading.")
    offline: bool

    @classmethod
    def of(cls, e: EventFacts) -> TransactionEventOut:
        return cls(
            event_type=e.kind.value,
            seq_no=e.seq_no,
            occurred_at=e.occurred_at,
            received_at=e.received_at,
            trigger_reason=e.trigger_reason,
            charging_state=e.charging_state,
            stopped_reason=e.stopped_reason,
            id_token=e.id_token,
            id_token_type=e.id_token_type,
            authorization_status=e.authorization_status,
            evse_id=e.evse_id,
            connector_id=e.connector_id,
            meter_start_wh=e.meter_start_wh,
            meter_stop_wh=e.meter_stop_wh,
            energy_first_wh=e.energy_first_wh,
            energy_last_wh=e.energy_last_wh,
            offline=e.offline,
        )


class ComponentOut(BaseModel):
    name: str
    instance: str | None
    evse_id: int | None
    connector_id: int | None


class VariableAttributeOut(BaseModel):
    type: str = Field(description="Actual, Target, MinSet or MaxSet.")
    value: str | None
    mutability: str | None
    persistent: bool | None
    constant: bool | None


class VariableCharacteristicsOut(BaseModel):
    data_type: str
    unit: str | None
    min_limit: float | None
    max_limit: float | None
    values_list: str | None
    supports_monitoring: bool


class VariableOut(BaseModel):
    component: ComponentOut
    variable: str
    variable_instance: str | None
    attributes: list[VariableAttributeOut]
    characteristics: VariableCharacteristicsOut | None
    reported_at: datetime | None = Field(description="When the newest report of it was made.")
    updated_at: datetime | None

    @classmethod
    def of(cls, v: DeviceVariable) -> VariableOut:
        c = v.characteristics
        return cls(
            component=ComponentOut(
                name=v.component.name,
                instance=v.component.instance,
                evse_id=v.component.evse_id,
                connector_id=v.component.connector_id,
            ),
            variable=v.name,
            variable_instance=v.instance,
            attributes=[
                VariableAttributeOut(
                    type=a.type,
                    value=a.value,
                    mutability=a.mutability,
                    persistent=a.persistent,
                    constant=a.constant,
                )
                for a in v.attributes
            ],
            characteristics=None
            if c is None
            else VariableCharacteristicsOut(
                data_type=c.data_type,
                unit=c.unit,
                min_limit=c.min_limit,
                max_limit=c.max_limit,
                values_list=c.values_list,
                supports_monitoring=c.supports_monitoring,
            ),
            reported_at=v.reported_at,
            updated_at=v.updated_at,
        )


class ChargerEventOut(BaseModel):
    event_id: int
    occurred_at: datetime
    trigger: str
    actual_value: str
    component: ComponentOut
    variable: str
    variable_instance: str | None
    notification_type: str
    cause: int | None
    tech_code: str | None
    tech_info: str | None
    cleared: bool | None
    transaction_id: str | None
    variable_monitoring_id: int | None
    received_at: datetime | None

    @classmethod
    def of(cls, e: ChargerEvent) -> ChargerEventOut:
        return cls(
            event_id=e.event_id,
            occurred_at=e.occurred_at,
            trigger=e.trigger,
            actual_value=e.actual_value,
            component=ComponentOut(
                name=e.component.name,
                instance=e.component.instance,
                evse_id=e.component.evse_id,
                connector_id=e.component.connector_id,
            ),
            variable=e.variable_name,
            variable_instance=e.variable_instance,
            notification_type=e.notification_type,
            cause=e.cause,
            tech_code=e.tech_code,
            tech_info=e.tech_info,
            cleared=e.cleared,
            transaction_id=e.transaction_id,
            variable_monitoring_id=e.variable_monitoring_id,
            received_at=e.received_at,
        )


class ChargerReportOut(BaseModel):
    kind: str
    request_id: int | None
    seq_no: int | None
    tbc: bool | None
    evse_id: int | None
    status: str | None
    payload: dict[str, object] = Field(description="The report as the charger sent it.")
    generated_at: datetime | None
    received_at: datetime | None

    @classmethod
    def of(cls, r: ChargerReport) -> ChargerReportOut:
        return cls(
            kind=r.kind.value,
            request_id=r.request_id,
            seq_no=r.seq_no,
            tbc=r.tbc,
            evse_id=r.evse_id,
            status=r.status,
            payload=r.payload,
            generated_at=r.generated_at,
            received_at=r.received_at,
        )


class StatusChangeOut(BaseModel):
    """A status change; ``evse_id`` None is the charger itself."""

    evse_id: int | None
    connector_id: int | None
    status: str
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    occurred_at: datetime

    @classmethod
    def of(cls, change: StatusReport) -> StatusChangeOut:
        return cls(
            evse_id=change.evse_id,
            connector_id=change.connector_id,
            status=change.status,
            error_code=change.error_code,
            info=change.info,
            vendor_id=change.vendor_id,
            vendor_error_code=change.vendor_error_code,
            occurred_at=change.occurred_at,
        )


class MessageOut(BaseModel):
    direction: str
    unique_id: str
    action: str | None
    payload: object
    response: object | None
    error_code: str | None
    error_description: str | None
    received_at: datetime
    answered_at: datetime | None
    latency_ms: float | None

    @classmethod
    def of(cls, record: MessageRecord) -> MessageOut:
        return cls(
            direction=record.direction.value,
            unique_id=record.unique_id,
            action=record.action,
            payload=_json(record.payload),
            response=None if record.response is None else _json(record.response),
            error_code=record.error_code,
            error_description=record.error_description,
            received_at=record.received_at,
            answered_at=record.answered_at,
            latency_ms=record.latency_ms,
        )


def _json(text: str) -> object:
    """Stored payloads are JSON; a frame that was not is shown as the text it was."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class UserIn(BaseModel):
    email: str = Field(max_length=255, description="Sign-in name; stored in lower case.")
    password: str = Field(min_length=8, max_length=1024)
    role: Role
    name: str | None = Field(None, max_length=100, description="Display name.")


class UserPatch(BaseModel):
    """Only the fields given change; ``name: null`` removes the name."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    password: str | None = Field(None, min_length=8, max_length=1024)
    name: str | None = Field(None, max_length=100)
    disabled: bool | None = Field(None, description="Disabled users cannot sign in.")


class UserOut(BaseModel):
    id: int
    email: str
    role: Role
    name: str | None
    disabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            role=user.role,
            name=user.name,
            disabled=user.disabled,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class AccessTokenOut(BaseModel):
    """An OAuth2 access token response (RFC 6749 section 5.1)."""

    access_token: str = Field(description="A JWT to send as 'Authorization: Bearer <token>'.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the token stays valid.")


class CallerOut(BaseModel):
    principal: str = Field(description="'user:<email>' or 'token:<name>'.")
    role: Role
    user: UserOut | None = Field(description="The signed-in user; null for an API token.")


class IdTokenPatch(BaseModel):
    """What to change of an id token: a field left out stays as it is; null clears
    expires_at, group_id and type."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["Accepted", "Blocked", "Expired", "Invalid"] | None = None
    expires_at: AwareDatetime | None = Field(None, description="null: it never expires.")
    group_id: str | None = Field(None, max_length=255, description="null: in no group.")
    type: str | None = Field(None, max_length=20)
