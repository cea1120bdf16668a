"""A new transaction's link to the remote start it answers: one write, on both engines,
made at once or with its commit group's other writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.services.chargers import register
from chargegrid.storage.engine import Database
from chargegrid.storage.group_scope import group_scope
from chargegrid.storage.repositories.commands import link_remote_start
from chargegrid.storage.tables import commands, transactions

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=60)

# Commands, in the order they are made (their ids ascend): name, charger, state, id
# token, EVSE and how long ago they were sent.
COMMANDS = {
    "any-evse": ("remote-start", "CP-1", "accepted", "TAG", None, 20),
    "evse-1": ("remote-start", "CP-1", "sent", "TAG", 1, 10),
    "too-old": ("remote-start", "CP-1", "sent", "TAG", 1, 600),
    "not-sent": ("remote-start", "CP-1", "queued", "TAG", 1, None),
    "other-token": ("remote-start", "CP-1", "sent", "OTHER", 1, 5),
    "other-charger": ("remote-start", "CP-2", "sent", "TAG", 1, 5),
    "not-a-start": ("reset", "CP-1", "sent", "TAG", 1, 5),
    "evse-2": ("remote-start", "CP-1", "sent", "TAG", 2, 5),
}


async def _setup(conn: AsyncConnection) -> tuple[dict[str, int], list[int]]:
    """The commands' ids by name, and six transactions of CP-1."""
    for charger_id in ("CP-1", "CP-2"):
        await register(conn, charger_id=charger_id, password=None, security_profile=0, now=NOW)
    ids = {}
    for key, (name, charger_id, state, token, evse_id, ago) in COMMANDS.items():
        sent_at = None if ago is None else NOW - timedelta(seconds=ago)
        result = await conn.execute(
            insert(commands)
            .values(
                charger_id=charger_id,
                name=name,
                params={},
                state=state,
                id_token=token,
                evse_id=evse_id,
                created_at=NOW,
                expires_at=NOW,
                sent_at=sent_at,
                updated_at=NOW,
            )
            .returning(commands.c.id)
        )
        ids[key] = int(result.scalar_one())
    pks = []
    for _ in range(6):
        row = {"charger_id": "CP-1", "status": "active", "created_at": NOW, "updated_at": NOW}
        result = await conn.execute(insert(transactions).values(row).returning(transactions.c.id))
        pks.append(int(result.scalar_one()))
    return ids, pks


async def _link(
    conn: AsyncConnection,
    transaction_pk: int,
    *,
    command_id: int | None = None,
    charger_id: str = "CP-1",
    evse_id: int | None = 1,
) -> None:
    await link_remote_start(
        conn,
        transaction_pk=transaction_pk,
        charger_id=charger_id,
        name="remote-start",
        command_id=command_id,
        id_token="TAG",
        evse_id=evse_id,
        sent_since=NOW - WINDOW,
        now=NOW + timedelta(seconds=1),
    )


@pytest.mark.parametrize("grouped", [False, True], ids=["at-once", "with-its-group"])
async def test_a_transaction_is_linked_to_the_latest_remote_start_it_answers(
    db: Database, grouped: bool
) -> None:
    async with db.begin() as conn:
        ids, pks = await _setup(conn)
    # One link per group (a row gets one blind write per group): each in its own.
    links: list[tuple[int, dict[str, Any]]] = [
        # The latest of the charger's unlinked starts for the token, sent within the
        # window, on the transaction's EVSE or on any; then the next latest.
        (pks[0], {}),
        (pks[1], {}),
        # None is left: the rest is too old, not sent, another token's, another
        # charger's, not a start, or another EVSE's.
        (pks[2], {}),
        # A transaction on no EVSE known takes one on any EVSE.
        (pks[3], {"evse_id": None}),
        # A command named is linked only to a transaction of its own charger.
        (pks[4], {"command_id": ids["other-charger"]}),
        (pks[5], {"command_id": ids["too-old"]}),
    ]
    for transaction_pk, named in links:
        async with db.begin() as conn:
            if grouped:
                async with group_scope(conn):
                    await _link(conn, transaction_pk, **named)
            else:
                await _link(conn, transaction_pk, **named)
    async with db.connect() as conn:
        rows = await conn.execute(select(commands.c.id, commands.c.transaction_pk))
        linked = {command_id: pk for command_id, pk in rows if pk is not None}
    assert linked == {
        ids["evse-2"]: pks[3],
        ids["evse-1"]: pks[0],
        ids["any-evse"]: pks[1],
        ids["too-old"]: pks[5],
    }
