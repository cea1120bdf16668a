"""The charger WebSocket server: handshake checks, connection registry, shutdown."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import Counter
from collections.abc import Sequence
from http import HTTPStatus

import msgspec
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from chargegrid.bus.commands import CommandBus
from chargegrid.config import Settings
from chargegrid.domain.clock import Clock
from chargegrid.domain.services import chargers
from chargegrid.gateway.auth import (
    ChargerAuthenticator,
    Refusal,
    RefusalReason,
    charger_id_from_path,
)
from chargegrid.gateway.connection import ChargerConnection, ChargerUnavailable
from chargegrid.gateway.dispatch import Dispatcher
from chargegrid.gateway.keepalive import Keepalive
from chargegrid.gateway.outbox import CommandOutbox
from chargegrid.gateway.tls import (
    TlsFailure,
    client_certificate,
    context_from_settings,
    observe_handshake_failures,
)
from chargegrid.gateway.websocket import WebSocket, WebSocketServer
from chargegrid.metrics import Metrics
from chargegrid.ocpp.protocol import OcppProtocol
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.storage.engine import Database

logger = logging.getLogger(__name__)

SUPPORTED_VERSIONS: tuple[OcppVersion, ...] = (OcppVersion.V16, OcppVersion.V201)
REPLACED = 4000  # private-use close code: a newer connection of the same charger took over
OPEN_TIMEOUT = 10.0  # seconds from connecting (or the TLS handshake) to the upgrade


def offered_subprotocols(request: Request) -> list[str]:
    """The subprotocols a client offers, in its order of preference."""
    return [
        name.strip()
        for header in request.headers.get_all("Sec-WebSocket-Protocol")
        for name in header.split(",")
        if name.strip()
    ]


def choose_version(offered: Sequence[str]) -> OcppVersion | None:
    """The client's most preferred subprotocol that this server speaks."""
    for name in offered:
        version = OcppVersion.from_subprotocol(name)
        if version in SUPPORTED_VERSIONS:
            return version
    return None


