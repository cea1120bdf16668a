"""The real application in this process (for counting its SQL statements), and data to
fill its database with quickly."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.engine import Connection

from chargegrid.api.app import create_app
from chargegrid.bus.commands import LocalCommandBus
from chargegrid.config import Settings
from chargegrid.domain.clock import SystemClock
from chargegrid.domain.services import users
from chargegrid.gateway.handlers.commands import VersionCatalog
from chargegrid.gateway.server import GatewayServer
from chargegrid.metrics import Metrics
from chargegrid.platform import Platform
from chargegrid.storage import tables
from chargegrid.storage.engine import Database
from tests.integration.dashboard.client import PASSWORD, sign_in


def application(db: Database, **settings: object) -> FastAPI:
    """The HTTP application as ``chargegrid serve`` builds it (its gateway not listening)."""
    config = Settings(database_url=db.url, **settings)  # type: ignore[arg-type]
    clock = SystemClock()
    bus = LocalCommandBus()
    metrics = Metrics()
    platform = Platform(
        config,
        clock,
        db,
        metrics,
        presence=GatewayServer(db, config, clock, metrics, bus),
        commands=bus,
        catalog=VersionCatalog(config),
    )
    return create_app(platform)


@contextlib.asynccontextmanager
async def signed_in_client(
    app: FastAPI, db: Database, role: str = "operator"
) -> AsyncIterator[httpx.AsyncClient]:
    email = f"{role}-signed-in@example.com"
    async with db.begin() as conn:
        await users.create(conn, email=email, password=PASSWORD, role=role, now=SystemClock().now())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard.test") as client:
        await sign_in(client, email)
        yield client


class StatementCounter:
    """Counts the SQL statements an engine runs while it is active."""

    def __init__(self, db: Database) -> None:
        self._engine = db.engine.sync_engine
        self.count = 0
        self.statements: list[str] = []

    def _count(self, conn: Connection, cursor: object, statement: str, *args: object) -> None:
        self.count += 1
        self.statements.append(statement)

    @contextlib.contextmanager
    def counting(self) -> Iterator[StatementCounter]:
        self.count = 0
        self.statements = []
        event.listen(self._engine, "before_cursor_execute", self._count)
        try:
            yield self
        finally:
            event.remove(self._engine, "before_cursor_execute", self._count)


async def seed(db: Database, chargers: int, *, per_charger: int, now: datetime) -> list[str]:
    """``chargers`` chargers at one location, each with ``per_charger`` connectors,
    transactions, security events, messages and configuration keys; their ids."""
    ids = [f"CP-{n:04d}" for n in range(chargers)]
    async with db.begin() as conn:
        await conn.execute(
            tables.locations.insert(),
            [{"id": "L1", "name": "Depot", "latitude": 52.5, "longitude": 13.4, "created_at": now}],
        )
        await conn.execute(
            tables.chargers.insert(),
            [
                {
                    "id": charger_id,
                    "location_id": "L1",
                    "ocpp_version": "1.6",
                    "vendor": "V",
                    "model": "M",
                    "registration_status": "Rejected" if n % 7 == 3 else "Accepted",
                    "last_boot_at": now,
                    "last_heartbeat_at": now,
                    "connected_at": now - timedelta(minutes=1),
                    "created_at": now,
                    "updated_at": now,
                }
                for n, charger_id in enumerate(ids)
            ],
        )
        many = [(charger_id, k) for charger_id in ids for k in range(1, per_charger + 1)]
        await conn.execute(
            tables.connectors.insert(),
            [
                {
                    "charger_id": charger_id,
                    "evse_id": k,
                    "connector_id": 1,
                    "status": ("Available", "Charging", "Faulted")[k % 3],
                    "status_at": now,
                    "updated_at": now,
                }
                for charger_id, k in many
            ],
        )
        await conn.execute(
            tables.transactions.insert(),
            [
                {
                    "charger_id": charger_id,
                    "transaction_id": str(k),
                    "evse_id": k,
                    "status": "active" if k % 2 else "completed",
                    "started_at": now - timedelta(days=k % 20, hours=1),
                    "stopped_at": None if k % 2 else now - timedelta(days=k % 20),
                    "energy_wh": 1000.0 * k,
                    "created_at": now,
                    "updated_at": now,
                }
                for charger_id, k in many
            ],
        )
        await conn.execute(
            tables.security_events.insert(),
            [
                {
                    "charger_id": charger_id,
                    "type": "TamperDetectionActivated",
                    "occurred_at": now - timedelta(seconds=k),
                    "received_at": now,
                }
                for charger_id, k in many
            ],
        )
        await conn.execute(
            tables.message_log.insert(),
            [
                {
                    "charger_id": charger_id,
                    "direction": "in" if k % 2 else "out",
                    "unique_id": f"m-{k}",
                    "action": "Heartbeat",
                    "payload": "{}",
                    "response": "{}",
                    "received_at": now - timedelta(seconds=k),
                }
                for charger_id, k in many
            ],
        )
        await conn.execute(
            tables.configuration_keys.insert(),
            [
                {"charger_id": charger_id, "key": f"Key{k}", "value": str(k), "updated_at": now}
                for charger_id, k in many
            ],
        )
    return ids
