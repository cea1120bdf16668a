"""A start's link to the remote start it answers reads only its charger's commands for
its id token, however many others the charger has had, even with a plan made while the
table was empty (see ``test_transaction_plans`` for why that matters)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.services.chargers import register
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories.commands import link_remote_start
from chargegrid.storage.tables import commands, transactions

pytestmark = pytest.mark.postgresql

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
OTHERS = 2000  # the charger's accepted remote starts for other tokens


def _command(token: str, sent_ago: timedelta) -> dict[str, object]:
    return {
        "charger_id": "CP-1",
        "name": "remote-start",
        "params": {},
        "state": "accepted",
        "id_token": token,
        "created_at": NOW - sent_ago,
        "expires_at": NOW,
        "sent_at": NOW - sent_ago,
        "updated_at": NOW,
    }


async def _link(conn: AsyncConnection, transaction_pk: int) -> int:
    """Link a transaction to the remote start it answers; the command rows it read."""
    async with conn.begin():
        await link_remote_start(
            conn,
            transaction_pk=transaction_pk,
            charger_id="CP-1",
            name="remote-start",
            command_id=None,
            id_token="TAG-1",
            evse_id=1,
            sent_since=NOW - timedelta(minutes=1),
            now=NOW,
        )
        read = await conn.scalar(
            text(
                "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
                " WHERE relname = 'commands'"
            )
        )
    return int(read or 0)


async def test_a_link_reads_the_commands_of_its_token_with_a_plan_made_when_empty(
    fresh: Database,
) -> None:
    async with fresh.begin() as setup:
        await register(setup, charger_id="CP-1", password=None, security_profile=0, now=NOW)
        row = {"charger_id": "CP-1", "status": "active", "created_at": NOW, "updated_at": NOW}
        first, second = [
            int(await setup.scalar(insert(transactions).values(row).returning(transactions.c.id)))
            for _ in range(2)
        ]
    async with fresh.connect() as conn:
        # The link's generic plan, made now: the table is empty, never analyzed.
        await conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        await conn.commit()  # the setting stays with the session
        assert await _link(conn, first) == 0
        async with fresh.begin() as other:
            # Yesterday's starts for other tokens, the one answered, and a later one
            # for another token.
            await other.execute(
                insert(commands),
                [_command(f"TAG-{2 + i}", timedelta(days=1)) for i in range(OTHERS)],
            )
            answered = await other.scalar(
                insert(commands)
                .values(_command("TAG-1", timedelta(seconds=10)))
                .returning(commands.c.id)
            )
            await other.execute(insert(commands).values(_command("TAG-0", timedelta(seconds=5))))
        read = await _link(conn, second)
        linked = await conn.scalar(select(commands.c.id).where(commands.c.transaction_pk == second))
    assert linked == answered
    assert read <= 3  # the command answered (found, then updated), not the charger's others
