"""Rows for the list pages beyond the chargers' (``inprocess.seed``): id tokens, users,
webhooks and their deliveries, and a transaction with samples, events and commands."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select

from chargegrid.domain import user_passwords
from chargegrid.domain.model import ENERGY_IMPORT
from chargegrid.storage import tables
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories.meter_series import POWER_IMPORT


async def seed_lists(db: Database, rows: int, *, now: datetime) -> tuple[int, int]:
    """``rows`` of each; the ids of the transaction that has samples, events and commands,
    and of the first webhook."""
    password_hash = user_passwords.hash_password("list-data-password")
    async with db.begin() as conn:
        pk = await conn.scalar(select(tables.transactions.c.id).order_by(tables.transactions.c.id))
        assert pk is not None, "seed() the chargers and their transactions first"
        await conn.execute(
            tables.id_tokens.insert(),
            [
                {
                    "id_token": f"T-{n:04d}",
                    "status": ("Accepted", "Blocked")[n % 2],
                    "group_id": f"G{n % 3}",
                    "expires_at": now + timedelta(days=n) if n % 2 else None,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(rows)
            ],
        )
        await conn.execute(
            tables.users.insert(),
            [
                {
                    "email": f"user{n}@example.com",
                    "password_hash": password_hash,
                    "role": ("viewer", "operator", "admin")[n % 3],
                    "disabled": n % 5 == 4,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(rows)
            ],
        )
        await conn.execute(
            tables.webhooks.insert(),
            [
                {
                    "url": f"https://hooks.example.com/{n}",
                    "secret": "s" * 32,
                    "event_types": ["transaction.ended", "charger.connected"],
                    "active": n % 4 != 3,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(rows)
            ],
        )
        webhook_ids = list(await conn.scalars(select(tables.webhooks.c.id)))
        await conn.execute(
            tables.webhook_deliveries.insert(),
            [
                {
                    "webhook_id": webhook_id,
                    "event_id": f"{webhook_id}-{n}",
                    "event_type": "transaction.ended",
                    "payload": json.dumps({"n": n}),
                    "state": ("delivered", "failed", "pending")[n % 3],
                    "attempts": 1,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for webhook_id in webhook_ids
                for n in range(rows)
            ],
        )
        await conn.execute(
            tables.meter_samples.insert(),
            [
                {
                    "charger_id": "CP-0000",
                    "transaction_pk": pk,
                    "evse_id": 1,
                    "sampled_at": now - timedelta(minutes=rows - n),
                    "measurand": measurand,
                    "unit": unit,
                    "value": value,
                }
                for n in range(rows)
                for measurand, unit, value in (
                    (ENERGY_IMPORT, "Wh", 1000.0 + 10 * n),
                    (POWER_IMPORT, "W", 7200.0),
                )
            ],
        )
        await conn.execute(
            tables.transaction_events.insert(),
            [
                {
                    "transaction_pk": pk,
                    "seq_no": n,
                    "event_type": "Started" if n == 0 else "Updated",
                    "occurred_at": now - timedelta(minutes=rows - n),
                    "received_at": now,
                }
                for n in range(rows)
            ],
        )
        await conn.execute(
            tables.commands.insert(),
            [
                {
                    "charger_id": "CP-0000",
                    "name": "remote-stop",
                    "params": {"transaction_id": pk},
                    "state": "rejected",
                    "transaction_pk": pk,
                    "created_at": now,
                    "expires_at": now,
                    "updated_at": now,
                }
                for _ in range(rows)
            ],
        )
    return int(pk), min(webhook_ids)
