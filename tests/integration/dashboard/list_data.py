"""Rows for the list pages beyond the chargers' (``inprocess.seed``): id tokens, users,
webhooks and their deliveries, tariffs and their connectors, and a transaction with
samples, events and commands."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select

from chargegrid.domain import user_passwords
from chargegrid.domain.model import ENERGY_IMPORT
from chargegrid.storage import tables
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories.meter_series import POWER_IMPORT
from chargegrid.tariffs import parse_tariff, tariff_json


def tariff_document(n: int) -> str:
    """A tariff with a time-restricted and a default element."""
    tariff = parse_tariff(
        {
            "country_code": "ZZ",
            "party_id": "CGR",
            "id": f"TARIFF-{n:04d}",
            "currency": "EUR",
            "tariff_alt_text": [{"language": "en", "text": f"Tariff number {n}"}],
            "elements": [
                {
                    "price_components": [
                        {"type": "ENERGY", "price": 0.4, "vat": 21, "step_size": 1}
                    ],
                    "restrictions": {"start_time": "07:00", "end_time": "20:00"},
                },
                {"price_components": [{"type": "ENERGY", "price": 0.3, "vat": 21, "step_size": 1}]},
            ],
        }
    )
    return tariff_json(tariff).decode()


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
        await conn.execute(
            tables.tariffs.insert(),
            [
                {
                    "tariff_id": f"TARIFF-{n:04d}",
                    "country_code": "ZZ",
                    "party_id": "CGR",
                    "currency": "EUR",
                    "document": tariff_document(n),
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(rows)
            ],
        )
        tariff_pks = list(await conn.scalars(select(tables.tariffs.c.id)))
        await conn.execute(  # every tariff on a connector of CP-0000; the first on all
            tables.tariff_assignments.insert(),
            [
                {
                    "charger_id": "CP-0000",
                    "evse_id": 1,
                    "connector_id": 1,
                    "position": position,
                    "tariff_pk": tariff_pk,
                    "updated_at": now,
                }
                for position, tariff_pk in enumerate(tariff_pks)
            ]
            + [
                {
                    "charger_id": "CP-0000",
                    "evse_id": evse,
                    "connector_id": 1,
                    "position": 0,
                    "tariff_pk": tariff_pks[0],
                    "updated_at": now,
                }
                for evse in range(2, rows + 2)
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
