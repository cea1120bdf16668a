"""A large network for the dashboard benchmark, written with bulk inserts.

Chargers at 100 locations with two connectors each; transactions spread over the last
year, newest last, the latest ones still active; id tokens in 50 groups; users; five
webhooks with a delivery history; a tariff, assigned to every charger, and a CDR for
each transaction that ended in the last 31 days (what the overview's revenue reads).
One completed and one active transaction get meter samples, events and commands (the
transaction page is timed on them).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Table, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain import user_passwords
from chargegrid.domain.model import ENERGY_IMPORT
from chargegrid.storage import tables
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories.meter_series import POWER_IMPORT
from chargegrid.tariffs import parse_tariff, tariff_json

BATCH = 5_000
TOKENS = 10_000
GROUPS = 50
USERS = 20
WEBHOOKS = 5
DELIVERIES_PER_WEBHOOK = 20_000  # with a million transactions; fewer with fewer
SAMPLES = 120  # readings of each measurand on the two sampled transactions
YEAR = timedelta(days=365)
TARIFF_ID = "BENCH-STANDARD"


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the timed pages look at."""

    chargers: int
    transactions: int
    completed_pk: int  # a finished transaction with samples, events and commands
    active_pk: int
    seconds: float


def charger_id(n: int) -> str:
    return f"CP-{n:05d}"


def token_id(n: int) -> str:
    return f"TOKEN-{n:05d}"


