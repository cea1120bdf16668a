"""What chargers report about themselves: device model, monitoring events, other reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import ChargerEvent, ChargerReport, DeviceVariable
from chargegrid.storage.repositories import device_model, reports


async def record_device_model(
    conn: AsyncConnection,
    charger_id: str,
    variables: Sequence[DeviceVariable],
    *,
    reported_at: datetime,
    now: datetime,
) -> None:
    """Merge (part of) a device model report into what is known of the charger.

    Reports come in parts; each part adds or updates variables. An attribute value
    keeps the newest report's (``reported_at``), whatever order the reports arrive in.
    """
    await device_model.save_variables(conn, charger_id, variables, reported_at=reported_at, now=now)


async def record_events(
    conn: AsyncConnection, charger_id: str, events: Sequence[ChargerEvent], now: datetime
) -> None:
    await reports.add_events(conn, charger_id, events, now)


async def record_report(
    conn: AsyncConnection, charger_id: str, report: ChargerReport, now: datetime
) -> None:
    await reports.add_report(conn, charger_id, report, now)
