"""The lookups every start, stop and Authorize makes in the transactions read only the
rows they are after, even with a plan made while the table was empty.

PostgreSQL keeps a prepared statement's generic plan until the table is analyzed again,
however much it grows meanwhile. A fresh database's first statements are planned with
no statistics at all; an index whose first column is the status then did as well as any
other, and a token's lookup read every active transaction of the network.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.services.chargers import register
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import group_reads, id_tokens, network
from chargegrid.storage.repositories import transactions as repo
from chargegrid.storage.tables import chargers, transactions
from chargegrid.storage.tables import id_tokens as id_tokens_table

pytestmark = pytest.mark.postgresql

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
OTHERS = 2000  # active transactions of other chargers, with another token
HISTORY = 2000  # finished transactions of a charger's EVSE


async def _look_up(conn: AsyncConnection) -> tuple[bool, int, int, int]:
    async with conn.begin():
        _, in_use = await id_tokens.get_with_use(conn, "TAG-1", exclude=1)
        async with group_reads.reading_ahead(conn, [("CP-1", "T-1")], ["TAG-1"]):
            _, read_ahead_in_use = await id_tokens.get_with_use(conn, "TAG-1")
        async with group_reads.reading_ahead(conn, [], ["TAG-1"]):  # tokens alone
            _, token_read_ahead_in_use = await id_tokens.get_with_use(conn, "TAG-1")
        in_use = in_use or read_ahead_in_use or token_read_ahead_in_use
        on_evse = await repo.active_on_evse_except(conn, "CP-1", 1, pk=1)
        opened = await repo.on_evse_open_or_started_at(conn, "CP-1", 1, NOW)
        read = await conn.scalar(
            text(
                "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
                " WHERE relname = 'transactions'"
            )
        )
        active = await network.active_transactions(conn)
    return in_use, len(on_evse) + len(opened), int(read or 0), active


async def test_a_token_or_an_evse_reads_its_own_rows_with_a_plan_made_when_empty(
    fresh: Database,
) -> None:
    async with fresh.connect() as conn:
        # Every statement's generic plan, made now: the table is empty, never analyzed.
        await conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        await conn.commit()  # the setting stays with the session
        assert await _look_up(conn) == (False, 0, 0, 0)
        async with fresh.begin() as other:
            await other.execute(
                insert(chargers),
                [
                    {
                        "id": charger_id,
                        "security_profile": 1,
                        "registration_status": "Accepted",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for charger_id in ("CP-1", "CP-2")
                ],
            )
            await other.execute(
                insert(transactions),
                [
                    {
                        "charger_id": "CP-2",
                        "transaction_id": f"T-{i}",
                        "evse_id": 1 + i,
                        "id_token": "TAG-2",
                        "status": "active",
                        "started_at": NOW,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(OTHERS)
                ],
            )
            await other.execute(
                insert(id_tokens_table).values(
                    id_token="TAG-1", status="Accepted", created_at=NOW, updated_at=NOW
                )
            )
        in_use, found, read, active = await _look_up(conn)
    assert (in_use, found, active) == (False, 0, OTHERS)
    assert read == 0  # not one of CP-2's rows


async def test_a_start_reads_none_of_its_evses_finished_transactions_with_a_plan_made_when_empty(
    fresh: Database,
) -> None:
    # A start compares itself with its EVSE's open transactions and a repeat of itself:
    # not with the EVSE's history, however long.
    async with fresh.connect() as conn:
        await conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        await conn.commit()
        async with conn.begin():
            assert await repo.on_evse_open_or_started_at(conn, "CP-1", 1, NOW) == []
        async with fresh.begin() as other:
            await register(other, charger_id="CP-1", password=None, security_profile=0, now=NOW)
            await other.execute(
                insert(transactions),
                [
                    {
                        "charger_id": "CP-1",
                        "transaction_id": f"T-{i}",
                        "evse_id": 1,
                        "id_token": "TAG-1",
                        "status": "completed",
                        "started_at": NOW - timedelta(hours=i),
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(1, HISTORY + 1)
                ]
                + [
                    {
                        "charger_id": "CP-1",
                        "transaction_id": name,
                        "evse_id": 1,
                        "id_token": "TAG-1",
                        "status": status,
                        "started_at": started_at,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for name, status, started_at in (
                        ("open", "active", NOW - timedelta(minutes=5)),
                        ("repeat", "completed", NOW),
                    )
                ],
            )
        async with conn.begin():
            found = await repo.on_evse_open_or_started_at(conn, "CP-1", 1, NOW)
            read = await conn.scalar(
                text(
                    "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0)"
                    " FROM pg_stat_xact_user_tables WHERE relname = 'transactions'"
                )
            )
    assert sorted(str(t.transaction_id) for t in found) == ["open", "repeat"]
    assert read == 2  # those two, of the EVSE's 2,002
