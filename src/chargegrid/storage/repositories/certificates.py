"""Certificate signing requests from chargers and the certificates issued for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.tables import certificate_requests, certificates


async def add_request(
    conn: AsyncConnection,
    *,
    charger_id: str,
    csr: str,
    certificate_type: str,
    status: str,
    reason: str | None,
    received_at: datetime,
) -> int:
    """Record a request; returns its id."""
    result = await conn.execute(
        certificate_requests.insert()
        .values(
            charger_id=charger_id,
            csr=csr,
            certificate_type=certificate_type,
            status=status,
            reason=None if reason is None else reason[:255],
            received_at=received_at,
        )
        .returning(certificate_requests.c.id)
    )
    return int(result.scalar_one())


async def add_certificate(
    conn: AsyncConnection,
    *,
    charger_id: str,
    request_id: int,
    certificate_type: str,
    serial_number: str,
    fingerprint_sha256: str,
    subject: str,
    not_before: datetime,
    not_after: datetime,
    certificate: str,
    issued_at: datetime,
) -> None:
    await conn.execute(
        certificates.insert().values(
            charger_id=charger_id,
            request_id=request_id,
            certificate_type=certificate_type,
            serial_number=serial_number,
            fingerprint_sha256=fingerprint_sha256,
            subject=subject[:255],
            not_before=not_before,
            not_after=not_after,
            certificate=certificate,
            issued_at=issued_at,
        )
    )
