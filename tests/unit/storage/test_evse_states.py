"""An EVSE's statuses over a transaction, as its CDR reads them, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargegrid.domain.charging_periods import StateChange
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import chargers as repo
from chargegrid.storage.tables import chargers, status_changes

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


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
    async with db.connect() as conn:
        during = await repo.evse_states(conn, "CP", 1, T0, _at(30))
        from_first = await repo.evse_states(conn, "CP", 1, _at(-20), _at(-15))
        before_any = await repo.evse_states(conn, "CP", 1, _at(-30), _at(-25))
        elsewhere = await repo.evse_states(conn, "CP", 2, _at(-5), _at(10))
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
