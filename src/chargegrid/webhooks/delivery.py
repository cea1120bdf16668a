"""The delivery worker: posts queued webhook deliveries, signed, retried with back-off.

Every ``webhook_poll_interval`` seconds it claims the due deliveries (a lease: their
``next_attempt_at`` moves past the time a send can take, so no other node takes them
meanwhile) and posts each one. A 2xx answer delivers it; anything else schedules the next
attempt ``webhook_retry_base * 2**(attempts - 1)`` seconds later (±20 %), until
``webhook_max_attempts`` have failed. A node that dies mid-send leaves a lease that runs
out, and the delivery is sent again: receivers dedupe on ``X-Chargegrid-Delivery``.

The request: ``POST`` of the JSON event with ``X-Chargegrid-Event`` (its type),
``X-Chargegrid-Delivery`` (the delivery id), ``X-Chargegrid-Timestamp`` (Unix seconds)
and ``X-Chargegrid-Signature: sha256=<hex>``, the HMAC-SHA256 with the webhook's secret
of ``"<timestamp>.<body>"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from chargegrid import __version__
from chargegrid.config import Settings
from chargegrid.domain.clock import Clock
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import webhooks as repo
from chargegrid.storage.repositories.webhooks import Claimed, DeliveryState, Webhook
from chargegrid.values import immutable

logger = logging.getLogger(__name__)

CONCURRENCY = 4
"""Deliveries to one webhook sent at the same time (per node)."""

LEASE_MARGIN = 30.0
"""Seconds a claim outlasts the send timeout (for the database round trips around it)."""

MAX_DELAY = 86_400.0
"""Longest wait between two attempts (s), whatever the attempt count."""

JITTER = 0.2
ERROR_TEXT = 500  # the length of webhook_deliveries.last_error
BODY_EXCERPT = 200  # bytes of an error answer kept in last_error


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Chargegrid-Signature`` of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def retry_delay(attempts: int, base: float, rand: float) -> float:
    """Seconds to wait after ``attempts`` failed attempts; ``rand`` in [0, 1] sets the jitter."""
    delay = min(base * 2.0 ** min(attempts - 1, 64), MAX_DELAY)
    return delay * (1 - JITTER + 2 * JITTER * rand)


@immutable
class Outcome:
    """How one attempt went: the receiver's status code, and what was wrong if anything."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.error is None


