"""The CDR sweep: makes the CDRs of ended transactions whose wait for late events is over.

Every quarter of ``CHARGEGRID_CDR_WAIT`` (at most every 30 s) it looks for them with a
read, then makes each one in a transaction of its own. Several nodes may sweep at once:
a CDR is made once whoever gets there first (``chargegrid.domain.services.cdrs``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from chargegrid.config import Settings
from chargegrid.domain.clock import Clock
from chargegrid.domain.services import cdrs
from chargegrid.storage.engine import Database

logger = logging.getLogger(__name__)

LONGEST_INTERVAL = 30.0
BATCH = 20


class CdrSweep:
    """Sweeps for due CDRs in the background until stopped."""

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._terms = settings.billing_terms()
        self._loop: asyncio.Task[None] | None = None

    @property
    def interval(self) -> float:
        return min(LONGEST_INTERVAL, self._settings.cdr_wait / 4)

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="cdr-sweep")

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None

    async def sweep(self) -> int:
        """Make the CDRs that are due now; how many were made."""
        now = self._clock.now()
        async with self._db.connect() as conn:  # most sweeps find nothing: no write lock
            due = await cdrs.due(conn, now, limit=BATCH)
        made = 0
        for transaction_pk in due:
            async with self._db.begin() as conn:
                made += await cdrs.issue_due(conn, transaction_pk, now, self._terms)
        if made:
            logger.info("made %d CDR(s) of transactions that waited for late events", made)
        return made

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                while await self.sweep() == BATCH:
                    pass
            except Exception:
                logger.exception("the CDR sweep failed; it runs again in %.0f s", self.interval)
