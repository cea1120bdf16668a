"""``chargegrid serve``: the charger gateway and the HTTP API in one process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator

import uvicorn

from chargegrid.api.app import create_app
from chargegrid.bus.commands import LocalCommandBus
from chargegrid.cdr_sweep import CdrSweep
from chargegrid.config import Settings
from chargegrid.dashboard import close_streams
from chargegrid.domain.clock import SystemClock
from chargegrid.gateway.handlers.commands import VersionCatalog
from chargegrid.gateway.server import GatewayServer
from chargegrid.metrics import Metrics
from chargegrid.platform import Platform
from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import upgrade
from chargegrid.webhooks.delivery import WebhookDelivery

logger = logging.getLogger("chargegrid")


class _HttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: shutdown is ours to order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The gateway logs each charger's connection itself; the library's per-socket lines
    # would only repeat it without the charger's id.
    logging.getLogger("websockets.server").setLevel(max(logging.WARNING, logging.root.level))


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Migrate, start both servers, and run until ``stop`` is set or SIGINT/SIGTERM."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)

    db = Database(settings.database_url)
    await upgrade(db.url)
    if not await db.keeps_statistics():
        logger.warning(
            "PostgreSQL runs without autovacuum: run ANALYZE regularly, or the plans made "
            "while tables were small (sequential scans) stay in use as they grow"
        )
    metrics = Metrics()
    clock = SystemClock()
    bus = LocalCommandBus()
    gateway = GatewayServer(db, settings, clock, metrics, bus)
    platform = Platform(
        settings,
        clock,
        db,
        metrics,
        presence=gateway,
        commands=bus,
        catalog=VersionCatalog(settings),
    )
    app = create_app(platform)
    http = _HttpServer(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.http_port,
            log_level=settings.log_level.lower(),
            access_log=False,
            lifespan="off",
        )
    )
    # What exists now (modules, tables, compiled schemas) lives as long as the process:
    # keep it out of the garbage collector's full passes, which then scan only what
    # connections and messages create.
    gc.freeze()
    collector = (
        asyncio.create_task(set_survivors_aside(settings))
        if settings.gc_freeze_interval > 0
        else None
    )
    await gateway.start()
    webhooks = WebhookDelivery(db, settings, clock)
    await webhooks.start()
    cdr_sweep = CdrSweep(db, settings, clock)
    cdr_sweep.start()
    http_task = asyncio.create_task(http.serve())
    logger.info(
        "chargegrid ready: chargers ws://%s:%d/ocpp/{charger_id}, API http://%s:%d/api/v1",
        settings.host,
        gateway.port,
        settings.host,
        settings.http_port,
    )
    if gateway.tls_port is not None:
        logger.info(
            "chargers over TLS: wss://%s:%d/ocpp/{charger_id} (client certificates %s)",
            settings.host,
            gateway.tls_port,
            "verified against " + str(settings.tls_client_ca)
            if settings.tls_client_ca is not None
            else "not asked for",
        )
    try:
        await asyncio.wait(
            [http_task, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        logger.info("shutting down")
        if collector is not None:
            collector.cancel()
        await gateway.stop()
        close_streams(app)  # open dashboard pages would otherwise hold the HTTP server
        http.should_exit = True
        await http_task
        await webhooks.stop()
        await cdr_sweep.stop()
        await db.dispose()
        logger.info("stopped")


async def set_survivors_aside(settings: Settings) -> None:
    """Freeze what survived every ``gc_freeze_interval`` s, so that the collector's full
    passes scan only what is new; unfreeze and collect everything every
    ``gc_full_interval`` s, to free cyclic garbage among what was set aside."""
    loop = asyncio.get_running_loop()
    last_full = loop.time()
    while True:
        await asyncio.sleep(settings.gc_freeze_interval)
        if loop.time() - last_full >= settings.gc_full_interval:
            gc.unfreeze()
            gc.collect()
            last_full = loop.time()
        gc.freeze()
