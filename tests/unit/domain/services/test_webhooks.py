"""Webhooks on both engines: validation, the outbox ``publish`` writes, and who publishes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import (
    IdIssuer,
    StatusReport,
    TransactionEvent,
    TransactionEventKind,
)
from chargegrid.domain.services import chargers, transactions, webhooks
from chargegrid.domain.services.webhooks import DeliveryState, EventType
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import webhooks as webhook_repo
from chargegrid.storage.tables import webhook_deliveries
from chargegrid.storage.tables import webhooks as webhook_table

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
ALL = [e.value for e in EventType]


async def create(db: Database, **fields: Any) -> webhooks.Webhook:
    values: dict[str, Any] = {"url": "https://example.com/hook", "event_types": ALL, **fields}
    async with db.begin() as conn:
        return await webhooks.create(conn, now=NOW, **values)


async def events(db: Database) -> list[dict[str, Any]]:
    """Every queued delivery's event, oldest first (with the webhook it is for)."""
    async with db.connect() as conn:
        rows = (
            await conn.execute(select(webhook_deliveries).order_by(webhook_deliveries.c.id))
        ).mappings()
        return [{**json.loads(row["payload"]), "webhook_id": row["webhook_id"]} for row in rows]


async def types(db: Database) -> list[str]:
    return [event["type"] for event in await events(db)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "ftp://example.com/x"}, "absolute http or https"),
        ({"url": "/relative"}, "absolute http or https"),
        ({"url": "https://"}, "absolute http or https"),
        ({"url": "http://example.com:port/"}, "absolute http or https"),
        ({"url": "https://example.com/" + "x" * 2000}, "longer than 2000"),
        ({"event_types": ["charger.exploded"]}, "unknown event types"),
        ({"event_types": []}, "at least one event type"),
        ({"secret": "short"}, "16-128 characters"),
    ],
)
async def test_invalid_webhooks_are_refused(
    db: Database, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(DomainError) as raised:
        await create(db, **fields)
    assert raised.value.kind is ErrorKind.INVALID
    assert message in raised.value.message


async def test_create_update_delete(db: Database) -> None:
    webhook = await create(
        db, event_types=["transaction.ended", "charger.connected", "transaction.ended"]
    )
    assert webhook.event_types == ("transaction.ended", "charger.connected")
    assert len(webhook.secret) >= 40  # generated
    assert webhook.active
    given = await create(db, secret="s" * 16, description="CRM")
    assert (given.secret, given.description) == ("s" * 16, "CRM")

    async with db.begin() as conn:
        changed = await webhooks.update(
            conn, given.id, now=NOW + timedelta(minutes=1), active=False, url="http://x.test/"
        )
        assert (changed.active, changed.url) == (False, "http://x.test/")
        assert changed.description == "CRM"
        assert changed.updated_at == NOW + timedelta(minutes=1)
        cleared = await webhooks.update(conn, given.id, now=NOW, description=None)
        assert cleared.description is None
        await webhooks.delete(conn, given.id)
        for missing in (
            webhooks.get(conn, given.id),
            webhooks.update(conn, given.id, now=NOW, active=True),
            webhooks.delete(conn, given.id),
            webhooks.deliveries(conn, given.id, limit=10, offset=0),
        ):
            with pytest.raises(DomainError) as raised:
                await missing
            assert raised.value.kind is ErrorKind.NOT_FOUND


async def test_publish_queues_one_event_for_each_active_subscriber(db: Database) -> None:
    async with db.begin() as conn:
        await webhooks.publish(conn, EventType.CHARGER_CONNECTED, {"charger_id": "CP"}, NOW)
    assert await events(db) == []  # nobody listens: nothing queued

    first = await create(db)
    second = await create(db, event_types=["charger.connected"])
    await create(db, event_types=["transaction.ended"])
    await create(db, active=False)
    async with db.begin() as conn:
        await webhooks.publish(
            conn, EventType.CHARGER_CONNECTED, {"charger_id": "CP", "at": START}, NOW
        )
    queued = await events(db)
    assert [e["webhook_id"] for e in queued] == [first.id, second.id]
    assert queued[0]["id"] == queued[1]["id"]
    assert queued[0] == {
        "id": queued[0]["id"],
        "type": "charger.connected",
        "occurred_at": "2026-05-04T12:00:00Z",
        "data": {"charger_id": "CP", "at": "2026-05-04T10:00:00Z"},
        "webhook_id": first.id,
    }
    async with db.connect() as conn:
        page = await webhooks.deliveries(conn, first.id, limit=10, offset=0)
    [delivery] = page.items
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryState.PENDING,
        0,
        NOW,
    )
    async with db.begin() as conn:
        with pytest.raises(DomainError) as raised:
            await webhooks.retry(conn, first.id, delivery.id, NOW)
    assert raised.value.kind is ErrorKind.CONFLICT  # pending already


