"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, Field

from chargegrid.domain.model import Charger, IdToken, Transaction

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ConnectorOut(BaseModel):
    id: int
    status: str
    error_code: str | None
    info: str | None
    vendor_error_code: str | None
    status_at: datetime


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
