"""A charger's security record: certificates issued to it, its signing requests and the
security events it reported, newest first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.tables import certificate_requests, certificates, security_events
from chargegrid.values import immutable


@immutable
class IssuedCertificate:
    """A certificate the platform's certificate authority issued to the charger."""

    certificate_type: str
    serial_number: str
    fingerprint_sha256: str
    subject: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime


@immutable
class SigningRequest:
    """A certificate signing request of the charger and what became of it."""

    certificate_type: str | None
    status: str
    reason: str | None
    received_at: datetime


@immutable
class SecurityEvent:
    type: str
    occurred_at: datetime
    tech_info: str | None


async def certificates_of(
    conn: AsyncConnection, charger_id: str, *, limit: int = 20
) -> list[IssuedCertificate]:
    rows = await conn.execute(
        select(certificates)
        .where(certificates.c.charger_id == charger_id)
        .order_by(certificates.c.issued_at.desc(), certificates.c.id.desc())
        .limit(limit)
    )
    return [
        IssuedCertificate(
            certificate_type=row.certificate_type,
            serial_number=row.serial_number,
            fingerprint_sha256=row.fingerprint_sha256,
            subject=row.subject,
            not_before=row.not_before,
            not_after=row.not_after,
            issued_at=row.issued_at,
        )
        for row in rows
    ]


async def signing_requests_of(
    conn: AsyncConnection, charger_id: str, *, limit: int = 10
) -> list[SigningRequest]:
    rows = await conn.execute(
        select(
            certificate_requests.c.certificate_type,
            certificate_requests.c.status,
            certificate_requests.c.reason,
            certificate_requests.c.received_at,
        )
        .where(certificate_requests.c.charger_id == charger_id)
        .order_by(certificate_requests.c.id.desc())
        .limit(limit)
    )
    return [SigningRequest(*row) for row in rows]


async def security_events_of(
    conn: AsyncConnection, charger_id: str, *, limit: int = 20
) -> list[SecurityEvent]:
    rows = await conn.execute(
        select(security_events.c.type, security_events.c.occurred_at, security_events.c.tech_info)
        .where(security_events.c.charger_id == charger_id)
        .order_by(security_events.c.occurred_at.desc())
        .limit(limit)
    )
    return [SecurityEvent(*row) for row in rows]