async def _insert(conn: AsyncConnection, table: Table, rows: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            await conn.execute(table.insert(), batch)
            batch = []
    if batch:
        await conn.execute(table.insert(), batch)


def _chargers(count: int, now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield {
            "id": charger_id(n),
            "location_id": f"L{n % 100:03d}",
            "ocpp_version": "1.6" if n % 2 else "2.0.1",
            "vendor": ("Alfen", "ABB", "Wallbox", "Kempower")[n % 4],
            "model": f"M{n % 7}",
            "serial_number": f"SN{n:08d}",
            "firmware_version": f"1.{n % 5}.0",
            "registration_status": "Accepted",
            "last_boot_at": now - timedelta(days=1),
            "last_heartbeat_at": now - timedelta(seconds=n % 300),
            "connected_at": now - timedelta(hours=1) if n % 10 else None,
            "created_at": now - YEAR,
            "updated_at": now,
        }


def _connectors(count: int, now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(count):
        for evse in (1, 2):
            yield {
                "charger_id": charger_id(n),
                "evse_id": evse,
                "connector_id": 1,
                "status": ("Available", "Charging", "Available", "Faulted")[(n + evse) % 4],
                "status_at": now - timedelta(minutes=n % 60),
                "updated_at": now,
            }


def _transactions(
    count: int, chargers: int, active: int, now: datetime
) -> Iterator[dict[str, Any]]:
    rng = random.Random(7)
    spacing = YEAR / max(count, 1)
    for n in range(count):
        started = now - YEAR + spacing * n
        running = n >= count - active
        minutes = rng.randint(15, 240)
        meter_start = float(rng.randint(0, 5_000_000))
        energy = None if running else float(rng.randint(1_000, 70_000))
        stopped = None if running else started + timedelta(minutes=minutes)
        yield {
            "charger_id": charger_id(n % chargers),
            "transaction_id": str(n),
            "evse_id": 1 + n // chargers % 2,
            "connector_id": 1,
            "id_token": token_id(rng.randrange(TOKENS)),
            "authorization_status": "Accepted",
            "status": "active" if running else "completed",
            "started_at": started,
            "stopped_at": stopped,
            "meter_start_wh": meter_start,
            "meter_stop_wh": None if energy is None else meter_start + energy,
            "energy_wh": energy,
            "stop_reason": None if running else ("Local", "EVDisconnected", "Remote")[n % 3],
            "created_at": started,
            "updated_at": stopped or started,
        }


def _tokens(now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(TOKENS):
        yield {
            "id_token": token_id(n),
            "type": "ISO14443",
            "status": "Blocked" if n % 20 == 3 else "Accepted",
            "expires_at": now + timedelta(days=n % 400) if n % 3 else None,
            "group_id": f"FLEET-{n % GROUPS:02d}",
            "created_at": now - YEAR,
            "updated_at": now,
        }


def _deliveries(per_webhook: int, now: datetime) -> Iterator[dict[str, Any]]:
    for webhook in range(1, WEBHOOKS + 1):
        for n in range(per_webhook):
            state = "failed" if n % 25 == 0 else "pending" if n % 100 == 1 else "delivered"
            at = now - timedelta(minutes=per_webhook - n)
            yield {
                "webhook_id": webhook,
                "event_id": f"{webhook}-{n}",
                "event_type": "transaction.ended",
                "payload": json.dumps({"id": f"{webhook}-{n}", "type": "transaction.ended"}),
                "state": state,
                "attempts": 8 if state == "failed" else 1,
                "next_attempt_at": at if state == "pending" else None,
                "last_status_code": 500 if state == "failed" else 200,
                "last_error": "HTTP 500" if state == "failed" else None,
                "created_at": at,
                "delivered_at": at if state == "delivered" else None,
                "updated_at": at,
            }


def _samples(pk: int, charger: str, started: datetime) -> Iterator[dict[str, Any]]:
    for n in range(SAMPLES):
        at = started + timedelta(minutes=n)
        common = {"charger_id": charger, "transaction_pk": pk, "evse_id": 1, "sampled_at": at}
        energy = 1_000_000.0 + 180.0 * n
        yield {**common, "measurand": ENERGY_IMPORT, "unit": "Wh", "value": energy}
        yield {**common, "measurand": POWER_IMPORT, "unit": "W", "value": 11_000.0}


def _events(pk: int, id_token: str, events: list[tuple[str, datetime]]) -> Iterator[dict[str, Any]]:
    for seq, (kind, at) in enumerate(events):
        yield {
            "transaction_pk": pk,
            "seq_no": seq,
            "event_type": kind,
            "occurred_at": at,
            "received_at": at,
            "id_token": id_token,
            "evse_id": 1,
        }


def _commands(pk: int, charger: str, now: datetime) -> Iterator[dict[str, Any]]:
    for name in ("remote-start", "remote-stop"):
        yield {
            "charger_id": charger,
            "name": name,
            "params": {},
            "state": "accepted",
            "transaction_pk": pk,
            "created_at": now,
            "expires_at": now,
            "updated_at": now,
        }


def _locations(now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(100):
        yield {
            "id": f"L{n:03d}",
            "name": f"Site {n}",
            "city": "Hamburg",
            "latitude": 53.5 + n / 1000,
            "longitude": 10.0 + n / 1000,
            "created_at": now,
        }


def _users(now: datetime) -> Iterator[dict[str, Any]]:
    password_hash = user_passwords.hash_password("benchmark-user-password")
    for n in range(USERS):
        yield {
            "email": f"user{n}@example.com",
            "password_hash": password_hash,
            "role": ("viewer", "operator", "admin")[n % 3],
            "created_at": now,
            "updated_at": now,
        }


def _webhooks(now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(WEBHOOKS):
        yield {
            "url": f"https://hooks.example.com/{n}",
            "secret": "s" * 32,
            "event_types": ["transaction.ended"],
            "created_at": now,
            "updated_at": now,
        }


async def _sampled(conn: AsyncConnection, status: str, now: datetime) -> int:
    pk = await conn.scalar(
        select(func.max(tables.transactions.c.id)).where(tables.transactions.c.status == status)
    )
    assert pk is not None, f"no {status} transaction to sample"
    row = (
        await conn.execute(select(tables.transactions).where(tables.transactions.c.id == pk))
    ).one()
    await _insert(conn, tables.meter_samples, _samples(pk, row.charger_id, row.started_at))
    events = [("Started", row.started_at)] + ([("Ended", row.stopped_at)] if row.stopped_at else [])
    await _insert(conn, tables.transaction_events, _events(pk, row.id_token, events))
    await _insert(conn, tables.commands, _commands(pk, row.charger_id, now))
    return int(pk)


def _tariff(now: datetime) -> dict[str, Any]:
    tariff = parse_tariff(
        {
            "country_code": "ZZ",
            "party_id": "CGR",
            "id": TARIFF_ID,
            "currency": "EUR",
            "elements": [
                {"price_components": [{"type": "ENERGY", "price": 0.3, "vat": 21, "step_size": 1}]}
            ],
            "last_updated": now.isoformat(),
        }
    )
    return {
        "tariff_id": TARIFF_ID,
        "country_code": "ZZ",
        "party_id": "CGR",
        "currency": "EUR",
        "document": tariff_json(tariff).decode(),
        "created_at": now,
        "updated_at": now,
    }


def _assignments(chargers: int, tariff_pk: int, now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(chargers):
        yield {
            "charger_id": charger_id(n),
            "evse_id": 0,
            "connector_id": 0,
            "position": 0,
            "tariff_pk": tariff_pk,
            "updated_at": now,
        }


async def _cdrs(conn: AsyncConnection, now: datetime, *, except_pk: int) -> None:
    """A CDR at 0.30 EUR/kWh (+21% VAT) for each transaction that ended in the last 31
    days, written by the database itself; the transaction page's own is left out (its
    document would have to be a whole CDR)."""
    t = tables.transactions
    kwh = t.c.energy_wh / 1000
    columns = {
        "cdr_id": cast(t.c.id, String),
        "transaction_pk": t.c.id,
        "issue": literal(1),
        "credit": literal(False),
        "charger_id": t.c.charger_id,
        "evse_id": t.c.evse_id,
        "connector_id": t.c.connector_id,
        "session_id": cast(t.c.id, String),
        "id_token": t.c.id_token,
        "start_date_time": t.c.started_at,
        "end_date_time": t.c.stopped_at,
        "currency": literal("EUR"),
        "total_cost_excl_vat": kwh * 0.3,
        "total_cost_incl_vat": kwh * 0.363,
        "total_energy": kwh,
        "total_time": literal(1),
        "total_parking_time": literal(0),
        "tariff_id": literal(TARIFF_ID),
        "document": literal("{}"),
        "created_at": t.c.stopped_at,
    }
    chosen = select(*columns.values()).where(
        (t.c.status == "completed")
        & (t.c.stopped_at >= now - timedelta(days=31))
        & (t.c.id != except_pk)
    )
    await conn.execute(tables.cdrs.insert().from_select(list(columns), chosen))


async def seeded(db: Database) -> Seeded | None:
    """What an earlier run seeded in this database, if it did."""
    async with db.connect() as conn:
        transactions = await conn.scalar(select(func.count()).select_from(tables.transactions))
        chargers = await conn.scalar(select(func.count()).select_from(tables.chargers))
        sampled = (
            await conn.execute(
                select(
                    tables.transactions.c.status, func.max(tables.meter_samples.c.transaction_pk)
                )
                .join(
                    tables.meter_samples,
                    tables.meter_samples.c.transaction_pk == tables.transactions.c.id,
                )
                .group_by(tables.transactions.c.status)
            )
        ).all()
    found = {status: pk for status, pk in sampled}
    if not transactions or set(found) != {"active", "completed"}:
        return None
    return Seeded(chargers or 0, transactions, found["completed"], found["active"], 0.0)


async def seed(
    db: Database, *, chargers: int, transactions: int, now: datetime, log: Callable[[str], None]
) -> Seeded:
    """Fill an empty, migrated database."""
    started = time.perf_counter()
    active = min(transactions // 100, chargers)
    async with db.begin() as conn:
        await _insert(conn, tables.locations, _locations(now))
        await _insert(conn, tables.chargers, _chargers(chargers, now))
        await _insert(conn, tables.connectors, _connectors(chargers, now))
        await _insert(conn, tables.id_tokens, _tokens(now))
        await _insert(conn, tables.users, _users(now))
        await _insert(conn, tables.webhooks, _webhooks(now))
        per_webhook = max(100, DELIVERIES_PER_WEBHOOK * transactions // 1_000_000)
        await _insert(conn, tables.webhook_deliveries, _deliveries(per_webhook, now))
        await _insert(conn, tables.tariffs, iter([_tariff(now)]))
        tariff_pk = await conn.scalar(select(tables.tariffs.c.id))
        assert tariff_pk is not None
        await _insert(conn, tables.tariff_assignments, _assignments(chargers, tariff_pk, now))
    log(f"seeded chargers, tokens, users and webhooks in {time.perf_counter() - started:.1f} s")
    rows = _transactions(transactions, chargers, active, now)
    done = 0
    while done < transactions:
        async with db.begin() as conn:  # a commit every 100,000 rows
            chunk = [row for _, row in zip(range(100_000), rows, strict=False)]
            await _insert(conn, tables.transactions, iter(chunk))
        done += len(chunk)
        log(f"{done:,} transactions ({time.perf_counter() - started:.0f} s)")
    async with db.begin() as conn:
        completed_pk = await _sampled(conn, "completed", now)
        active_pk = await _sampled(conn, "active", now)
        await _cdrs(conn, now, except_pk=completed_pk)
    log(f"seeded CDRs ({time.perf_counter() - started:.0f} s)")
    return Seeded(chargers, transactions, completed_pk, active_pk, time.perf_counter() - started)
