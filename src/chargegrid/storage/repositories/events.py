"""Security events and certificate signing requests reported by chargers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.tables import certificate_requests, security_events


async def add_security_event(
    conn: AsyncConnection,
    *,
    charger_id: str,
    type: str,
    occurred_at: datetime,
    tech_info: str | None,
    received_at: datetime,
) -> None:
    await conn.execute(
        security_events.insert().values(
            charger_id=charger_id,
            type=type,
            occurred_at=occurred_at,
            tech_info=tech_info,
            received_at=received_at,
        )
    )


async def add_certificate_request(
    conn: AsyncConnection,
    *,
    charger_id: str,
    csr: str,
    certificate_type: str | None,
    status: str,
    received_at: datetime,
) -> None:
    await conn.execute(
        certificate_requests.insert().values(
            charger_id=charger_id,
            csr=csr,
            certificate_type=certificate_type,
            status=status,
            received_at=received_at,
        )
    )
