"""CDRs on both engines: made once, when every event is in or after the wait; a failure
to price never loses the charger's event; running costs are sent once per change."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from chargegrid.cdr_sweep import CdrSweep
from chargegrid.config import Settings
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import (
    ENERGY_IMPORT,
    BillingTerms,
    MeterSample,
    Transaction,
    TransactionEvent,
    TransactionEventKind,
)
from chargegrid.domain.services import cdrs, chargers, costs, tariffs, transactions
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import cdrs as cdr_repo
from chargegrid.storage.repositories import transactions as transaction_repo
from chargegrid.storage.tables import cdrs as cdr_table
from chargegrid.storage.tables import pending_cdrs, transaction_tariffs

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
TERMS = BillingTerms(cdr_wait_s=600)
TARIFF = (
    b'{"id":"KWH","currency":"EUR","elements":[{"price_components":['
    b'{"type":"ENERGY","price":0.25,"vat":20,"step_size":1}]}]}'
)
STARTED, UPDATED, ENDED = TransactionEventKind


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def event(kind: TransactionEventKind, seq_no: int, minute: int, wh: float) -> TransactionEvent:
    at = T0 + timedelta(minutes=minute)
    return TransactionEvent(
        kind=kind,
        charger_id="CP",
        occurred_at=at,
        transaction_id="TX",
        seq_no=seq_no,
        evse_id=1 if kind is STARTED else None,
        connector_id=1 if kind is STARTED else None,
        stopped_reason="Local" if kind is ENDED else None,
        samples=(MeterSample(sampled_at=at, measurand=ENERGY_IMPORT, value=wh, unit="Wh"),),
    )


async def prepare(db: Database) -> None:
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP", password=None, security_profile=0, now=T0)
        await tariffs.create(conn, TARIFF, TERMS, T0)
        await tariffs.assign(conn, "CP", 1, 1, ["KWH"], T0)


async def apply(db: Database, *events: TransactionEvent, now: datetime = NOW) -> Transaction:
    outcome = None
    for item in events:
        async with db.begin() as conn:
            outcome = await transactions.apply_event(conn, item, now, TERMS)
    assert outcome is not None
    assert outcome.transaction is not None
    return outcome.transaction


async def count(db: Database, table: object) -> int:
    async with db.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


async def test_a_cdr_is_made_once_when_every_event_is_in(db: Database) -> None:
    await prepare(db)
    start, middle, end = (
        event(STARTED, 0, 0, 1000),
        event(UPDATED, 1, 10, 3000),
        event(ENDED, 2, 20, 5000),
    )
    transaction = await apply(db, start, end)
    assert transaction.tariff_id == "KWH"
    async with db.connect() as conn:  # stored as returned, the frozen tariff's id with it
        assert await transaction_repo.get(conn, transaction.id) == transaction
    # Ended with event 1 missing: it waits.
    assert (await count(db, cdr_table), await count(db, pending_cdrs)) == (0, 1)
    async with db.connect() as conn:
        waiting = await costs.cost_of(conn, transaction, NOW)
    assert waiting is not None
    assert waiting.cdr_id is None
    assert waiting.total_energy == Decimal("4.0000")

    await apply(db, middle, end, middle)  # the late one, then repeats
    assert (await count(db, cdr_table), await count(db, pending_cdrs)) == (1, 0)
    async with db.connect() as conn:
        (record,) = await cdr_repo.of_transaction(conn, transaction.id)
        made = await costs.cost_of(conn, transaction, NOW + timedelta(days=1))
    assert (record.cdr_id, record.issue, record.credit) == (str(transaction.id), 1, False)
    assert (record.total_energy, record.total_cost_excl_vat) == (Decimal("4"), Decimal("1"))
    assert record.total_cost_incl_vat == Decimal("1.2")
    assert made is not None
    assert (made.cdr_id, made.total_cost.incl_vat, made.as_of) == (
        record.cdr_id,
        Decimal("1.2"),
        NOW,
    )
    assert cdrs.decode(record).charging_periods[0].tariff_id == "KWH"

    # Even told twice to make it (a replayed message, a sweep, another node): still one.
    async with db.begin() as conn:
        again = await transaction_repo.get(conn, transaction.id)
        assert again is not None
        assert await cdrs.issue(conn, again, NOW, TERMS) is None
    assert await count(db, cdr_table) == 1


async def test_the_wait_ends_and_a_failure_is_tried_again(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await prepare(db)
    transaction = await apply(db, event(STARTED, 0, 0, 1000))
    async with db.begin() as conn:  # a tariff that no longer reads back
        frozen = await conn.scalar(select(transaction_tariffs.c.document))
        await conn.execute(update(transaction_tariffs).values(document="{}"))
    with caplog.at_level(logging.ERROR):
        ended = await apply(db, event(UPDATED, 1, 10, 2000), event(ENDED, 2, 20, 3000))
    # The charger's events are recorded all the same; the CDR waits.
    assert ended.status.value == "completed"
    assert "could not make the CDR of transaction" in caplog.text
    assert (await count(db, cdr_table), await count(db, pending_cdrs)) == (0, 1)

    settings = Settings(cdr_wait=600)
    clock = Clock(NOW + timedelta(seconds=599))
    sweep = CdrSweep(db, settings, clock)
    assert sweep.interval == 30.0
    assert await sweep.sweep() == 0  # not due yet
    clock.at = NOW + timedelta(seconds=600)
    assert await sweep.sweep() == 0  # due, fails again: postponed
    async with db.connect() as conn:
        assert await cdrs.due(conn, clock.at) == []
    async with db.begin() as conn:
        await conn.execute(update(transaction_tariffs).values(document=frozen))
    clock.at += timedelta(seconds=600)
    assert await sweep.sweep() == 1
    assert (await count(db, cdr_table), await count(db, pending_cdrs)) == (1, 0)
    async with db.connect() as conn:
        (record,) = await cdr_repo.of_transaction(conn, transaction.id)
    assert record.total_energy == Decimal("2")
    assert cdrs.decode(record).remark == "stopped: Local"


async def test_a_transaction_without_its_end_gets_its_cdr_after_the_wait(db: Database) -> None:
    await prepare(db)
    first = await apply(db, event(STARTED, 0, 0, 1000), event(UPDATED, 1, 10, 4000))
    later = TransactionEvent(
        kind=STARTED,
        charger_id="CP",
        occurred_at=T0 + timedelta(minutes=30),
        transaction_id="TX-NEXT",
        seq_no=0,
        evse_id=1,
        connector_id=1,
    )
    await apply(db, later)  # the next one on the EVSE: the first ended when it started
    assert await count(db, pending_cdrs) == 1
    sweep = CdrSweep(db, Settings(cdr_wait=600), Clock(NOW + timedelta(hours=1)))
    assert await sweep.sweep() == 1
    async with db.connect() as conn:
        (record,) = await cdr_repo.of_transaction(conn, first.id)
    cdr = cdrs.decode(record)
    assert cdr.end_date_time == T0 + timedelta(minutes=30)
    assert cdr.total_energy == Decimal("3.0000")
    assert cdr.remark is not None
    assert cdr.remark.startswith("made without the end of the transaction")


async def test_a_running_cost_is_sent_once_per_change(db: Database) -> None:
    await prepare(db)
    transaction = await apply(db, event(STARTED, 0, 0, 1000), event(UPDATED, 1, 10, 3000))

    async def running(now: datetime, interval: float = 0) -> costs.CostNotice | None:
        async with db.connect() as conn:
            return await costs.running_cost(conn, transaction.id, now, interval_s=interval)

    notice = await running(NOW)
    assert notice == costs.CostNotice(transaction.id, "TX", Decimal("0.6000"), None)
    async with db.begin() as conn:
        assert await costs.note_sent(conn, notice, NOW)
        assert not await costs.note_sent(conn, notice, NOW)  # someone else sent it first
    assert await running(NOW) is None  # unchanged
    await apply(db, event(UPDATED, 2, 20, 4000))
    assert await running(NOW + timedelta(seconds=30), interval=60) is None  # too soon
    changed = await running(NOW + timedelta(seconds=60), interval=60)
    assert changed == costs.CostNotice(transaction.id, "TX", Decimal("0.9000"), Decimal("0.6"))
    await apply(db, event(ENDED, 3, 30, 4000))
    assert await running(NOW + timedelta(hours=1)) is None  # ended: its answer had the cost


async def test_a_free_cdr_is_credited_and_priced_with_a_stored_tariff(db: Database) -> None:
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP", password=None, security_profile=0, now=T0)
        await tariffs.create(conn, TARIFF, TERMS, T0)  # stored, assigned nowhere
    transaction = await apply(
        db, event(STARTED, 0, 0, 1000), event(UPDATED, 1, 10, 3000), event(ENDED, 2, 20, 5000)
    )
    assert transaction.tariff_id is None
    async with db.begin() as conn:
        (free,) = await cdr_repo.of_transaction(conn, transaction.id)
        assert (free.total_cost_excl_vat, free.tariff_id) == (Decimal(0), None)
        with pytest.raises(DomainError) as refused:
            await cdrs.credit(conn, free.cdr_id, NOW, TERMS, tariff_id="NONE")
        assert refused.value.kind is ErrorKind.NOT_FOUND
    async with db.begin() as conn:
        correction = await cdrs.credit(conn, free.cdr_id, NOW, TERMS, tariff_id="KWH")
    assert correction.replacement is not None
    priced = cdrs.decode(correction.replacement)
    assert (priced.id, priced.total_cost.incl_vat) == (f"{transaction.id}-2", Decimal("1.2000"))
    assert [t.id for t in priced.tariffs] == ["KWH"]
    credit = cdrs.decode(correction.credit)
    assert (credit.credit, credit.total_cost.excl_vat) == (True, Decimal(0))
    async with db.begin() as conn:
        with pytest.raises(DomainError) as refused:
            await cdrs.credit(conn, credit.id, NOW, TERMS)
        assert refused.value.kind is ErrorKind.INVALID
        with pytest.raises(DomainError) as refused:
            await cdrs.credit(conn, free.cdr_id, NOW, TERMS, reissue=False)
        assert refused.value.kind is ErrorKind.CONFLICT
