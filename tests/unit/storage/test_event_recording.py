"""Recording a transaction event writes the event, its samples and the outdated events
together, and nothing at all for a repeat."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import MeterSample, TransactionEventKind
from chargegrid.domain.transaction_state import EventFacts
from chargegrid.storage.engine import Database
from chargegrid.storage.group_scope import group_scope
from chargegrid.storage.repositories import transactions as repo
from chargegrid.storage.repositories.event_recording import (
    EventRecording,
    record_event,
    record_event_later,
)
from chargegrid.storage.tables import chargers, meter_samples, transaction_events

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
POINT = repo.MeterPoint("CP-1", evse_id=2, connector_id=1)


def _facts(seq_no: int | None) -> EventFacts:
    return EventFacts(
        kind=TransactionEventKind.UPDATED,
        occurred_at=NOW,
        arrival=0,
        seq_no=seq_no,
        energy_last_at=NOW,
        energy_last_wh=1500.0,
        received_at=NOW,
    )


def _samples(count: int) -> list[MeterSample]:
    return [
        MeterSample(
            sampled_at=NOW + timedelta(seconds=i),
            measurand="Energy.Active.Import.Register",
            value=1000.0 + i,
            unit="Wh",
            phase="L1" if i % 2 else None,
            context="Sample.Periodic",
            location="Outlet",
            signed_data="signed" if i == 0 else None,
        )
        for i in range(count)
    ]


def _recording(
    pk: int,
    facts: EventFacts,
    *,
    decisive: bool = False,
    outdated: Sequence[int] = (),
    samples: int = 0,
) -> EventRecording:
    return EventRecording(pk, facts, decisive, outdated, POINT, _samples(samples))


async def _transaction_with_events(db: Database, count: int) -> tuple[int, list[int]]:
    async with db.begin() as conn:
        await conn.execute(
            insert(chargers).values(
                id="CP-1",
                security_profile=1,
                registration_status="Accepted",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        pk = (
            await repo.insert(
                conn,
                {
                    "charger_id": "CP-1",
                    "transaction_id": "T-1",
                    "status": "active",
                    "created_at": NOW,
                    "updated_at": NOW,
                },
            )
        ).id
        ids = []
        for seq_no in range(count):
            found = await record_event(conn, _recording(pk, _facts(seq_no), decisive=True))
            assert found is not None
            ids.append(found)
    return pk, ids


async def _decisive(db: Database, pk: int) -> dict[int, bool]:
    async with db.connect() as conn:
        rows = await conn.execute(
            select(transaction_events.c.id, transaction_events.c.decisive).where(
                transaction_events.c.transaction_pk == pk
            )
        )
        return {row.id: bool(row.decisive) for row in rows}


async def _stored_samples(db: Database) -> list[tuple[object, ...]]:
    async with db.connect() as conn:
        rows = await conn.execute(
            select(
                meter_samples.c.charger_id,
                meter_samples.c.transaction_pk,
                meter_samples.c.evse_id,
                meter_samples.c.connector_id,
                meter_samples.c.sampled_at,
                meter_samples.c.measurand,
                meter_samples.c.value,
                meter_samples.c.unit,
                meter_samples.c.phase,
                meter_samples.c.context,
                meter_samples.c.location,
                meter_samples.c.signed_data,
            ).order_by(meter_samples.c.id)
        )
        return [tuple(row) for row in rows]


# 40 samples and 6 outdated events are more than one statement is built for.
@pytest.mark.parametrize(("samples", "outdated"), [(0, 0), (1, 1), (4, 2), (40, 6)])
async def test_an_event_is_stored_with_its_samples_and_outdates_others(
    db: Database, samples: int, outdated: int
) -> None:
    pk, earlier = await _transaction_with_events(db, outdated + 1)
    async with db.begin() as conn:
        arrival = await record_event(
            conn, _recording(pk, _facts(None), outdated=earlier[:outdated], samples=samples)
        )
    assert arrival is not None
    assert arrival > max(earlier)  # arrival order: after every event recorded before
    expected = {event_id: event_id not in earlier[:outdated] for event_id in earlier}
    assert await _decisive(db, pk) == {**expected, arrival: False}
    assert await _stored_samples(db) == [
        (
            *("CP-1", pk, 2, 1, s.sampled_at, s.measurand, s.value),
            *(s.unit, s.phase, s.context, s.location, s.signed_data),
        )
        for s in _samples(samples)
    ]


async def test_a_repeated_sequence_number_writes_nothing(db: Database) -> None:
    pk, earlier = await _transaction_with_events(db, 2)
    async with db.begin() as conn:
        repeat = await record_event(
            conn,
            _recording(pk, _facts(1), decisive=True, outdated=earlier[:1], samples=3),
        )
    assert repeat is None
    assert await _decisive(db, pk) == dict.fromkeys(earlier, True)
    assert await _stored_samples(db) == []


# 40 samples are more than one statement is built for: the state is set after the event.
@pytest.mark.parametrize("samples", [0, 40])
async def test_the_transaction_state_is_set_with_its_event_and_not_with_a_repeat(
    db: Database, samples: int
) -> None:
    pk, _ = await _transaction_with_events(db, 1)
    later = NOW + timedelta(minutes=30)
    state = {"status": "completed", "stop_reason": "Local", "stopped_at": later}
    async with db.begin() as conn:
        repeat = await record_event(conn, _recording(pk, _facts(0), samples=samples), state)
        assert repeat is None
        assert await _state(conn, pk) == ("active", None, None)
        arrival = await record_event(conn, _recording(pk, _facts(1), samples=samples), state)
        assert arrival is not None
        assert await _state(conn, pk) == ("completed", "Local", later)
    assert len(await _stored_samples(db)) == samples


async def _state(conn: AsyncConnection, pk: int) -> tuple[object, ...]:
    transaction = await repo.get(conn, pk)
    assert transaction is not None
    return (transaction.status.value, transaction.stop_reason, transaction.stopped_at)


async def _event_count(db: Database, pk: int) -> int:
    return len(await _decisive(db, pk))


async def test_events_recorded_together_are_written_at_the_end_of_the_block(
    db: Database,
) -> None:
    pk, earlier = await _transaction_with_events(db, 3)
    async with db.begin() as conn:
        async with group_scope(conn):
            for samples, outdated in [(2, earlier[:1]), (2, earlier[1:2]), (3, [])]:
                await record_event_later(
                    conn, _recording(pk, _facts(None), outdated=outdated, samples=samples)
                )
            in_block = await conn.scalar(
                select(func.count()).where(transaction_events.c.transaction_pk == pk)
            )
            assert in_block == 3  # the earlier events only
        assert not any("group_scope" in str(name) for name in conn.info)
    decisive = await _decisive(db, pk)
    assert len(decisive) == 6
    assert [decisive[event_id] for event_id in earlier] == [False, False, True]
    assert sorted(await _stored_samples(db)) == sorted(
        (
            *("CP-1", pk, 2, 1, s.sampled_at, s.measurand, s.value),
            *(s.unit, s.phase, s.context, s.location, s.signed_data),
        )
        for count in (2, 2, 3)
        for s in _samples(count)
    )


async def _fail_after_one_event(conn: AsyncConnection, pk: int) -> None:
    async with group_scope(conn):
        await record_event_later(conn, _recording(pk, _facts(None), samples=1))
        raise RuntimeError("the group failed")


async def test_a_failed_block_writes_none_of_its_events(db: Database) -> None:
    pk, _ = await _transaction_with_events(db, 1)
    async with db.connect() as conn:
        with pytest.raises(RuntimeError, match="the group failed"):
            await _fail_after_one_event(conn, pk)
        await conn.commit()
    assert await _event_count(db, pk) == 1


async def test_only_an_event_without_a_sequence_number_may_wait(db: Database) -> None:
    pk, _ = await _transaction_with_events(db, 1)
    async with db.begin() as conn:
        with pytest.raises(ValueError, match="may be a repeat"):
            await record_event_later(conn, _recording(pk, _facts(7), decisive=True))
        # Outside a block it is written at once.
        await record_event_later(conn, _recording(pk, _facts(None), decisive=True))
        assert await conn.scalar(select(func.count()).select_from(transaction_events)) == 2
