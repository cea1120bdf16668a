"""The wss server context: versions, cipher suites and client certificates, in memory."""

from __future__ import annotations

import contextlib
import ssl
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chargegrid.config import Settings
from chargegrid.gateway.tls import (
    OCPP_TLS12_CIPHERS,
    TlsFailure,
    classify,
    client_certificate,
    context_from_settings,
    observe_handshake_failures,
    server_context,
)
from chargegrid.pki.files import PkiLayout, init_pki
from tests.certs import Issuer, write_pair

# OCPP 1.6 security whitepaper A00.FR.317 / OCPP 2.0.1 A00.FR.318, in OpenSSL's names.
REQUIRED = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiLayout:
    directory = tmp_path_factory.mktemp("pki")
    init_pki(
        directory, host="127.0.0.1", organization="Acme", now=datetime.now(UTC), server_days=30
    )
    return PkiLayout(directory)


def full_context(pki: PkiLayout, *, client_ca: bool = True) -> ssl.SSLContext:
    return server_context(
        certificate=pki.server_certificate,
        key=pki.server_key,
        alt_certificate=pki.server_ecdsa_certificate,
        alt_key=pki.server_ecdsa_key,
        client_ca=pki.ca_certificate if client_ca else None,
    )


def client_context(pki: PkiLayout) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca_certificate))


def handshake(
    server: ssl.SSLContext, client: ssl.SSLContext
) -> tuple[ssl.SSLObject, ssl.SSLObject]:
    """Run a TLS handshake between two in-memory endpoints; SSLError if it fails."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_in, server_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_side = client.wrap_bio(to_client, to_server, server_hostname="127.0.0.1")
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for label, endpoint in (("client", client_side), ("server", server_side)):
            if done[label]:
                continue
            try:
                endpoint.do_handshake()
                done[label] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                if label == "client":
                    # Let the server read the alert the client sent as it gave up.
                    server_in.write(to_server.read())
                    with contextlib.suppress(ssl.SSLError):
                        server_side.do_handshake()
                raise
        server_in.write(to_server.read())
        to_client.write(server_out.read())
        if all(done.values()):
            # TLS 1.3: the server's verdict on a client certificate comes after the
            # client's handshake; read once to surface it.
            with contextlib.suppress(ssl.SSLWantReadError):
                client_side.read(1)
            return client_side, server_side
    raise AssertionError("handshake did not finish")


def test_tls_12_is_the_minimum(pki: PkiLayout) -> None:
    context = full_context(pki)
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert context.options & ssl.OP_NO_COMPRESSION
    assert context.options & ssl.OP_NO_RENEGOTIATION


def test_only_the_ocpp_aead_suites_are_enabled_for_tls_12(pki: PkiLayout) -> None:
    enabled = {c["name"] for c in full_context(pki).get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert enabled == set(OCPP_TLS12_CIPHERS)
    assert set(REQUIRED) <= enabled
    assert all("GCM" in name for name in enabled)


@pytest.mark.parametrize("cipher", REQUIRED)
def test_each_required_suite_is_negotiated(pki: PkiLayout, cipher: str) -> None:
    """The RSA suites use the RSA certificate, the ECDSA ones the ECDSA certificate."""
    client = client_context(pki)
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    client.set_ciphers(cipher)
    client_side, _ = handshake(full_context(pki), client)
    assert client_side.version() == "TLSv1.2"
    negotiated = client_side.cipher()
    assert negotiated is not None
    assert negotiated[0] == cipher


def test_a_modern_client_gets_tls_13(pki: PkiLayout) -> None:
    client_side, _ = handshake(full_context(pki), client_context(pki))
    assert client_side.version() == "TLSv1.3"


def test_cbc_and_non_forward_secret_legacy_suites_are_refused(pki: PkiLayout) -> None:
    client = client_context(pki)
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    client.set_ciphers("AES128-SHA:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA")
    with pytest.raises(ssl.SSLError, match="NO_SHARED_CIPHER"):
        handshake(full_context(pki), client)


def test_tls_11_is_refused(pki: PkiLayout) -> None:
    """A client that really offers TLS 1.1 (its own security level lowered to allow it)."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(pki.ca_certificate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client.minimum_version = ssl.TLSVersion.TLSv1_1
        client.maximum_version = ssl.TLSVersion.TLSv1_1
    client.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError, match="UNSUPPORTED_PROTOCOL"):
        handshake(full_context(pki), client)


def test_client_certificates_are_asked_for_only_with_a_ca(pki: PkiLayout) -> None:
    assert full_context(pki).verify_mode is ssl.CERT_OPTIONAL
    assert full_context(pki, client_ca=False).verify_mode is ssl.CERT_NONE