@pytest.fixture
async def charger(db: Database) -> None:
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP", password="0123456789abcdef", now=NOW)


@pytest.mark.usefixtures("charger")
async def test_connections_are_published(db: Database) -> None:
    await create(db)
    async with db.begin() as conn:
        await chargers.mark_connected(conn, "CP", ocpp_version="2.0.1", now=NOW)
    async with db.begin() as conn:
        await chargers.mark_disconnected(conn, "CP", NOW + timedelta(seconds=1))
    assert [(e["type"], e["data"]) for e in await events(db)] == [
        (
            "charger.connected",
            {"charger_id": "CP", "ocpp_version": "2.0.1", "at": "2026-05-04T12:00:00Z"},
        ),
        (
            "charger.disconnected",
            {"charger_id": "CP", "ocpp_version": "2.0.1", "at": "2026-05-04T12:00:01Z"},
        ),
    ]


@pytest.mark.usefixtures("charger")
async def test_only_status_changes_are_published(db: Database) -> None:
    async def report(status: str, minute: int, evse_id: int | None = 1, **extra: Any) -> None:
        async with db.begin() as conn:
            await chargers.record_status(
                conn,
                "CP",
                StatusReport(
                    status=status,
                    occurred_at=START + timedelta(minutes=minute),
                    evse_id=evse_id,
                    connector_id=None if evse_id is None else 1,
                    **extra,
                ),
                NOW,
            )

    await report("Available", 0)  # before any webhook: not published
    await create(db, event_types=["charger.status_changed"])
    await report("Available", 1)  # no change
    await report("Occupied", 2)
    await report("Faulted", 1)  # older than the current status: not current
    await report("Occupied", 3, error_code="GroundFailure")
    await report("Available", 4, evse_id=None)  # the charger itself, first report
    await report("Available", 5, evse_id=None)
    data = [e["data"] for e in await events(db)]
    assert data == [
        {
            "charger_id": "CP",
            "evse_id": 1,
            "connector_id": 1,
            "status": "Occupied",
            "previous_status": "Available",
            "error_code": None,
            "at": "2026-05-04T10:02:00Z",
        },
        {
            "charger_id": "CP",
            "evse_id": 1,
            "connector_id": 1,
            "status": "Occupied",
            "previous_status": "Occupied",
            "error_code": "GroundFailure",
            "at": "2026-05-04T10:03:00Z",
        },
        {
            "charger_id": "CP",
            "evse_id": None,
            "connector_id": None,
            "status": "Available",
            "previous_status": None,
            "error_code": None,
            "at": "2026-05-04T10:04:00Z",
        },
    ]


def event16(kind: TransactionEventKind, minute: int, **fields: Any) -> TransactionEvent:
    return TransactionEvent(
        kind=kind,
        charger_id="CP",
        occurred_at=START + timedelta(minutes=minute),
        id_issuer=IdIssuer.PLATFORM,
        **fields,
    )


async def apply(db: Database, event: TransactionEvent) -> transactions.EventOutcome:
    async with db.begin() as conn:
        return await transactions.apply_event(conn, event, NOW)


@pytest.mark.usefixtures("charger")
async def test_a_transaction_start_and_end_are_published_once(db: Database) -> None:
    await create(db, event_types=["transaction.started", "transaction.ended"])
    start = event16(
        TransactionEventKind.STARTED,
        0,
        transaction_id=None,
        evse_id=1,
        connector_id=1,
        id_token="TAG",
        meter_start_wh=1000.0,
    )
    outcome = await apply(db, start)
    assert (await apply(db, start)).recorded is False  # a retried start
    assert outcome.transaction is not None
    name = outcome.transaction.transaction_id
    end = event16(
        TransactionEventKind.ENDED,
        30,
        transaction_id=name,
        meter_stop_wh=4500.0,
        stopped_reason="Local",
    )
    await apply(db, end)
    await apply(db, end)  # a retried end
    await apply(db, event16(TransactionEventKind.UPDATED, 20, transaction_id=name, evse_id=1))
    started, ended = await events(db)
    common = {
        "id": outcome.transaction.id,
        "transaction_id": name,
        "charger_id": "CP",
        "evse_id": 1,
        "connector_id": 1,
        "id_token": "TAG",
        "started_at": "2026-05-04T10:00:00Z",
        "meter_start_wh": 1000.0,
    }
    assert started["type"] == "transaction.started"
    assert started["data"] == {
        **common,
        "status": "active",
        "stopped_at": None,
        "meter_stop_wh": None,
        "energy_wh": None,
        "stop_reason": None,
    }
    assert ended["type"] == "transaction.ended"
    assert ended["data"] == {
        **common,
        "status": "completed",
        "stopped_at": "2026-05-04T10:30:00Z",
        "meter_stop_wh": 4500.0,
        "energy_wh": 3500.0,
        "stop_reason": "Local",
    }


