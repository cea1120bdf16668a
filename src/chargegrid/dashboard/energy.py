"""Energy per day for the overview's chart, with the days that are over kept in memory.

Summing a month of transactions takes seconds on a large network; a day that is over
changes only when a charger that was offline reports late, so its sum is read again only
every ``REFRESH_S`` seconds. Today's sum is always read fresh.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.repositories import network

REFRESH_S = 600.0


class EnergyHistory:
    """Energy (Wh) of the transactions that ended on each day (UTC midnights given)."""

    def __init__(self) -> None:
        self._key: tuple[datetime, datetime] | None = None
        self._past: list[float] = []
        self._read_at = 0.0

    async def per_day(self, conn: AsyncConnection, day_starts: list[datetime]) -> list[float]:
        """The energy of each day from ``day_starts[i]`` to ``day_starts[i + 1]``."""
        key = (day_starts[0], day_starts[-2])
        if self._key != key or time.monotonic() - self._read_at > REFRESH_S:
            self._past = await network.energy_by_day(conn, day_starts[:-1])
            self._key, self._read_at = key, time.monotonic()
        return [*self._past, *await network.energy_by_day(conn, day_starts[-2:])]
