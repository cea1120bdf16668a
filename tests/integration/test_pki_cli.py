"""`chargegrid pki init`: the files it writes start a working wss server."""

from __future__ import annotations

import secrets
import ssl
import stat
from pathlib import Path

import pytest
import websockets
from cryptography import x509
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call

from tests.integration.harness import ServerProcess, free_port, run_cli_result
from tests.integration.tls import PASSWORD, TlsServer, pki_init


def read(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_init_is_idempotent_and_refuses_to_overwrite(tmp_path: Path) -> None:
    directory = tmp_path / "pki"
    first = run_cli_result("pki", "init", "--host", "csms.example.com", "--dir", str(directory))
    assert first.returncode == 0, first.stderr
    assert "created the CA, created server certificates for csms.example.com" in first.stderr
    settings = dict(line.split("=", 1) for line in first.stdout.splitlines())
    assert settings == {
        "CHARGEGRID_TLS_CERT": str(directory / "server.pem"),
        "CHARGEGRID_TLS_KEY": str(directory / "server.key"),
        "CHARGEGRID_TLS_ALT_CERT": str(directory / "server-ecdsa.pem"),
        "CHARGEGRID_TLS_ALT_KEY": str(directory / "server-ecdsa.key"),
        "CHARGEGRID_TLS_CLIENT_CA": str(directory / "ca.pem"),
        "CHARGEGRID_PKI_DIR": str(directory),
    }
    for name in ("ca.key", "server.key", "server-ecdsa.key"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    files = read(directory)

    again = run_cli_result("pki", "init", "--host", "csms.example.com", "--dir", str(directory))
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert "server certificates already in place" in again.stderr
    assert read(directory) == files

    other = run_cli_result("pki", "init", "--host", "other.example", "--dir", str(directory))
    assert other.returncode == 1
    assert "use --force to replace the server certificates" in other.stderr
    assert read(directory) == files

    forced = run_cli_result(
        "pki", "init", "--host", "other.example", "--dir", str(directory), "--force"
    )
    assert forced.returncode == 0, forced.stderr
    after = read(directory)
    assert after["ca.pem"] == files["ca.pem"]
    assert after["ca.key"] == files["ca.key"]
    server = x509.load_pem_x509_certificate(after["server.pem"])
    assert server.subject.rfc4514_string() == "CN=other.example,O=chargegrid"


def test_init_uses_the_pki_dir_setting(tmp_path: Path) -> None:
    directory = tmp_path / "from-env"
    result = run_cli_result(
        "pki",
        "init",
        "--host",
        "127.0.0.1",
        "--organization",
        "Acme CPO",
        env={"CHARGEGRID_PKI_DIR": str(directory)},
    )
    assert result.returncode == 0, result.stderr
    ca = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    assert ca.subject.rfc4514_string() == "CN=Acme CPO CSMS root CA,O=Acme CPO"
    assert run_cli_result("pki", "init").returncode == 2  # --host is required


async def test_its_files_start_a_wss_server(tmp_path: Path) -> None:
    """`--ocpp-tls-port` on the command line; the chargers verify the server's name."""
    settings = pki_init(tmp_path / "pki")
    tls_port = free_port()
    server = ServerProcess(
        f"sqlite:///{tmp_path / 'chargegrid.db'}",
        tmp_path / f"server-{secrets.token_hex(3)}.log",
        settings,
        args=("--ocpp-tls-port", str(tls_port)),
    )
    server.start()
    try:
        assert f"wss://127.0.0.1:{tls_port}/ocpp/" in server.log()
        tls = TlsServer(server, tmp_path / "pki", tls_port, tmp_path)
        await server.register_charger("CP-CLI", PASSWORD)
        async with tls.charger(ChargePoint16, "CP-CLI", password=PASSWORD) as charger:
            boot = await charger.call(
                call.BootNotification(charge_point_model="M1", charge_point_vendor="Acme")
            )
            assert boot.status == "Accepted"
        # The plain ws listener runs at the same time.
        async with server.charger16("CP-CLI", PASSWORD) as charger:
            await charger.call(call.Heartbeat())
        # The certificate names this host only: a client expecting another name refuses it.
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            async with websockets.connect(
                f"wss://127.0.0.1:{tls_port}/ocpp/CP-CLI",
                ssl=ssl.create_default_context(cafile=str(tls.ca)),
                server_hostname="csms.example.com",
                subprotocols=[websockets.Subprotocol("ocpp1.6")],
                open_timeout=10,
            ):
                pass
    finally:
        assert server.stop() == 0, server.log()
