"""Authorization on both engines: the token's state, and its use by active transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargegrid.domain.model import AuthorizationStatus, TransactionStatus
from chargegrid.domain.services.authorization import authorize
from chargegrid.storage.engine import Database
from chargegrid.storage.tables import chargers, id_tokens, transactions

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _seed(db: Database) -> dict[str, int]:
    """Tokens in each state; GOOD held by an active transaction, DONE by a completed one."""
    tokens: list[dict[str, Any]] = [
        {"id_token": "GOOD", "status": "Accepted", "type": "ISO14443"},
        {"id_token": "FREE", "status": "Accepted", "type": None},
        {"id_token": "DONE", "status": "Accepted", "type": None},
        {"id_token": "BLOCKED", "status": "Blocked", "type": None},
        {"id_token": "OLD", "status": "Accepted", "type": None, "expires_at": NOW},
    ]
    pks: dict[str, int] = {}
    async with db.begin() as conn:
        await conn.execute(chargers.insert(), {"id": "CP1", "created_at": NOW, "updated_at": NOW})
        for row in tokens:
            await conn.execute(
                id_tokens.insert(),
                {"expires_at": None, **row, "created_at": NOW, "updated_at": NOW},
            )
        for name, token, status in (
            ("T1", "GOOD", TransactionStatus.ACTIVE),
            ("T2", "DONE", TransactionStatus.COMPLETED),
        ):
            pks[name] = (
                await conn.execute(
                    transactions.insert().returning(transactions.c.id),
                    {
                        "charger_id": "CP1",
                        "transaction_id": name,
                        "id_token": token,
                        "status": status.value,
                        "created_at": NOW,
                        "updated_at": NOW,
                    },
                )
            ).scalar_one()
    return pks


@pytest.mark.parametrize(
    ("token", "options", "expected"),
    [
        ("NOBODY", {}, AuthorizationStatus.UNKNOWN),
        ("FREE", {}, AuthorizationStatus.ACCEPTED),
        ("DONE", {}, AuthorizationStatus.ACCEPTED),
        ("GOOD", {}, AuthorizationStatus.CONCURRENT_TX),
        ("GOOD", {"allow_concurrent": True}, AuthorizationStatus.ACCEPTED),
        ("GOOD", {"token_type": "ISO14443"}, AuthorizationStatus.CONCURRENT_TX),
        ("GOOD", {"token_type": "Central"}, AuthorizationStatus.UNKNOWN),
        ("BLOCKED", {}, AuthorizationStatus.BLOCKED),
        ("OLD", {}, AuthorizationStatus.EXPIRED),
    ],
)
async def test_status_of_a_token(
    db: Database, token: str, options: dict[str, Any], expected: AuthorizationStatus
) -> None:
    await _seed(db)
    async with db.begin() as conn:
        assert (await authorize(conn, token, NOW, **options)).status is expected


async def test_a_transaction_never_counts_against_itself(db: Database) -> None:
    pks = await _seed(db)
    async with db.begin() as conn:
        own = await authorize(conn, "GOOD", NOW, transaction_pk=pks["T1"])
        other = await authorize(conn, "GOOD", NOW, transaction_pk=pks["T2"])
        later = await authorize(conn, "OLD", NOW - timedelta(seconds=1), transaction_pk=pks["T1"])
    assert own.status is AuthorizationStatus.ACCEPTED
    assert other.status is AuthorizationStatus.CONCURRENT_TX
    assert later.status is AuthorizationStatus.ACCEPTED
