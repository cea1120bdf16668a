"""Chargers: registration, boot, heartbeat, status and the reports they send."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import (
    BootDecision,
    BootInfo,
    Charger,
    RegistrationStatus,
    StatusReport,
)
from chargegrid.domain.passwords import check_password_rules, hash_password
from chargegrid.domain.services import webhooks
from chargegrid.domain.services.webhooks import EventType
from chargegrid.storage.repositories import chargers as repo
from chargegrid.storage.repositories import events

# OCPP 2.0.1 identity: at most 48 characters from RFC 3986's unreserved set plus a few
# more; never ':' (it separates the Basic auth username from the password).
CHARGER_ID = re.compile(r"[A-Za-z0-9._~*@+|=-]{1,48}")

# Security profiles that authenticate with a password (1: Basic over ws, 2: Basic over wss).
PASSWORD_PROFILES = frozenset({1, 2})


def check_charger_id(charger_id: str) -> None:
    """Raise ``DomainError`` unless ``charger_id`` is a valid charger identity."""
    if CHARGER_ID.fullmatch(charger_id) is None:
        raise DomainError(
            ErrorKind.INVALID,
            "charger id must be 1-48 characters of letters, digits and ._~*@+|=-",
        )


async def register(
    conn: AsyncConnection,
    *,
    charger_id: str,
    password: str | None,
    now: datetime,
    security_profile: int = 1,
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED,
    location_id: str | None = None,
) -> Charger:
    """Register a charger; its password (16-40 characters) is stored hashed."""
    check_charger_id(charger_id)
    if security_profile not in range(4):
        raise DomainError(ErrorKind.INVALID, "security_profile must be 0, 1, 2 or 3")
    if password is None and security_profile in PASSWORD_PROFILES:
        raise DomainError(
            ErrorKind.INVALID, f"security profile {security_profile} needs a password"
        )
    if password is not None:
        try:
            check_password_rules(password)
        except ValueError as error:
            raise DomainError(ErrorKind.INVALID, str(error)) from None
    if await repo.exists(conn, charger_id):
        raise DomainError(ErrorKind.CONFLICT, f"charger {charger_id!r} already exists")
    await repo.insert(
        conn,
        {
            "id": charger_id,
            "password_hash": None if password is None else hash_password(password),
            "security_profile": security_profile,
            "registration_status": registration_status.value,
            "location_id": location_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    return await get(conn, charger_id)


async def get(conn: AsyncConnection, charger_id: str) -> Charger:
    """The charger with its EVSEs and connectors; ``NOT_FOUND`` if unknown."""
    charger = await repo.get(conn, charger_id)
    if charger is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"charger {charger_id!r} not found")
    return charger


async def record_boot(
    conn: AsyncConnection,
    charger_id: str,
    info: BootInfo,
    *,
    ocpp_version: str,
    now: datetime,
    heartbeat_interval: int,
    retry_interval: int,
) -> BootDecision:
    """Store what the charger says about itself and decide whether it is accepted."""
    status = await registration_status(conn, charger_id)
    await repo.update_fields(
        conn,
        charger_id,
        ocpp_version=ocpp_version,
        vendor=info.vendor,
        model=info.model,
        serial_number=info.serial_number,
        charge_box_serial_number=info.charge_box_serial_number,
        firmware_version=info.firmware_version,
        iccid=info.iccid,
        imsi=info.imsi,
        meter_type=info.meter_type,
        meter_serial_number=info.meter_serial_number,
        last_boot_at=now,
        last_boot_reason=info.reason,
        updated_at=now,
    )
    interval = heartbeat_interval if status is RegistrationStatus.ACCEPTED else retry_interval
    return BootDecision(status, interval)


async def registration_status(conn: AsyncConnection, charger_id: str) -> RegistrationStatus:
    """Whether the charger may do more than boot; ``NOT_FOUND`` if unknown."""
    status = await repo.registration_status(conn, charger_id)
    if status is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"charger {charger_id!r} not found")
    return status


async def record_heartbeat(conn: AsyncConnection, charger_id: str, now: datetime) -> None:
    await repo.record_heartbeat(conn, charger_id, now)


async def record_status(
    conn: AsyncConnection, charger_id: str, report: StatusReport, now: datetime
) -> None:
    """Keep the status history; update the current status unless the report is older."""
    watched = await webhooks.subscribed(conn, EventType.CHARGER_STATUS_CHANGED)
    before = await _current_status(conn, charger_id, report) if watched else None
    await repo.add_status_change(conn, charger_id, report, now)
    if report.evse_id is None:
        await repo.save_charger_status(conn, charger_id, report, now)
    else:
        await repo.save_connector_status(conn, charger_id, report, now)
    if watched:
        await _publish_status_change(conn, charger_id, report, before, now, watched)


_Status = tuple[str | None, str | None, datetime | None]  # status, error code, as of


async def _current_status(
    conn: AsyncConnection, charger_id: str, report: StatusReport
) -> _Status | None:
    """The status the report is about (charger's or connector's) before it; None if none."""
    charger = await repo.get(conn, charger_id)
    if charger is None:
        return None
    if report.evse_id is None:
        return charger.status, charger.error_code, None
    for evse in charger.evses:
        for connector in evse.connectors:
            if (evse.id, connector.connector_id) == (report.evse_id, report.connector_id):
                return connector.status, connector.error_code, connector.status_at
    return None


async def _publish_status_change(
    conn: AsyncConnection,
    charger_id: str,
    report: StatusReport,
    before: _Status | None,
    now: datetime,
    watchers: Sequence[int],
) -> None:
    """Tell webhooks of the change, unless the status stays or the report is outdated."""
    previous: str | None = None
    if before is not None:
        previous, previous_error, as_of = before
        if as_of is not None and as_of > report.occurred_at:
            return
        if (previous, previous_error) == (report.status, report.error_code):
            return
    await webhooks.publish(
        conn,
        EventType.CHARGER_STATUS_CHANGED,
        {
            "charger_id": charger_id,
            "evse_id": report.evse_id,
            "connector_id": report.connector_id,
            "status": report.status,
            "previous_status": previous,
            "error_code": report.error_code,
            "at": report.occurred_at,
        },
        now,
        to=watchers,
    )


async def record_firmware_status(
    conn: AsyncConnection, charger_id: str, status: str, now: datetime
) -> None:
    await repo.update_fields(conn, charger_id, firmware_status=status, firmware_status_at=now)


async def record_diagnostics_status(
    conn: AsyncConnection, charger_id: str, status: str, now: datetime
) -> None:
    await repo.update_fields(conn, charger_id, diagnostics_status=status, diagnostics_status_at=now)


async def record_log_status(
    conn: AsyncConnection, charger_id: str, status: str, now: datetime
) -> None:
    await repo.update_fields(conn, charger_id, log_status=status, log_status_at=now)


async def record_security_event(
    conn: AsyncConnection,
    charger_id: str,
    *,
    type: str,
    occurred_at: datetime,
    tech_info: str | None,
    now: datetime,
) -> None:
    await events.add_security_event(
        conn,
        charger_id=charger_id,
        type=type,
        occurred_at=occurred_at,
        tech_info=tech_info,
        received_at=now,
    )


async def mark_connected(
    conn: AsyncConnection, charger_id: str, *, ocpp_version: str, now: datetime
) -> None:
    await repo.update_fields(conn, charger_id, ocpp_version=ocpp_version, connected_at=now)
    await webhooks.publish(
        conn,
        EventType.CHARGER_CONNECTED,
        {"charger_id": charger_id, "ocpp_version": ocpp_version, "at": now},
        now,
    )


async def mark_all_disconnected(
    conn: AsyncConnection, gone: Sequence[tuple[str, str]], now: datetime
) -> None:
    """Record that these chargers (id, OCPP version) disconnected now: a node stopping."""
    await repo.set_disconnected(conn, [charger_id for charger_id, _ in gone], now)
    watchers = await webhooks.subscribed(conn, EventType.CHARGER_DISCONNECTED)
    for charger_id, version in gone if watchers else ():
        await webhooks.publish(
            conn,
            EventType.CHARGER_DISCONNECTED,
            {"charger_id": charger_id, "ocpp_version": version, "at": now},
            now,
            to=watchers,
        )


async def mark_disconnected(conn: AsyncConnection, charger_id: str, now: datetime) -> None:
    await repo.update_fields(conn, charger_id, disconnected_at=now)
    watchers = await webhooks.subscribed(conn, EventType.CHARGER_DISCONNECTED)
    if watchers:
        charger = await repo.get(conn, charger_id)
        version = None if charger is None else charger.ocpp_version
        await webhooks.publish(
            conn,
            EventType.CHARGER_DISCONNECTED,
            {"charger_id": charger_id, "ocpp_version": version, "at": now},
            now,
            to=watchers,
        )