def test_the_verified_client_certificate_is_read(pki: PkiLayout, tmp_path: Path) -> None:
    certificate, key = Issuer.load(pki.ca_certificate, pki.ca_key).issue(
        "CP-7", organization="Acme"
    )
    client = client_context(pki)
    client.load_cert_chain(*write_pair(tmp_path, "cp7", certificate, key))
    _, server_side = handshake(full_context(pki), client)
    found = client_certificate(server_side)
    assert found is not None
    assert (found.common_name, found.organization) == ("CP-7", "Acme")
    assert int(found.serial_number, 16) == certificate.serial_number


def test_no_client_certificate_is_none(pki: PkiLayout) -> None:
    _, server_side = handshake(full_context(pki), client_context(pki))
    assert client_certificate(server_side) is None
    assert client_certificate(None) is None


def test_a_certificate_from_another_ca_fails_the_handshake(pki: PkiLayout, tmp_path: Path) -> None:
    certificate, key = Issuer.create("Stranger CA").issue("CP-7")
    client = client_context(pki)
    client.load_cert_chain(*write_pair(tmp_path, "stranger", certificate, key))
    with pytest.raises(ssl.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        handshake(full_context(pki), client)


def test_the_settings_give_a_context_only_with_a_certificate(pki: PkiLayout) -> None:
    assert context_from_settings(Settings()) is None
    context = context_from_settings(
        Settings(tls_cert=pki.server_certificate, tls_key=pki.server_key)
    )
    assert context is not None
    assert context.verify_mode is ssl.CERT_NONE


def test_settings_need_both_halves_of_a_pair(pki: PkiLayout) -> None:
    with pytest.raises(ValueError, match="go together"):
        Settings(tls_cert=pki.server_certificate)
    with pytest.raises(ValueError, match="needs CHARGEGRID_TLS_CERT"):
        Settings(tls_alt_cert=pki.server_certificate, tls_alt_key=pki.server_key)


def _reasoned(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, reason)
    error.reason = reason
    return error


def _verification(code: int, message: str) -> ssl.SSLError:
    error = ssl.SSLCertVerificationError(1, message)
    error.reason = "CERTIFICATE_VERIFY_FAILED"
    error.verify_code = code
    error.verify_message = message
    return error


def observed_failures(pki: PkiLayout, client: ssl.SSLContext) -> list[tuple[TlsFailure, str]]:
    """What the observer of a server context reports for a handshake that fails."""
    server = full_context(pki)
    seen: list[tuple[TlsFailure, str]] = []
    observe_handshake_failures(server, lambda failure, detail: seen.append((failure, detail)))
    with pytest.raises(ssl.SSLError):
        handshake(server, client)
    return seen


def test_failures_are_observed_and_classified(pki: PkiLayout, tmp_path: Path) -> None:
    stranger = client_context(pki)
    stranger.load_cert_chain(
        *write_pair(tmp_path, "stranger", *Issuer.create("Stranger CA").issue("CP-1"))
    )
    assert observed_failures(pki, stranger) == [
        (TlsFailure.UNKNOWN_CA, "client certificate: unable to get local issuer certificate")
    ]

    now = datetime.now(UTC)
    expired = client_context(pki)
    expired.load_cert_chain(
        *write_pair(
            tmp_path,
            "expired",
            *Issuer.load(pki.ca_certificate, pki.ca_key).issue(
                "CP-1", not_before=now - timedelta(days=9), not_after=now - timedelta(days=1)
            ),
        )
    )
    assert observed_failures(pki, expired) == [
        (TlsFailure.CERTIFICATE_EXPIRED, "client certificate: certificate has expired")
    ]

    legacy = client_context(pki)
    legacy.maximum_version = ssl.TLSVersion.TLSv1_2
    legacy.set_ciphers("AES128-SHA")
    assert observed_failures(pki, legacy) == [
        (TlsFailure.NO_SHARED_CIPHER, "NO_SHARED_CIPHER (see the OCPP cipher suites)")
    ]


def test_the_charger_giving_up_is_a_client_alert(pki: PkiLayout) -> None:
    distrustful = ssl.create_default_context()  # does not know the CSMS CA
    assert observed_failures(pki, distrustful) == [
        (TlsFailure.CLIENT_ALERT, "TLSV1_ALERT_UNKNOWN_CA")
    ]


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (ssl.SSLError(1, "x"), TlsFailure.OTHER),
        (_reasoned("UNSUPPORTED_PROTOCOL"), TlsFailure.PROTOCOL_VERSION),
        (_reasoned("SSLV3_ALERT_BAD_CERTIFICATE"), TlsFailure.CLIENT_ALERT),
        (_verification(9, "certificate is not yet valid"), TlsFailure.CERTIFICATE_NOT_YET_VALID),
        (_verification(7, "certificate signature failure"), TlsFailure.INVALID_CERTIFICATE),
        (_verification(18, "self-signed certificate"), TlsFailure.UNKNOWN_CA),
    ],
)
def test_classify(error: ssl.SSLError, failure: TlsFailure) -> None:
    assert classify(error)[0] is failure
