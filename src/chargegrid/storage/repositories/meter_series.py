"""The meter samples a transaction's charts are drawn from: energy register and power."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import ENERGY_IMPORT
from chargegrid.storage.tables import meter_samples
from chargegrid.values import immutable

POWER_IMPORT = "Power.Active.Import"
CHART_MEASURANDS = (ENERGY_IMPORT, POWER_IMPORT)


@immutable
class ChartSample:
    """One energy or power reading of a transaction, with its row id (for 'newer than')."""

    id: int
    sampled_at: datetime
    measurand: str
    phase: str | None
    unit: str | None
    value: float | None


async def chart_samples(
    conn: AsyncConnection, transaction_pk: int, *, after_id: int = 0, limit: int = 50_000
) -> list[ChartSample]:
    """The transaction's energy and power samples stored after row ``after_id``, by time
    (one statement, on the transaction's samples index)."""
    rows = await conn.execute(
        select(
            meter_samples.c.id,
            meter_samples.c.sampled_at,
            meter_samples.c.measurand,
            meter_samples.c.phase,
            meter_samples.c.unit,
            meter_samples.c.value,
        )
        .where(
            (meter_samples.c.transaction_pk == transaction_pk)
            & meter_samples.c.measurand.in_(CHART_MEASURANDS)
            & (meter_samples.c.id > after_id)
        )
        .order_by(meter_samples.c.sampled_at, meter_samples.c.id)
        .limit(limit)
    )
    return [ChartSample(*row) for row in rows]
