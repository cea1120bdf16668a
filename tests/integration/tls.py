"""A real server listening for wss, made from `chargegrid pki init`, and TLS clients."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import websockets
from cryptography import x509
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v201 import ChargePoint as ChargePoint201
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from tests.certs import Issuer, Key, write_pair
from tests.integration.conftest import start_server
from tests.integration.harness import ServerProcess, basic_auth, free_port, run_cli

ORGANIZATION = "Acme CPO"
PASSWORD = "correct-horse-battery"

Pair = tuple[Path, Path]  # certificate, key


def pki_init(directory: Path, *args: str) -> dict[str, str]:
    """Run `chargegrid pki init` and return the settings it prints."""
    output = run_cli("pki", "init", "--host", "127.0.0.1", "--dir", str(directory), *args)
    settings = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    assert set(settings) >= {"CHARGEGRID_TLS_CERT", "CHARGEGRID_TLS_CLIENT_CA"}, output
    return settings


@dataclass
class TlsServer:
    """A running server with ws and wss, and the CSMS CA it trusts for client certificates."""

    process: ServerProcess
    pki: Path
    tls_port: int
    certificates: Path  # where the tests write client certificates

    @property
    def ca(self) -> Path:
        return self.pki / "ca.pem"

    def issuer(self) -> Issuer:
        """The CSMS CA itself (its key read from the PKI directory)."""
        return Issuer.load(self.pki / "ca.pem", self.pki / "ca.key")

    def write(self, stem: str, issued: tuple[x509.Certificate, Key]) -> Pair:
        """Write a client certificate and its key as PEM files."""
        return write_pair(self.certificates, stem, *issued)

    def client_context(self, certificate: Pair | None = None) -> ssl.SSLContext:
        """A client that trusts the CSMS CA (and checks the host name, 127.0.0.1)."""
        context = ssl.create_default_context(cafile=str(self.ca))
        if certificate is not None:
            context.load_cert_chain(*certificate)
        return context

    @contextlib.asynccontextmanager
    async def connect(
        self,
        charger_id: str,
        *,
        password: str | None = None,
        certificate: Pair | None = None,
        context: ssl.SSLContext | None = None,
        subprotocol: str = "ocpp1.6",
    ) -> AsyncIterator[ClientConnection]:
        headers = {} if password is None else {"Authorization": basic_auth(charger_id, password)}
        async with websockets.connect(
            f"wss://127.0.0.1:{self.tls_port}/ocpp/{charger_id}",
            ssl=context or self.client_context(certificate),
            subprotocols=[websockets.Subprotocol(subprotocol)],
            additional_headers=headers,
            open_timeout=10,
        ) as ws:
            yield ws

    async def refused(
        self,
        charger_id: str,
        *,
        password: str | None = None,
        certificate: Pair | None = None,
        subprotocol: str = "ocpp1.6",
    ) -> Response:
        """The HTTP response of a wss handshake that must be refused before the upgrade."""
        with pytest.raises(InvalidStatus) as caught:
            async with self.connect(
                charger_id, password=password, certificate=certificate, subprotocol=subprotocol
            ):
                pass
        return caught.value.response

    @contextlib.asynccontextmanager
    async def charger(
        self,
        charge_point: type[ChargePoint16 | ChargePoint201],
        charger_id: str,
        *,
        password: str | None = None,
        certificate: Pair | None = None,
    ) -> AsyncIterator[Any]:
        """An ``ocpp`` package charger of that class, connected over wss and listening."""
        subprotocol = "ocpp1.6" if issubclass(charge_point, ChargePoint16) else "ocpp2.0.1"
        async with (
            self.connect(
                charger_id, password=password, certificate=certificate, subprotocol=subprotocol
            ) as ws,
            running(charge_point(charger_id, ws, response_timeout=10)) as charger,
        ):
            yield charger


@contextlib.asynccontextmanager
async def running(charge_point: Any) -> AsyncIterator[Any]:
    """Run a charge point's message loop for the duration of the block."""
    task = asyncio.create_task(charge_point.start())
    try:
        yield charge_point
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@contextlib.contextmanager
def tls_server(database_url: str, directory: Path, **env: str) -> Iterator[TlsServer]:
    """A server whose certificates come from `chargegrid pki init` (run here)."""
    pki = directory / "pki"
    settings = pki_init(pki, "--organization", ORGANIZATION)
    tls_port = free_port()
    process = start_server(
        database_url,
        directory,
        CHARGEGRID_OCPP_TLS_PORT=str(tls_port),
        **settings,
        **env,
    )
    certificates = directory / "client-certificates"
    certificates.mkdir()
    try:
        yield TlsServer(process, pki, tls_port, certificates)
    finally:
        code = process.stop()
        assert code == 0, f"server exited with {code}:\n{process.log()}"
