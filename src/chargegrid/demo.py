"""``chargegrid demo``: the platform on its embedded database, with simulated chargers.

Seeds (once, idempotently) a demo location, its chargers with a tariff, id tokens and an
admin user, then runs the server and a small fleet of simulated chargers of both OCPP versions that
charge EVs. Ctrl-C stops both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence

from chargegrid.config import Settings
from chargegrid.domain.clock import SystemClock
from chargegrid.domain.errors import DomainError
from chargegrid.domain.model import BillingTerms, IdTokenStatus, Location
from chargegrid.domain.services import chargers, id_tokens, locations, tariffs, users
from chargegrid.simulator.fleet import Fleet, FleetConfig
from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import upgrade
from chargegrid.storage.repositories import chargers as charger_repo
from chargegrid.storage.repositories import id_tokens as id_token_repo
from chargegrid.storage.repositories import tariffs as tariff_repo
from chargegrid.storage.repositories import users as user_repo
from chargegrid.values import immutable

logger = logging.getLogger("chargegrid.demo")

LOCATION = Location(
    id="demo-depot",
    name="Demo Depot",
    address="Alexanderplatz 1",
    city="Berlin",
    postal_code="10178",
    country="DEU",
    latitude=52.5219,
    longitude=13.4132,
    time_zone="Europe/Berlin",
)
CHARGER_PASSWORD = "demo-charger-password"  # 16-40 characters, as OCPP asks
ADMIN_EMAIL = "admin@demo.chargegrid.local"
ADMIN_PASSWORD = "chargegrid-demo"
TOKENS = tuple(f"DEMO-TOKEN-{n}" for n in range(1, 13))  # a driver charges at one place
BLOCKED_TOKEN = "DEMO-BLOCKED"
TARIFF_ID = "DEMO-STANDARD"
# A start fee, energy, and parking once the EV has been connected for an hour.
TARIFF = b"""{
  "country_code": "DE", "party_id": "CGR", "id": "DEMO-STANDARD", "currency": "EUR",
  "type": "REGULAR",
  "tariff_alt_text": [{"language": "en",
    "text": "0.40 EUR a session, 0.33 EUR/kWh, 5 EUR/h parking after 1 h; plus 19 % VAT"}],
  "elements": [
    {"price_components": [
      {"type": "FLAT", "price": 0.40, "vat": 19.0, "step_size": 1},
      {"type": "ENERGY", "price": 0.33, "vat": 19.0, "step_size": 1}]},
    {"price_components": [{"type": "PARKING_TIME", "price": 5.00, "vat": 19.0, "step_size": 60}],
     "restrictions": {"min_duration": 3600}}
  ]
}"""


@immutable
class DemoSeed:
    """What the demo puts in the database."""

    charger_ids: Sequence[str]
    tokens: Sequence[str] = TOKENS


async def seed(db: Database, demo: DemoSeed) -> None:
    """Create whatever of the demo data is missing; never changes what exists."""
    now = SystemClock().now()
    async with db.begin() as conn:
        if await locations.get(conn, LOCATION.id) is None:
            await locations.create(conn, LOCATION, now)
        for charger_id in demo.charger_ids:
            if not await charger_repo.exists(conn, charger_id):
                await chargers.register(
                    conn,
                    charger_id=charger_id,
                    password=CHARGER_PASSWORD,
                    now=now,
                    location_id=LOCATION.id,
                )
        if await tariff_repo.get_tariff(conn, TARIFF_ID) is None:
            await tariffs.create(conn, TARIFF, BillingTerms(), now)
        for charger_id in demo.charger_ids:
            if not await tariffs.assigned(conn, charger_id, 0, 0):
                await tariffs.assign(conn, charger_id, 0, 0, [TARIFF_ID], now)
        for token, status in [(t, IdTokenStatus.ACCEPTED) for t in demo.tokens] + [
            (BLOCKED_TOKEN, IdTokenStatus.BLOCKED)
        ]:
            if await id_token_repo.get(conn, token) is None:
                await id_tokens.create(
                    conn, id_token=token, status=status, now=now, type="ISO14443"
                )
        if await user_repo.get_by_email(conn, ADMIN_EMAIL) is None:
            await users.create(
                conn, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, role="admin", now=now
            )


def banner(settings: Settings, charger_ids: Sequence[str]) -> str:
    http = f"http://{settings.host}:{settings.http_port}"
    return "\n".join(
        [
            "",
            "chargegrid demo is running",
            f"  dashboard           {http}/",
            f"  API                 {http}/api/v1  (try it at {http}/docs)",
            f"  sign in             {ADMIN_EMAIL} / {ADMIN_PASSWORD}",
            f"  access token        curl -d username={ADMIN_EMAIL} "
            f"-d password={ADMIN_PASSWORD} {http}/api/v1/auth/token",
            f"  chargers            {len(charger_ids)} simulated "
            f"({', '.join(charger_ids[:3])}, ...) at "
            f"ws://{settings.host}:{settings.ocpp_port}/ocpp/{{charger_id}}",
            f"  database            {settings.database_url}",
            "  stop                Ctrl-C",
            "",
        ]
    )


def demo_fleet(settings: Settings, *, count: int, session_rate: float) -> Fleet:
    """Chargers of both versions that charge an EV every now and then."""
    host = _local(settings.host)
    return Fleet(
        FleetConfig(
            url=f"ws://{host}:{settings.ocpp_port}/ocpp",
            count=count,
            version="mix",
            id_prefix="DEMO",
            password=CHARGER_PASSWORD,
            meter_interval=15.0,
            session_rate=session_rate,
            session_duration=(3 * 60.0, 20 * 60.0),
            id_tokens=TOKENS,
            evses=(1, 2),
        )
    )


async def run(settings: Settings, *, chargers_count: int = 10, session_rate: float = 6.0) -> None:
    """Seed, then serve with a simulated fleet until SIGINT/SIGTERM."""
    from chargegrid.runtime import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)

    db = Database(settings.database_url)
    try:
        await upgrade(db.url)
        fleet = demo_fleet(settings, count=chargers_count, session_rate=session_rate)
        await seed(db, DemoSeed(fleet.charger_ids))
    except DomainError as error:
        raise SystemExit(f"could not seed the demo: {error.message}") from None
    finally:
        await db.dispose()

    server = asyncio.create_task(serve(settings, stop))
    host = _local(settings.host)
    if not await _listening(host, settings.http_port, server) or not await _listening(
        host, settings.ocpp_port, server
    ):
        await server  # it stopped (or failed) before it listened: its outcome is ours
        return
    simulation = asyncio.create_task(fleet.run(stop))
    print(banner(settings, fleet.charger_ids), flush=True)
    try:
        await server
    finally:
        stop.set()
        await simulation


def _local(host: str) -> str:
    """Where to reach a server listening on ``host`` from this machine."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


async def _listening(host: str, port: int, server: asyncio.Task[None]) -> bool:
    """Wait until ``port`` accepts connections; False if the server ends first."""
    while not server.done():
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return True
    return False