class GatewayServer:
    """Accepts chargers at ``/ocpp/{charger_id}`` and keeps one connection per charger.

    Listens for ws on ``ocpp_port`` and, when a TLS certificate is configured, for wss
    on ``ocpp_tls_port``; both feed the same registry.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        metrics: Metrics,
        bus: CommandBus,
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._metrics = metrics
        self._connections: dict[str, ChargerConnection] = {}
        self._outbox = CommandOutbox(db, settings, clock, bus, self._connections.get)
        self._dispatcher = Dispatcher(db, settings, clock, metrics, self._outbox.ready)
        self._authenticator = ChargerAuthenticator(db, settings, clock)
        self._keepalive = (
            Keepalive(
                self._connections.values,
                interval=settings.ocpp_ping_interval,
                timeout=settings.ocpp_ping_timeout,
                metrics=metrics,
            )
            if settings.ocpp_ping_interval
            else None
        )
        self._closing: set[asyncio.Task[None]] = set()
        self._server: WebSocketServer | None = None
        self._tls_server: WebSocketServer | None = None
        # While stopping, the chargers whose connections closed are recorded together.
        self._stopping = False
        self._gone: list[tuple[str, str]] = []

    # Presence -----------------------------------------------------------------------

    def is_connected(self, charger_id: str) -> bool:
        return charger_id in self._connections

    def version_of(self, charger_id: str) -> str | None:
        connection = self._connections.get(charger_id)
        return None if connection is None else connection.version.value

    def connected_by_version(self) -> dict[str, int]:
        return dict(Counter(c.version.value for c in self._connections.values()))

    # Commands -----------------------------------------------------------------------

    async def call(self, charger_id: str, action: str, request: msgspec.Struct) -> object:
        """Send a CALL to a connected charger and return its decoded answer."""
        connection = self._connections.get(charger_id)
        if connection is None:
            raise ChargerUnavailable(f"charger {charger_id} is not connected")
        return await connection.call(action, request)

    # Life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        settings = self._settings
        tls = context_from_settings(settings)  # bad certificate files fail before listening
        self._server = await self._listen(settings.ocpp_port, None)
        if tls is not None:
            observe_handshake_failures(tls, self._tls_failed)
            self._tls_server = await self._listen(settings.ocpp_tls_port, tls)
        self._outbox.start()
        if self._keepalive is not None:
            self._keepalive.start()

    async def _listen(self, port: int, tls: ssl.SSLContext | None) -> WebSocketServer:
        settings = self._settings
        server = WebSocketServer(
            self._serve_connection,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            max_size=settings.ocpp_max_frame_bytes * 4,
            open_timeout=OPEN_TIMEOUT,
            close_timeout=settings.ocpp_close_timeout,
            server_header="chargegrid",
        )
        await server.listen(settings.host, port, tls)
        return server

    @property
    def port(self) -> int:
        """The ws port actually listened on (useful when configured as 0)."""
        assert self._server is not None
        return self._server.port

    @property
    def tls_port(self) -> int | None:
        """The wss port actually listened on; None without TLS."""
        return None if self._tls_server is None else self._tls_server.port

    async def stop(self) -> None:
        """Stop accepting, close every connection (1001 going away) and wait."""
        await self._outbox.stop()
        if self._keepalive is not None:
            await self._keepalive.stop()
        self._stopping = True
        for connection in self._connections.values():
            connection.stop_processing()
        servers = [s for s in (self._server, self._tls_server) if s is not None]
        for server in servers:
            server.close()
        try:
            await asyncio.wait_for(
                asyncio.gather(*(s.wait_closed() for s in servers)),
                self._settings.shutdown_grace,
            )
        except TimeoutError:
            logger.warning("some charger connections did not close in time")
        await self._record_gone()

    async def _record_gone(self) -> None:
        """Record the connections closed by the stop, in one transaction."""
        gone, self._gone = self._gone, []
        if not gone:
            return
        try:
            async with self._db.begin() as conn:
                await chargers.mark_all_disconnected(conn, gone, self._clock.now())
        except Exception:
            logger.exception("could not record that %d chargers disconnected", len(gone))

    # Handshake ----------------------------------------------------------------------

    async def _process_request(self, ws: WebSocket, request: Request) -> Response | None:
        charger_id = charger_id_from_path(request.path)
        if charger_id is None:
            return self._refuse(
                ws,
                Refusal(
                    HTTPStatus.NOT_FOUND,
                    RefusalReason.BAD_PATH,
                    "connect to /ocpp/{charger_id} (1-48 characters of letters, digits, ._~*@+|=-)",
                ),
            )
        offered = offered_subprotocols(request)
        if choose_version(offered) is None:
            supported = ", ".join(v.subprotocol for v in SUPPORTED_VERSIONS)
            what = f"unsupported subprotocol {', '.join(offered)}" if offered else "no subprotocol"
            return self._refuse(
                ws,
                Refusal(
                    HTTPStatus.BAD_REQUEST,
                    RefusalReason.NO_SUBPROTOCOL,
                    f"{what} offered; this server speaks {supported}",
                ),
            )
        address = ws.remote_address[0] if ws.remote_address else "?"
        ssl_object = ws.transport.get_extra_info("ssl_object")
        refusal = await self._authenticator.check(
            charger_id,
            request.headers.get("Authorization"),
            str(address),
            secure=ssl_object is not None,
            certificate=client_certificate(ssl_object),
        )
        if refusal is not None:
            logger.warning(
                "refused charger %s from %s: %s [%s]",
                charger_id,
                address,
                refusal.message,
                refusal.reason.value,
            )
            return self._refuse(ws, refusal)
        return None

    def _tls_failed(self, failure: TlsFailure, detail: str) -> None:
        """A TLS handshake failed: the charger never reached the HTTP upgrade."""
        logger.warning("refused a TLS handshake: %s [%s]", detail, failure.value)
        self._metrics.refused_connections.labels(reason=failure.value).inc()

    def _refuse(self, ws: WebSocket, refusal: Refusal) -> Response:
        self._metrics.refused_connections.labels(reason=refusal.reason.value).inc()
        response = ws.respond(refusal.status, refusal.message + "\n")
        if refusal.status is HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Basic realm="chargegrid", charset="UTF-8"'
        return response

    def _select_subprotocol(self, subprotocols: Sequence[Subprotocol]) -> Subprotocol | None:
        version = choose_version(subprotocols)
        return None if version is None else Subprotocol(version.subprotocol)

    # Connections --------------------------------------------------------------------

    async def _serve_connection(self, ws: WebSocket) -> None:
        assert ws.request is not None
        assert ws.subprotocol is not None
        charger_id = charger_id_from_path(ws.request.path)
        version = OcppVersion.from_subprotocol(ws.subprotocol)
        assert charger_id is not None
        assert version is not None
        connection = ChargerConnection(
            ws,
            charger_id=charger_id,
            version=version,
            protocol=OcppProtocol(version, max_frame_bytes=self._settings.ocpp_max_frame_bytes),
            sink=self._dispatcher,
            call_timeout=self._settings.ocpp_call_timeout,
        )
        previous = self._connections.get(charger_id)
        self._connections[charger_id] = connection
        if previous is not None:
            logger.warning(
                "charger %s connected again from %s; closing its previous connection",
                charger_id,
                ws.remote_address,
            )
            self._metrics.replaced_connections.inc()
            # In the background: an unresponsive old socket must not hold up the new one
            # for the whole closing handshake timeout.
            closing = asyncio.create_task(
                previous.close(REPLACED, "replaced by a new connection of this charger")
            )
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        gauge = self._metrics.connected_chargers.labels(version=version.value)
        gauge.inc()
        logger.info("charger %s connected (OCPP %s)", charger_id, version.value)
        try:
            await self._mark(charger_id, connected=True, version=version)
            await connection.run()
        finally:
            gauge.dec()
            if self._connections.get(charger_id) is connection:
                del self._connections[charger_id]
                if self._stopping:
                    self._gone.append((charger_id, version.value))
                else:
                    await self._mark(charger_id, connected=False, version=version)
            logger.info("charger %s disconnected", charger_id)

    async def _mark(self, charger_id: str, *, connected: bool, version: OcppVersion) -> None:
        try:
            async with self._db.begin() as conn:
                now = self._clock.now()
                if connected:
                    await chargers.mark_connected(
                        conn, charger_id, ocpp_version=version.value, now=now
                    )
                else:
                    await chargers.mark_disconnected(conn, charger_id, now)
        except Exception:
            logger.exception("could not record the connection state of charger %s", charger_id)
