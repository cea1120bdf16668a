"""What a transaction's charger recorded during it, read in one statement, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.charging_periods import StateChange
from chargegrid.domain.model import MeterSample
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories.recorded_activity import RecordedActivity, recorded_activity
from chargegrid.storage.tables import (
    chargers,
    meter_samples,
    status_changes,
    transaction_events,
    transactions,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


async def _statuses(
    conn: AsyncConnection, evse_id: int, start: int, until: int
) -> list[StateChange]:
    """The EVSE's statuses of a transaction (one without samples or charging states)."""
    activity = await recorded_activity(conn, 0, "CP", evse_id, _at(start), _at(until))
    assert (activity.samples, activity.charging_states) == ((), ())
    return list(activity.evse_states)


async def _transaction(conn: AsyncConnection, pk: int) -> None:
    await conn.execute(
        transactions.insert(),
        {"id": pk, "charger_id": "CP", "status": "Active", "created_at": T0, "updated_at": T0},
    )


async def _sample(
    conn: AsyncConnection, pk: int, minute: int, measurand: str, value: float
) -> None:
    await conn.execute(
        meter_samples.insert(),
        {
            "charger_id": "CP",
            "transaction_pk": pk,
            "evse_id": 1,
            "sampled_at": _at(minute),
            "measurand": measurand,
            "value": value,
            "unit": "Wh" if measurand.startswith("Energy") else None,
            "phase": "L2" if measurand == "Current.Import" else None,
            "context": "Sample.Periodic",
        },
    )


async def _charging_state(
    conn: AsyncConnection, pk: int, minute: int, seq_no: int | None, state: str | None
) -> None:
    await conn.execute(
        transaction_events.insert(),
        {
            "transaction_pk": pk,
            "seq_no": seq_no,
            "event_type": "Updated",
            "occurred_at": _at(minute),
            "charging_state": state,
            "received_at": T0,
        },
    )


async def _status(conn: AsyncConnection, evse_id: int, minute: int, status: str) -> None:
    await conn.execute(
        status_changes.insert(),
        {
            "charger_id": "CP",
            "evse_id": evse_id,
            "status": status,
            "occurred_at": _at(minute),
            "received_at": T0,
        },
    )


async def test_the_status_in_force_at_the_start_then_each_reported_until_the_end(
    db: Database,
) -> None:
    reported = [
        (1, -20, "Preparing"),
        (1, -10, "Available"),  # the last before the start: in force at it
        (2, -5, "Faulted"),  # another EVSE
        (1, 15, "SuspendedEV"),
        (1, 5, "Charging"),  # reported late, in order all the same
        (1, 15, "Charging"),  # the same moment: in the order reported
        (2, 20, "Available"),
        (1, 30, "Finishing"),  # the end, included
        (1, 31, "Available"),  # after the end
    ]
    async with db.begin() as conn:
        await conn.execute(chargers.insert(), {"id": "CP", "created_at": T0, "updated_at": T0})
        for evse_id, minute, status in reported:
            await _status(conn, evse_id, minute, status)
    async with db.connect() as conn:
        during = await _statuses(conn, 1, 0, 30)
        from_first = await _statuses(conn, 1, -20, -15)
        before_any = await _statuses(conn, 1, -30, -25)
        elsewhere = await _statuses(conn, 2, -5, 10)
    assert during == [
        StateChange(at=_at(-10), state="Available"),
        StateChange(at=_at(5), state="Charging"),
        StateChange(at=_at(15), state="SuspendedEV"),
        StateChange(at=_at(15), state="Charging"),
        StateChange(at=_at(30), state="Finishing"),
    ]
    # One reported at the start exactly comes as the one in force and as reported.
    assert from_first == [StateChange(at=_at(-20), state="Preparing")] * 2
    assert before_any == []
    assert elsewhere == [StateChange(at=_at(-5), state="Faulted")] * 2


async def test_samples_and_charging_states_of_one_transaction_or_its_statuses(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(chargers.insert(), {"id": "CP", "created_at": T0, "updated_at": T0})
        await _transaction(conn, 7)
        await _transaction(conn, 8)
        await _sample(conn, 7, 10, "Energy.Active.Import.Register", 1500.5)
        await _sample(conn, 7, 0, "Energy.Active.Import.Register", 1000.0)
        await _sample(conn, 7, 10, "Current.Import", 16.0)
        await _sample(conn, 8, 5, "Energy.Active.Import.Register", 9.0)  # another's
        await _charging_state(conn, 7, 12, None, "SuspendedEV")  # unnumbered: after
        await _charging_state(conn, 7, 12, 3, "Charging")
        await _charging_state(conn, 7, 2, 1, "Charging")
        await _charging_state(conn, 7, 4, 2, None)  # no state reported
        await _charging_state(conn, 8, 3, 1, "Idle")  # another's
        await _status(conn, 1, -1, "Preparing")
        await _status(conn, 1, 20, "Finishing")
    async with db.connect() as conn:
        activity = await recorded_activity(conn, 7, "CP", 1, _at(0), _at(20))
    assert activity.samples == (
        MeterSample(
            sampled_at=_at(0),
            measurand="Energy.Active.Import.Register",
            value=1000.0,
            unit="Wh",
            context="Sample.Periodic",
        ),
        MeterSample(
            sampled_at=_at(10),
            measurand="Energy.Active.Import.Register",
            value=1500.5,
            unit="Wh",
            context="Sample.Periodic",
        ),
        MeterSample(
            sampled_at=_at(10),
            measurand="Current.Import",
            value=16.0,
            phase="L2",
            context="Sample.Periodic",
        ),
    )
    assert activity.charging_states == (
        StateChange(_at(2), "Charging"),
        StateChange(_at(12), "Charging"),
        StateChange(_at(12), "SuspendedEV"),
    )
    assert activity.evse_states == ()  # its events report charging states: not read
    assert activity.states == activity.charging_states
    async with db.connect() as conn:  # another transaction on the EVSE, without them
        other = await recorded_activity(conn, 8, "CP", 1, _at(0), _at(20))
    assert other.charging_states == (StateChange(_at(3), "Idle"),)
    async with db.begin() as conn:
        await conn.execute(
            transaction_events.delete().where(transaction_events.c.transaction_pk == 8)
        )
    async with db.connect() as conn:
        other = await recorded_activity(conn, 8, "CP", 1, _at(0), _at(20))
    assert (
        other.states
        == other.evse_states
        == (
            StateChange(_at(-1), "Preparing"),
            StateChange(_at(20), "Finishing"),
        )
    )


async def test_without_a_start_the_statuses_run_from_the_first_sample(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(chargers.insert(), {"id": "CP", "created_at": T0, "updated_at": T0})
        await _transaction(conn, 7)
        await _sample(conn, 7, 10, "Energy.Active.Import.Register", 1.0)
        await _sample(conn, 7, 15, "Energy.Active.Import.Register", 2.0)
        await _status(conn, 1, 5, "Preparing")
        await _status(conn, 1, 8, "Charging")  # the one in force at the first sample
        await _status(conn, 1, 12, "SuspendedEV")
    async with db.connect() as conn:
        unknown = await recorded_activity(conn, 7, "CP", 1, None, _at(20))
        without_samples = await recorded_activity(conn, 8, "CP", 1, None, _at(9))
    assert (
        unknown.states
        == unknown.evse_states
        == (
            StateChange(_at(8), "Charging"),
            StateChange(_at(12), "SuspendedEV"),
        )
    )
    # No start and no sample: from the end.
    assert without_samples == RecordedActivity((), (), (StateChange(_at(8), "Charging"),))
