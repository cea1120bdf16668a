"""Totals per day for the overview's charts, with the days that are over kept in memory.

Summing a month of transactions or CDRs takes seconds on a large network; a day that is
over changes only when a charger that was offline reports late or a CDR is credited, so
its total is read again only every ``REFRESH_S`` seconds. Today's is always read fresh.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

REFRESH_S = 600.0

T = TypeVar("T")

DailyReader = Callable[[AsyncConnection, Sequence[datetime]], Awaitable[list[T]]]


class DailyHistory(Generic[T]):
    """A total per day read by ``read`` (given consecutive day starts and the last end)."""

    def __init__(self, read: DailyReader[T]) -> None:
        self._read = read
        self._key: tuple[datetime, datetime] | None = None
        self._past: list[T] = []
        self._read_at = 0.0

    async def per_day(self, conn: AsyncConnection, day_starts: list[datetime]) -> list[T]:
        """The total of each day from ``day_starts[i]`` to ``day_starts[i + 1]``."""
        key = (day_starts[0], day_starts[-2])
        if self._key != key or time.monotonic() - self._read_at > REFRESH_S:
            self._past = await self._read(conn, day_starts[:-1])
            self._key, self._read_at = key, time.monotonic()
        return [*self._past, *await self._read(conn, day_starts[-2:])]
