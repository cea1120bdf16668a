"""What a CDR is made from besides its transaction, read in one statement, on both engines."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import cdrs as repo
from chargegrid.storage.repositories.tariffs import FrozenTariff
from chargegrid.storage.tables import (
    chargers,
    commands,
    locations,
    transaction_tariffs,
    transactions,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FROZEN = FrozenTariff(
    transaction_pk=0,  # set per transaction
    tariff_id="TARIFF-1",
    document='{"id": "TARIFF-1"}',
    time_zone="Europe/Amsterdam",
    source="connector",
    frozen_at=T0,
    notified_cost=Decimal("1.2500"),
    notified_at=T0,
)


async def _transaction(conn: AsyncConnection, charger_id: str) -> int:
    row = {"charger_id": charger_id, "status": "completed", "created_at": T0, "updated_at": T0}
    result = await conn.execute(insert(transactions).values(row).returning(transactions.c.id))
    return int(result.scalar_one())


def _command(charger_id: str, transaction_pk: int, name: str) -> dict[str, object]:
    return {
        "charger_id": charger_id,
        "name": name,
        "params": {},
        "state": "answered",
        "transaction_pk": transaction_pk,
        "created_at": T0,
        "expires_at": T0,
        "updated_at": T0,
    }


async def test_the_frozen_tariff_location_meter_and_remote_start_in_one_read(
    db: Database,
) -> None:
    async with db.begin() as conn:
        await conn.execute(insert(locations).values(id="LOC-1", name="Depot", created_at=T0))
        for charger_id, location_id, meter in (("CP-1", "LOC-1", "M-77"), ("CP-2", None, None)):
            await conn.execute(
                insert(chargers).values(
                    id=charger_id,
                    location_id=location_id,
                    meter_serial_number=meter,
                    created_at=T0,
                    updated_at=T0,
                )
            )
        full = await _transaction(conn, "CP-1")
        bare = await _transaction(conn, "CP-2")
        other_command = await _transaction(conn, "CP-2")
        frozen = asdict(FROZEN)
        await conn.execute(insert(transaction_tariffs).values({**frozen, "transaction_pk": full}))
        await conn.execute(insert(commands).values(_command("CP-1", full, "remote-start")))
        await conn.execute(insert(commands).values(_command("CP-2", other_command, "unlock")))
    async with db.connect() as conn:
        of_full = await repo.sources(conn, full, "CP-1", "remote-start")
        of_bare = await repo.sources(conn, bare, "CP-2", "remote-start")
        of_other = await repo.sources(conn, other_command, "CP-2", "remote-start")
        of_gone = await repo.sources(conn, full, "CP-GONE", "remote-start")
    expected_frozen = FrozenTariff(**{**frozen, "transaction_pk": full})
    assert of_full == repo.CdrSources(expected_frozen, "LOC-1", "M-77", commanded=True)
    assert of_bare == repo.CdrSources(None, None, None, commanded=False)
    assert of_other == repo.CdrSources(None, None, None, commanded=False)  # not a remote start
    assert of_gone == repo.CdrSources(None, None, None, commanded=False)
