"""Security events reported by chargers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.tables import security_events


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
