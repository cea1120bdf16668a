"""The delivery worker on both engines: signing, back-off, failure, claiming (no network)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chargegrid.config import Settings
from chargegrid.domain.services import webhooks
from chargegrid.domain.services.webhooks import Delivery, DeliveryState, EventType
from chargegrid.storage.engine import Database
from chargegrid.webhooks.delivery import WebhookDelivery, retry_delay, sign

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SECRET = "a-webhook-secret-of-some-length"
BASE = 10.0
RAND = 0.25  # jitter factor 0.8 + 0.4 * 0.25 = 0.9


class FakeClock:
    def __init__(self) -> None:
        self.moment = NOW

    def now(self) -> datetime:
        return self.moment


class Receiver:
    """A MockTransport handler answering with the given status codes in turn."""

    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, text="" if answer < 300 else "boom\n  went the server")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def webhook_id(db: Database) -> int:
    async with db.begin() as conn:
        webhook = await webhooks.create(
            conn,
            url="http://receiver.test/hook",
            event_types=[EventType.CHARGER_CONNECTED.value],
            now=NOW,
            secret=SECRET,
        )
    return webhook.id


Handler = (
    Callable[[httpx.Request], httpx.Response]
    | Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]
)
WorkerFactory = Callable[..., WebhookDelivery]


@pytest.fixture
async def make_worker(db: Database, clock: FakeClock) -> AsyncIterator[WorkerFactory]:
    made: list[WebhookDelivery] = []

    def make(receiver: Handler, **settings: object) -> WebhookDelivery:
        options: dict[str, object] = {
            "database_url": db.url,
            "webhook_retry_base": BASE,
            "webhook_max_attempts": 3,
            **settings,
        }
        worker = WebhookDelivery(
            db,
            Settings(**options),  # type: ignore[arg-type]
            clock,
            transport=httpx.MockTransport(receiver),
            rand=lambda: RAND,
        )
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.stop()


async def publish(db: Database, n: int = 1) -> None:
    async with db.begin() as conn:
        for i in range(n):
            await webhooks.publish(
                conn, EventType.CHARGER_CONNECTED, {"charger_id": f"CP-{i}", "at": NOW}, NOW
            )


async def run(worker: WebhookDelivery) -> int:
    """One poll, waiting for its sends; how many were sent."""
    sent = await worker.poll()
    await asyncio.gather(*sent)
    return len(sent)


async def history(db: Database, webhook_id: int) -> list[Delivery]:
    async with db.connect() as conn:
        page = await webhooks.deliveries(conn, webhook_id, limit=100, offset=0)
    return list(page.items)


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"x"}'
    expected = hmac.new(b"key", b'1700000000.{"id":"x"}', hashlib.sha256).hexdigest()
    assert sign("key", 1_700_000_000, body) == f"sha256={expected}"
    assert sign("other", 1_700_000_000, body) != sign("key", 1_700_000_000, body)
    assert sign("key", 1_700_000_001, body) != sign("key", 1_700_000_000, body)


def test_retry_delay_doubles_with_twenty_percent_jitter() -> None:
    assert [retry_delay(n, 10, 0.5) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert retry_delay(3, 10, 0.0) == pytest.approx(32)
    assert retry_delay(3, 10, 1.0) == pytest.approx(48)
    assert retry_delay(1000, 10, 0.5) == 86_400  # capped, and no overflow


async def test_a_failed_delivery_is_retried_after_the_back_off_and_then_delivered(
    db: Database, clock: FakeClock, webhook_id: int, make_worker: WorkerFactory
) -> None:
    receiver = Receiver(500, 200)
    worker = make_worker(receiver)
    await publish(db)

    assert await run(worker) == 1
    [first] = receiver.requests
    [delivery] = await history(db, webhook_id)
    body = first.content
    assert body == delivery.payload.encode()
    timestamp = first.headers["X-Chargegrid-Timestamp"]
    assert int(timestamp) == int(NOW.timestamp())
    mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    assert first.headers["X-Chargegrid-Signature"] == f"sha256={mac.hexdigest()}"
    assert first.headers["X-Chargegrid-Event"] == "charger.connected"
    assert first.headers["X-Chargegrid-Delivery"] == str(delivery.id)
    assert first.headers["Content-Type"] == "application/json"
    assert first.method == "POST"
    assert str(first.url) == "http://receiver.test/hook"
    event = json.loads(body)
    assert event["type"] == "charger.connected"
    assert event["occurred_at"] == "2026-05-04T12:00:00Z"
    assert event["data"] == {"charger_id": "CP-0", "at": "2026-05-04T12:00:00Z"}
    assert event["id"] == delivery.event_id

    assert delivery.state is DeliveryState.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.last_error == "HTTP 500: boom went the server"
    assert delivery.next_attempt_at == NOW + timedelta(seconds=BASE * 0.9)

    clock.moment = NOW + timedelta(seconds=BASE * 0.9 - 0.001)
    assert await run(worker) == 0  # not due yet
    clock.moment = NOW + timedelta(seconds=BASE * 0.9)
    assert await run(worker) == 1
    [delivery] = await history(db, webhook_id)
    assert delivery.state is DeliveryState.DELIVERED
    assert delivery.attempts == 2
    assert delivery.last_status_code == 200
    assert delivery.delivered_at == clock.moment
    assert delivery.next_attempt_at is None
    assert delivery.last_error == "HTTP 500: boom went the server"  # the failure stays visible
    second = receiver.requests[1]
    assert second.content == body
    assert second.headers["X-Chargegrid-Delivery"] == str(delivery.id)
    assert await run(worker) == 0


async def test_attempts_back_off_exponentially_until_the_delivery_fails(
    db: Database, clock: FakeClock, webhook_id: int, make_worker: WorkerFactory
) -> None:
    receiver = Receiver(httpx.ConnectError("connection refused"), 503)
    worker = make_worker(receiver, webhook_max_attempts=3)
    await publish(db)

    waits = []
    for attempt in (1, 2):
        assert await run(worker) == 1
        [delivery] = await history(db, webhook_id)
        assert delivery.attempts == attempt
        assert delivery.state is DeliveryState.PENDING
        assert delivery.next_attempt_at is not None
        waits.append((delivery.next_attempt_at - clock.moment).total_seconds())
        if attempt == 1:
            assert delivery.last_status_code is None
            assert delivery.last_error == "ConnectError: connection refused"
        else:
            assert delivery.last_status_code == 503
        clock.moment = delivery.next_attempt_at
    assert waits == [pytest.approx(BASE * 0.9), pytest.approx(2 * BASE * 0.9)]

    assert await run(worker) == 1
    [delivery] = await history(db, webhook_id)
    assert delivery.state is DeliveryState.FAILED
    assert delivery.attempts == 3
    assert delivery.next_attempt_at is None
    assert delivery.delivered_at is None
    clock.moment += timedelta(days=1)
    assert await run(worker) == 0
    assert len(receiver.requests) == 3

    # An operator's retry sends it once more.
    async with db.begin() as conn:
        await webhooks.retry(conn, webhook_id, delivery.id, clock.moment)
    receiver.answers = [204]
    assert await run(worker) == 1
    [delivery] = await history(db, webhook_id)
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 4)


async def test_a_receiver_that_hangs_counts_as_a_failed_attempt(
    db: Database, webhook_id: int, make_worker: WorkerFactory
) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200)

    worker = make_worker(hang, webhook_timeout=0.2)
    await publish(db)
    assert await run(worker) == 1
    [delivery] = await history(db, webhook_id)
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    assert delivery.last_error == "no answer within 0.2 s"


async def test_claims_are_exclusive_and_bounded_per_webhook(
    db: Database, webhook_id: int, make_worker: WorkerFactory
) -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    first, second = make_worker(slow), make_worker(slow)
    await publish(db, 6)

    sending = await first.poll()
    assert len(sending) == 4  # at most four at once to one webhook
    assert await first.poll() == []  # no room until one is done
    other = await second.poll()
    assert len(other) == 2  # the rest; none of the first worker's
    assert await second.poll() == []
    release.set()
    await asyncio.gather(*sending, *other)
    deliveries = await history(db, webhook_id)
    assert [(d.state, d.attempts) for d in deliveries] == [(DeliveryState.DELIVERED, 1)] * 6


async def test_a_stale_outcome_does_not_overwrite_a_newer_one(
    db: Database, clock: FakeClock, webhook_id: int, make_worker: WorkerFactory
) -> None:
    """A worker whose lease ran out while it was sending must not undo a later attempt."""
    release = asyncio.Event()

    async def slow_failure(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(500)

    stale, fresh = make_worker(slow_failure), make_worker(Receiver(200))
    await publish(db)
    sending = await stale.poll()
    assert len(sending) == 1
    clock.moment = NOW + timedelta(hours=1)  # the lease has run out
    assert await run(fresh) == 1
    release.set()
    await asyncio.gather(*sending)
    [delivery] = await history(db, webhook_id)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.DELIVERED,
        1,
        200,
    )


async def test_the_worker_loop_delivers_and_stops(
    db: Database, webhook_id: int, make_worker: WorkerFactory
) -> None:
    receiver = Receiver(200)
    worker = make_worker(receiver, webhook_poll_interval=0.01)
    await worker.start()
    await publish(db)
    for _ in range(500):
        if receiver.requests:
            break
        await asyncio.sleep(0.01)
    await worker.stop()
    [delivery] = await history(db, webhook_id)
    assert delivery.state is DeliveryState.DELIVERED
