"""``transactions.apply_event`` on both engines: one entry point, order-independent results."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from chargegrid.domain.model import (
    ENERGY_IMPORT,
    IdIssuer,
    IdTokenStatus,
    MeterSample,
    Transaction,
    TransactionEvent,
    TransactionEventKind,
    TransactionStatus,
)
from chargegrid.domain.services import chargers, id_tokens, transactions
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import transaction_reads
from chargegrid.storage.repositories import transactions as repo
from chargegrid.storage.repositories.recorded_activity import recorded_activity
from chargegrid.storage.tables import transaction_events

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
STARTED, UPDATED, ENDED = (
    TransactionEventKind.STARTED,
    TransactionEventKind.UPDATED,
    TransactionEventKind.ENDED,
)


def session(transaction_id: str, *, evse_id: int = 1, minutes: int = 0) -> list[TransactionEvent]:
    """Started, three updates and the end of one session, with energy register readings."""
    at = START + timedelta(minutes=minutes)

    def reading(minute: int, wh: float) -> tuple[MeterSample, ...]:
        stamp = at + timedelta(minutes=minute)
        return (MeterSample(sampled_at=stamp, measurand=ENERGY_IMPORT, value=wh, unit="Wh"),)

    def make(
        kind: TransactionEventKind, seq: int, minute: int, **fields: object
    ) -> TransactionEvent:
        return TransactionEvent(
            kind=kind,
            charger_id="CP",
            occurred_at=at + timedelta(minutes=minute),
            transaction_id=transaction_id,
            seq_no=seq,
            **fields,  # type: ignore[arg-type]
        )

    return [
        make(
            STARTED, 0, 0, evse_id=evse_id, connector_id=1, id_token="TAG", samples=reading(0, 100)
        ),
        make(UPDATED, 1, 10, charging_state="Charging", samples=reading(10, 2100), offline=True),
        make(UPDATED, 2, 20, charging_state="SuspendedEV", samples=reading(20, 3100)),
        make(UPDATED, 3, 30, charging_state="Charging", number_of_phases=3),
        make(ENDED, 4, 40, stopped_reason="EVDisconnected", samples=reading(40, 5100)),
    ]


async def apply_all(db: Database, events: list[TransactionEvent]) -> None:
    for event in events:
        async with db.begin() as conn:
            await transactions.apply_event(conn, event, NOW)


async def stored(db: Database, transaction_id: str) -> Transaction:
    async with db.connect() as conn:
        found = await repo.get_by_charger_id(conn, "CP", transaction_id)
    assert found is not None
    return found


def comparable(transaction: Transaction) -> Transaction:
    return replace(transaction, id=0, transaction_id=None)


@pytest.fixture
async def charger(db: Database) -> None:
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP", password="0123456789abcdef", now=NOW)
        await id_tokens.create(conn, id_token="TAG", status=IdTokenStatus.ACCEPTED, now=NOW)


@pytest.mark.usefixtures("charger")
async def test_shuffled_and_repeated_events_give_the_in_order_result(db: Database) -> None:
    await apply_all(db, session("IN-ORDER"))
    reference = await stored(db, "IN-ORDER")
    assert reference.status is TransactionStatus.COMPLETED
    assert (reference.meter_start_wh, reference.meter_stop_wh, reference.energy_wh) == (
        100,
        5100,
        5000,
    )
    assert (reference.seq_gaps, reference.offline, reference.number_of_phases) == (0, True, 3)
    shuffler = random.Random(2026)
    for run in range(4):
        events = session(f"SHUFFLED-{run}")
        arrivals = [*events, *shuffler.choices(events, k=3)]
        shuffler.shuffle(arrivals)
        if run == 0:  # the end first of all
            arrivals.sort(key=lambda e: e.kind is not ENDED)
        await apply_all(db, arrivals)
        assert comparable(await stored(db, f"SHUFFLED-{run}")) == comparable(reference), run
    async with db.connect() as conn:
        transaction = await stored(db, "SHUFFLED-0")
        until = transaction.stopped_at or START
        activity = await recorded_activity(
            conn, transaction.id, "CP", transaction.evse_id, transaction.started_at, until
        )
    assert [s.value for s in activity.samples] == [100, 2100, 3100, 5100]  # repeats added none


@pytest.mark.usefixtures("charger")
async def test_a_long_transaction_reads_back_only_its_decisive_events(db: Database) -> None:
    first, *_, last = session("LONG")
    updates = [
        TransactionEvent(
            kind=UPDATED,
            charger_id="CP",
            occurred_at=START + timedelta(seconds=n),
            transaction_id="LONG",
            seq_no=n,
            trigger_reason="MeterValuePeriodic",
            samples=(
                MeterSample(
                    sampled_at=START + timedelta(seconds=n),
                    measurand=ENERGY_IMPORT,
                    value=100.0 + n,
                    unit="Wh",
                ),
            ),
        )
        for n in range(1, 60)
    ]
    await apply_all(db, [first, *updates, replace(last, seq_no=60)])
    transaction = await stored(db, "LONG")
    async with db.connect() as conn:
        decisive = await repo.decisive_events(conn, transaction.id)
        recorded = await repo.events_page(conn, transaction.id, limit=1000, offset=0)
    assert recorded.total == 61
    assert len(decisive) <= 4  # start, end, the last trigger... not every update
    assert (transaction.energy_wh, transaction.seq_gaps) == (5000, 0)
    assert transaction.trigger_reason == "MeterValuePeriodic"  # from the last update
    async with db.connect() as conn:
        together = await transaction_reads.get_with_decisive_events(conn, "CP", "LONG")
        assert await transaction_reads.get_with_decisive_events(conn, "CP", "NONE") is None
    async with db.begin() as conn:
        values = {"charger_id": "CP", "transaction_id": "BARE", "status": "active"}
        await repo.insert_named(conn, {**values, "created_at": NOW, "updated_at": NOW})
        bare = await transaction_reads.get_with_decisive_events(conn, "CP", "BARE")
    assert bare is not None
    assert (bare[0].transaction_id, bare[1]) == ("BARE", [])
    assert together == (transaction, decisive)
    assert [e.arrival for e in decisive] == sorted(e.arrival for e in decisive)


@pytest.mark.usefixtures("charger")
async def test_a_numbered_event_is_stored_once_by_constraint(db: Database) -> None:
    await apply_all(db, session("TX")[:1])
    transaction = await stored(db, "TX")
    row = {
        "transaction_pk": transaction.id,
        "seq_no": 0,
        "event_type": "Started",
        "occurred_at": START,
        "received_at": NOW,
    }
    with pytest.raises(IntegrityError):
        async with db.begin() as conn:
            await conn.execute(insert(transaction_events).values(**row))


@pytest.mark.usefixtures("charger")
async def test_a_late_start_closes_only_older_open_transactions(db: Database) -> None:
    older, newer = session("OLDER"), session("NEWER", minutes=60)
    # The newer transaction's start arrives first; the older one's end is lost.
    await apply_all(db, [newer[0], older[0], older[1]])
    closed, open_ = await stored(db, "OLDER"), await stored(db, "NEWER")
    assert closed.status is TransactionStatus.COMPLETED
    assert (closed.stop_reason, closed.stopped_at) == ("Superseded", newer[0].occurred_at)
    assert open_.status is TransactionStatus.ACTIVE
    # The lost end turns up after all: it wins.
    await apply_all(db, [older[-1]])
    ended = await stored(db, "OLDER")
    assert (ended.stop_reason, ended.energy_wh) == ("EVDisconnected", 5000)
    assert (await stored(db, "NEWER")).status is TransactionStatus.ACTIVE


@pytest.mark.usefixtures("charger")
async def test_platform_named_transactions(db: Database) -> None:
    """The OCPP 1.6 path: the platform names the transaction; retries have one effect."""
    start = TransactionEvent(
        kind=STARTED,
        charger_id="CP",
        occurred_at=START,
        id_issuer=IdIssuer.PLATFORM,
        evse_id=1,
        connector_id=1,
        id_token="TAG",
        meter_start_wh=1000,
    )
    outcomes = []
    for _ in range(2):
        async with db.begin() as conn:
            outcomes.append(await transactions.apply_event(conn, start, NOW))
    first, retry = outcomes
    assert first.recorded
    assert not retry.recorded
    assert first.transaction is not None
    assert retry.transaction is not None
    name = first.transaction.transaction_id
    assert name == str(first.transaction.id) == retry.transaction.transaction_id
    assert first.authorization is not None
    assert first.authorization.status.value == "Accepted"

    async def stop(transaction_id: str, meter: float) -> transactions.EventOutcome:
        async with db.begin() as conn:
            return await transactions.apply_event(
                conn,
                TransactionEvent(
                    kind=ENDED,
                    charger_id="CP",
                    occurred_at=START + timedelta(hours=1),
                    transaction_id=transaction_id,
                    id_issuer=IdIssuer.PLATFORM,
                    meter_stop_wh=meter,
                ),
                NOW,
            )

    assert name is not None
    assert (await stop(name, 3000)).recorded
    assert not (await stop(name, 3100)).recorded
    assert (await stored(db, name)).energy_wh == 2000
    # An end for a transaction the platform never named is kept, once, on its own.
    unknown = [await stop("4242", 700), await stop("4242", 700)]
    assert [o.recorded for o in unknown] == [True, False]
    assert unknown[0].transaction is not None
    assert unknown[0].transaction.transaction_id == (
        f"unmatched:4242:{(START + timedelta(hours=1)).isoformat()}"
    )
    # An update for one is not worth a transaction: its samples are kept unlinked.
    async with db.begin() as conn:
        update = await transactions.apply_event(
            conn,
            TransactionEvent(
                kind=UPDATED,
                charger_id="CP",
                occurred_at=START,
                transaction_id="999",
                id_issuer=IdIssuer.PLATFORM,
            ),
            NOW,
        )
    assert update.transaction is None