class WebhookDelivery:
    """Sends the deliveries the domain queues, until stopped."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = CONCURRENCY,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """``transport`` replaces the network (tests); ``rand`` draws the jitter."""
        self._db = db
        self._settings = settings
        self._clock = clock
        self._concurrency = concurrency
        self._rand = rand
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=settings.webhook_timeout,
            follow_redirects=False,
            headers={"User-Agent": f"chargegrid-webhooks/{__version__}"},
        )
        self._in_flight: Counter[int] = Counter()  # webhook id -> sends under way
        self._sends: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start polling for due deliveries in the background."""
        self._loop = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        """Stop polling; give sends under way a moment, then cancel them (they are retried)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        if self._sends:
            grace = min(self._settings.shutdown_grace, self._settings.webhook_timeout)
            _, unfinished = await asyncio.wait(self._sends, timeout=grace)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        await self._client.aclose()

    async def poll(self) -> list[asyncio.Task[None]]:
        """Claim the due deliveries there is room for and start sending them."""
        now = self._clock.now()
        async with self._db.connect() as conn:  # most polls find nothing: no write lock
            due = await repo.due_webhooks(conn, now)
        room = {w.id: self._concurrency - self._in_flight[w.id] for w in due}
        due = [w for w in due if room[w.id] > 0]
        if not due:
            return []
        lease_until = now + timedelta(seconds=self._settings.webhook_timeout + LEASE_MARGIN)
        claims: list[tuple[Webhook, Claimed]] = []
        async with self._db.begin() as conn:
            for webhook in due:
                claimed = await repo.claim(
                    conn, webhook.id, now=now, limit=room[webhook.id], lease_until=lease_until
                )
                claims.extend((webhook, delivery) for delivery in claimed)
        return [self._spawn(webhook, delivery) for webhook, delivery in claims]

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception:
                logger.exception("could not look for due webhook deliveries")
            await asyncio.sleep(self._settings.webhook_poll_interval)

    def _spawn(self, webhook: Webhook, delivery: Claimed) -> asyncio.Task[None]:
        self._in_flight[webhook.id] += 1
        task = asyncio.create_task(self._deliver(webhook, delivery))
        self._sends.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._sends.discard(task)
            self._in_flight[webhook.id] -= 1
            if self._in_flight[webhook.id] <= 0:
                del self._in_flight[webhook.id]

        task.add_done_callback(done)
        return task

    async def _deliver(self, webhook: Webhook, delivery: Claimed) -> None:
        outcome = await self._send(webhook, delivery)
        try:
            await self._record(webhook, delivery, outcome)
        except Exception:
            logger.exception(
                "could not record the outcome of webhook delivery %d (it will be sent again)",
                delivery.id,
            )

    async def _send(self, webhook: Webhook, delivery: Claimed) -> Outcome:
        body = delivery.payload.encode()
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Chargegrid-Event": delivery.event_type,
            "X-Chargegrid-Delivery": str(delivery.id),
            "X-Chargegrid-Timestamp": str(timestamp),
            "X-Chargegrid-Signature": sign(webhook.secret, timestamp, body),
        }
        timeout = self._settings.webhook_timeout
        try:
            async with (
                asyncio.timeout(timeout),
                self._client.stream("POST", webhook.url, content=body, headers=headers) as answer,
            ):
                if answer.is_success:
                    return Outcome(answer.status_code, None)
                excerpt = await _excerpt(answer)
                error = f"HTTP {answer.status_code}" + (f": {excerpt}" if excerpt else "")
                return Outcome(answer.status_code, error)
        except TimeoutError:
            return Outcome(None, f"no answer within {timeout:g} s")
        except httpx.HTTPError as error:
            return Outcome(None, f"{type(error).__name__}: {error}".rstrip(": "))
        except Exception as error:  # whatever a receiver does, the worker carries on
            logger.warning("webhook %d: sending failed unexpectedly", webhook.id, exc_info=True)
            return Outcome(None, f"{type(error).__name__}: {error}".rstrip(": "))

    async def _record(self, webhook: Webhook, delivery: Claimed, outcome: Outcome) -> None:
        now = self._clock.now()
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_status_code": outcome.status_code,
            "updated_at": now,
        }
        if outcome.delivered:
            values.update(state=DeliveryState.DELIVERED.value, delivered_at=now)
            values["next_attempt_at"] = None
        else:
            assert outcome.error is not None
            values["last_error"] = outcome.error[:ERROR_TEXT]
            if attempts >= self._settings.webhook_max_attempts:
                values.update(state=DeliveryState.FAILED.value, next_attempt_at=None)
            else:
                delay = retry_delay(attempts, self._settings.webhook_retry_base, self._rand())
                values["next_attempt_at"] = now + timedelta(seconds=delay)
            logger.info(
                "webhook %d: delivery %d failed (attempt %d of %d): %s",
                webhook.id,
                delivery.id,
                attempts,
                self._settings.webhook_max_attempts,
                outcome.error,
            )
        async with self._db.begin() as conn:
            recorded = await repo.record_attempt(
                conn, delivery.id, claimed_attempts=delivery.attempts, **values
            )
        if not recorded:
            logger.info(
                "webhook %d: delivery %d changed while it was sent; outcome not recorded",
                webhook.id,
                delivery.id,
            )


async def _excerpt(answer: httpx.Response) -> str:
    """The start of an error answer's body (the rest is not read)."""
    read = b""
    async for chunk in answer.aiter_bytes():
        read += chunk
        if len(read) >= BODY_EXCERPT:
            break
    return " ".join(read[:BODY_EXCERPT].decode(errors="replace").split())
