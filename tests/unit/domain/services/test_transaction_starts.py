"""Starts the platform names (OCPP 1.6): a repeat finds its transaction, and a start on an
EVSE supersedes the transactions still open there that started before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargegrid.domain.model import (
    IdIssuer,
    Transaction,
    TransactionEvent,
    TransactionEventKind,
    TransactionStatus,
)
from chargegrid.domain.services import chargers, transactions
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import transactions as repo

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def charger(db: Database) -> None:
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP", password="0123456789abcdef", now=NOW)


def _start(
    minute: int, *, evse_id: int = 1, token: str | None = "TAG", meter: float | None = 1000.0
) -> TransactionEvent:
    return TransactionEvent(
        kind=TransactionEventKind.STARTED,
        charger_id="CP",
        occurred_at=START + timedelta(minutes=minute),
        id_issuer=IdIssuer.PLATFORM,
        transaction_id=None,
        evse_id=evse_id,
        connector_id=1,
        id_token=token,
        meter_start_wh=meter,
    )


async def _apply(db: Database, event: TransactionEvent) -> transactions.EventOutcome:
    async with db.begin() as conn:
        return await transactions.apply_event(conn, event, NOW)


async def _started(db: Database, event: TransactionEvent) -> Transaction:
    outcome = await _apply(db, event)
    assert outcome.recorded
    assert outcome.transaction is not None
    return outcome.transaction


async def _stored(db: Database, transaction: Transaction) -> Transaction:
    async with db.connect() as conn:
        found = await repo.get(conn, transaction.id)
    assert found is not None
    return found


async def test_a_start_sent_again_finds_its_transaction_and_a_different_one_does_not(
    db: Database,
) -> None:
    first = await _started(db, _start(0))
    again = await _apply(db, _start(0))
    assert (again.recorded, again.transaction) == (False, first)
    without_token = await _started(db, _start(0, token=None))
    without_meter = await _started(db, _start(0, meter=None))
    # A start without a token or meter reading is the same as another only without them.
    assert (await _apply(db, _start(0, token=None))).transaction == without_token
    assert (await _apply(db, _start(0, meter=None))).transaction == without_meter
    assert len({first.id, without_token.id, without_meter.id}) == 3
    # Started together, none ends another.
    for transaction in (first, without_token, without_meter):
        assert (await _stored(db, transaction)).status is TransactionStatus.ACTIVE


async def test_a_start_supersedes_the_earlier_ones_still_open_on_its_evse_only(
    db: Database,
) -> None:
    earlier = await _started(db, _start(0))  # its end is lost
    elsewhere = await _started(db, _start(5, evse_id=2, token="OTHER"))
    later = await _started(db, _start(30))
    late = await _started(db, _start(10, token="LATE"))  # arrives after a newer one
    superseded = await _stored(db, earlier)
    assert superseded.status is TransactionStatus.COMPLETED
    assert superseded.stop_reason == transactions.SUPERSEDED
    assert superseded.superseded_at == later.started_at
    # A late start is decided by its time: the newer one supersedes it, not the reverse.
    assert (await _stored(db, late)).superseded_at == later.started_at
    assert (await _stored(db, later)).status is TransactionStatus.ACTIVE
    assert (await _stored(db, elsewhere)).status is TransactionStatus.ACTIVE