@pytest.mark.usefixtures("charger")
async def test_out_of_order_and_superseded_transactions_publish_each_event_once(
    db: Database,
) -> None:
    await create(db, event_types=["transaction.started", "transaction.ended"])

    def event201(kind: TransactionEventKind, tx: str, seq: int, minute: int) -> TransactionEvent:
        return TransactionEvent(
            kind=kind,
            charger_id="CP",
            occurred_at=START + timedelta(minutes=minute),
            transaction_id=tx,
            id_issuer=IdIssuer.CHARGER,
            seq_no=seq,
            evse_id=1,
            connector_id=1,
        )

    await apply(db, event201(TransactionEventKind.ENDED, "A", 1, 10))  # the end first
    await apply(db, event201(TransactionEventKind.STARTED, "A", 0, 0))
    await apply(db, event201(TransactionEventKind.STARTED, "A", 0, 0))
    await apply(db, event201(TransactionEventKind.STARTED, "B", 0, 20))
    await apply(db, event201(TransactionEventKind.STARTED, "C", 0, 30))  # B's end is lost
    await apply(db, event201(TransactionEventKind.ENDED, "B", 1, 25))  # ... or late
    published = [(e["type"], e["data"]["transaction_id"]) for e in await events(db)]
    assert published == [
        ("transaction.ended", "A"),
        ("transaction.started", "A"),
        ("transaction.started", "B"),
        ("transaction.started", "C"),
        ("transaction.ended", "B"),
    ]
    superseded = (await events(db))[-1]["data"]
    assert superseded["stop_reason"] == transactions.SUPERSEDED
    assert superseded["stopped_at"] == "2026-05-04T10:30:00Z"


async def test_a_stopping_node_records_its_chargers_gone_together(db: Database) -> None:
    async with db.begin() as conn:
        for charger_id in ("CP-A", "CP-B", "CP-C"):
            await chargers.register(
                conn, charger_id=charger_id, password=None, now=START, security_profile=0
            )
    await create(db, event_types=["charger.disconnected"])
    async with db.begin() as conn:
        await chargers.mark_all_disconnected(conn, [("CP-A", "1.6"), ("CP-B", "2.0.1")], NOW)
    queued = await events(db)
    assert [(e["type"], e["data"]["charger_id"], e["data"]["ocpp_version"]) for e in queued] == [
        ("charger.disconnected", "CP-A", "1.6"),
        ("charger.disconnected", "CP-B", "2.0.1"),
    ]
    async with db.connect() as conn:
        gone = {c: (await chargers.get(conn, c)).disconnected_at for c in ("CP-A", "CP-B", "CP-C")}
    assert gone == {"CP-A": NOW, "CP-B": NOW, "CP-C": None}


async def test_subscriptions_changed_here_count_at_once_and_elsewhere_after_a_while(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_repo, "SUBSCRIPTIONS_KEPT_S", 0.3)
    here = await create(db, event_types=["charger.connected"])

    async def publish() -> list[int]:
        async with db.begin() as conn:
            await webhooks.publish(conn, EventType.CHARGER_CONNECTED, {"charger_id": "CP"}, NOW)
            rows = await conn.execute(select(webhook_deliveries.c.webhook_id))
            ids = sorted(rows.scalars())
            await conn.execute(webhook_deliveries.delete())
            return ids

    assert await publish() == [here.id]
    # Another node adds one: this process keeps the subscriptions it read for a while.
    async with db.begin() as conn:
        result = await conn.execute(
            webhook_table.insert()
            .values(
                url="https://example.com/other",
                event_types=ALL,
                secret="s" * 32,
                active=True,
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(webhook_table.c.id)
        )
        elsewhere = int(result.scalar_one())
    assert await publish() == [here.id]
    await asyncio.sleep(0.35)
    assert await publish() == [here.id, elsewhere]
    # A change made here counts at once.
    async with db.begin() as conn:
        await webhooks.update(conn, here.id, now=NOW, active=False)
    assert await publish() == [elsewhere]
