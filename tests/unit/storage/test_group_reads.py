"""Transactions and id tokens read ahead for a group of messages: one statement, each
taken once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update

from chargegrid.domain.model import TransactionEventKind
from chargegrid.domain.transaction_state import EventFacts
from chargegrid.storage.direct import padded
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import transactions as repo
from chargegrid.storage.repositories.event_recording import EventRecording, record_event
from chargegrid.storage.repositories.group_reads import MAX_READ_AHEAD, reading_ahead
from chargegrid.storage.repositories.id_tokens import get_with_use
from chargegrid.storage.repositories.transaction_reads import get_with_decisive_events
from chargegrid.storage.tables import chargers, id_tokens, transaction_events, transactions

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


async def _charger_with_transactions(db: Database, charger_id: str, count: int) -> None:
    """``count`` transactions T-0... of the charger, T-i with i decisive events."""
    async with db.begin() as conn:
        await conn.execute(
            insert(chargers).values(
                id=charger_id,
                security_profile=1,
                registration_status="Accepted",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        for i in range(count):
            pk = (
                await repo.insert(
                    conn,
                    {
                        "charger_id": charger_id,
                        "transaction_id": f"T-{i}",
                        "status": "completed" if i == 2 else "active",
                        "evse_id": 1,
                        "started_at": NOW,
                        "meter_start_wh": 10.5,
                        "offline": i % 2 == 1,
                        "created_at": NOW,
                        "updated_at": NOW,
                    },
                )
            ).id
            for seq_no in range(i):
                facts = EventFacts(
                    kind=list(TransactionEventKind)[seq_no % 3],
                    occurred_at=NOW,
                    arrival=0,
                    seq_no=seq_no,
                    id_token="TAG",
                    energy_last_at=NOW,
                    energy_last_wh=seq_no + 0.25,
                    offline=seq_no % 2 == 0,
                    received_at=NOW,
                )
                point = repo.MeterPoint(charger_id, 1, 1)
                await record_event(conn, EventRecording(pk, facts, True, [], point, []))


async def test_what_was_read_ahead_is_taken_once_without_the_database(db: Database) -> None:
    await _charger_with_transactions(db, "CP-1", 3)
    await _charger_with_transactions(db, "CP-2", 2)
    keys = [("CP-1", "T-2"), ("CP-2", "T-1"), ("CP-1", "T-0"), ("CP-2", "NONE"), ("CP-1", "T-2")]
    async with db.connect() as conn:
        alone = {key: await get_with_decisive_events(conn, *key) for key in keys}
    assert [len(found[1]) for found in map(alone.get, keys[:3]) if found] == [2, 1, 0]
    assert alone[("CP-2", "NONE")] is None
    async with db.connect() as conn:  # as the readers of one row each build them
        for key, found in alone.items():
            if found is not None:
                transaction = await repo.get_by_charger_id(conn, *key)
                assert transaction is not None
                assert found == (transaction, await repo.decisive_events(conn, transaction.id))
    assert {found[0].offline for found in alone.values() if found} == {False, True}
    assert {e.offline for found in alone.values() if found for e in found[1]} == {False, True}
    async with db.begin() as conn:
        async with reading_ahead(conn, keys):
            # Gone from the database: what is read ahead is served from memory, once.
            await conn.execute(delete(transaction_events))
            await conn.execute(delete(transactions))
            for key in dict.fromkeys(keys):
                assert await get_with_decisive_events(conn, *key) == alone[key]
                assert await get_with_decisive_events(conn, *key) is None
        assert await get_with_decisive_events(conn, "CP-1", "T-2") is None
        assert not any("read_ahead" in str(name) for name in conn.info)


async def test_more_transactions_than_one_statement_reads_are_read_in_parts(
    db: Database,
) -> None:
    count = MAX_READ_AHEAD + 6
    await _charger_with_transactions(db, "CP-1", count)
    keys = [("CP-1", f"T-{i}") for i in range(count)]
    async with db.begin() as conn, reading_ahead(conn, keys):
        await conn.execute(delete(transaction_events))
        await conn.execute(delete(transactions))
        found = [await get_with_decisive_events(conn, *key) for key in keys]
    assert [(f[0].transaction_id, len(f[1])) for f in found if f is not None] == [
        (f"T-{i}", i) for i in range(count)
    ]


# Tokens, and the transactions of CP-1 (T-0 active, T-1 active, T-2 completed, T-3
# active) that hold them: ONE is held once, TWO twice, DONE by an ended one only.
HOLDERS = {"T-0": "ONE", "T-1": "TWO", "T-2": "DONE", "T-3": "TWO"}
TOKENS = ["ONE", "TWO", "DONE", "FREE", "NOBODY"]


async def _tokens_held(db: Database) -> dict[str, int]:
    """The tokens of ``TOKENS`` but NOBODY, held as ``HOLDERS`` says; the transactions'
    primary keys by transaction id."""
    await _charger_with_transactions(db, "CP-1", 4)
    async with db.begin() as conn:
        for token in TOKENS[:-1]:
            await conn.execute(
                insert(id_tokens).values(
                    id_token=token,
                    status="Blocked" if token == "DONE" else "Accepted",
                    type="ISO14443" if token == "FREE" else None,
                    expires_at=NOW if token == "ONE" else None,
                    group_id="G" if token == "TWO" else None,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        for transaction_id, token in HOLDERS.items():
            await conn.execute(
                update(transactions)
                .where(transactions.c.transaction_id == transaction_id)
                .values(id_token=token)
            )
        rows = await conn.execute(select(transactions.c.transaction_id, transactions.c.id))
        return {name: pk for name, pk in rows}


async def test_id_tokens_read_ahead_with_transactions_are_taken_once(db: Database) -> None:
    pks = await _tokens_held(db)
    excluded = (None, pks["T-0"], pks["T-1"])
    asks = [(token, exclude) for token in TOKENS for exclude in excluded]
    async with db.connect() as conn:
        alone = {ask: await get_with_use(conn, ask[0], exclude=ask[1]) for ask in asks}
    in_use = {ask for ask, (_, used) in alone.items() if used}
    assert in_use == {("ONE", None), ("ONE", pks["T-1"]), *(("TWO", pk) for pk in excluded)}
    assert alone[("NOBODY", None)] == (None, False)
    for (token, exclude), expected in alone.items():
        for keys in ([("CP-1", "T-1")], []):
            async with db.connect() as conn:
                async with reading_ahead(conn, keys, TOKENS):
                    # Gone from the database: what is read ahead is served from memory, once.
                    await conn.execute(delete(id_tokens))
                    await conn.execute(delete(transaction_events))
                    await conn.execute(delete(transactions))
                    assert await get_with_use(conn, token, exclude=exclude) == expected
                    assert await get_with_use(conn, token, exclude=exclude) == (None, False)
                    if keys:
                        found = await get_with_decisive_events(conn, *keys[0])
                        assert found is not None
                        assert found[0].id == pks["T-1"]
                assert not any("read_ahead" in str(name) for name in conn.info)
                await conn.rollback()


async def test_more_id_tokens_than_one_statement_reads_are_read_in_parts(db: Database) -> None:
    await _charger_with_transactions(db, "CP-1", 2)
    tokens = [f"TOKEN-{i}" for i in range(MAX_READ_AHEAD + 6)]
    async with db.begin() as conn:
        await conn.execute(
            insert(id_tokens),
            [
                {"id_token": t, "status": "Accepted", "created_at": NOW, "updated_at": NOW}
                for t in tokens
            ],
        )
    async with db.begin() as conn, reading_ahead(conn, [("CP-1", "T-1")], [*tokens, "NONE"]):
        await conn.execute(delete(id_tokens))
        await conn.execute(delete(transaction_events))
        await conn.execute(delete(transactions))
        found = [await get_with_use(conn, token) for token in [*tokens, "NONE"]]
        transaction = await get_with_decisive_events(conn, "CP-1", "T-1")
    assert [(t.id_token if t else None, used) for t, used in found] == [
        *((token, False) for token in tokens),
        (None, False),
    ]
    assert transaction is not None
    assert len(transaction[1]) == 1


def test_keys_are_padded_to_a_power_of_two_with_the_last() -> None:
    assert padded([1]) == [1]
    assert padded([1, 2, 3]) == [1, 2, 3, 3]
    assert padded(list(range(5))) == [0, 1, 2, 3, 4, 4, 4, 4]
    assert len(padded(list(range(64)))) == 64
    assert {len(padded(list(range(n)))) for n in range(1, 65)} == {1, 2, 4, 8, 16, 32, 64}
