"""TLS for the charger listener (security profiles 2 and 3) and the peer's certificate."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from cryptography import x509

from chargegrid.config import Settings
from chargegrid.pki.certificates import describe
from chargegrid.values import immutable

# TLS 1.2 cipher suites (OpenSSL names), strongest first. OCPP 1.6 security whitepaper
# A00.FR.317 and OCPP 2.0.1 A00.FR.318 require the CSMS to support the first two and
# the last two; the ECDHE-RSA pair gives forward secrecy to chargers that only use RSA
# certificates. Every suite is AEAD (AES-GCM); nothing marked unsuitable for legacy use
# (A00.FR.319). TLS 1.3 suites are OpenSSL's defaults, all AEAD as well. The RSA key
# exchange suites need an RSA server certificate, the ECDSA ones an ECDSA certificate:
# configure both (CHARGEGRID_TLS_CERT and CHARGEGRID_TLS_ALT_CERT) to offer all of them.
OCPP_TLS12_CIPHERS: tuple[str, ...] = (
    "ECDHE-ECDSA-AES256-GCM-SHA384",  # TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (required)
    "ECDHE-ECDSA-AES128-GCM-SHA256",  # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (required)
    "ECDHE-RSA-AES256-GCM-SHA384",  # TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    "ECDHE-RSA-AES128-GCM-SHA256",  # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    "AES256-GCM-SHA384",  # TLS_RSA_WITH_AES_256_GCM_SHA384 (required; no forward secrecy)
    "AES128-GCM-SHA256",  # TLS_RSA_WITH_AES_128_GCM_SHA256 (required; no forward secrecy)
)


def server_context(
    *,
    certificate: Path,
    key: Path,
    alt_certificate: Path | None = None,
    alt_key: Path | None = None,
    client_ca: Path | None = None,
) -> ssl.SSLContext:
    """The wss server context: TLS 1.2 or newer, the OCPP cipher suites, client certificates.

    With ``client_ca`` a client certificate is asked for (optional: profile 1 and 2
    chargers have none) and, when one is sent, verified against that bundle during the
    handshake: an unknown issuer or an expired certificate fails the handshake itself.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # A00.FR.312/A00.FR.313
    context.set_ciphers(":".join(OCPP_TLS12_CIPHERS))
    context.options |= (
        ssl.OP_NO_COMPRESSION  # A00.FR.320
        | ssl.OP_CIPHER_SERVER_PREFERENCE
        | ssl.OP_NO_RENEGOTIATION
        | ssl.OP_SINGLE_ECDH_USE
    )
    context.load_cert_chain(certificate, key)
    if alt_certificate is not None:
        context.load_cert_chain(alt_certificate, alt_key)
    if client_ca is not None:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    else:
        context.verify_mode = ssl.CERT_NONE
    return context


def context_from_settings(settings: Settings) -> ssl.SSLContext | None:
    """The server context the settings describe; None when wss is not configured."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    return server_context(
        certificate=settings.tls_cert,
        key=settings.tls_key,
        alt_certificate=settings.tls_alt_cert,
        alt_key=settings.tls_alt_key,
        client_ca=settings.tls_client_ca,
    )


@immutable
class ClientCertificate:
    """A charger's client certificate whose chain the TLS handshake has verified."""

    common_name: str | None
    organization: str | None
    serial_number: str
    fingerprint_sha256: str


def client_certificate(
    ssl_object: ssl.SSLObject | ssl.SSLSocket | None,
) -> ClientCertificate | None:
    """The verified client certificate of a TLS connection, or None if none was sent.

    The server context only asks for certificates with a CA to verify them against, and
    a certificate that does not verify fails the handshake: one that is here verified.
    """
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    info = describe(x509.load_der_x509_certificate(der))
    return ClientCertificate(
        common_name=info.common_name,
        organization=info.organization,
        serial_number=info.serial_number,
        fingerprint_sha256=info.fingerprint_sha256,
    )


class TlsFailure(StrEnum):
    """Why a TLS handshake with a charger failed (counted like HTTP refusals)."""

    UNKNOWN_CA = "tls_unknown_ca"
    CERTIFICATE_EXPIRED = "tls_certificate_expired"
    CERTIFICATE_NOT_YET_VALID = "tls_certificate_not_yet_valid"
    INVALID_CERTIFICATE = "tls_invalid_certificate"
    PROTOCOL_VERSION = "tls_protocol_version"
    NO_SHARED_CIPHER = "tls_no_shared_cipher"
    CLIENT_ALERT = "tls_client_alert"  # the charger gave up, e.g. it does not trust us
    OTHER = "tls_handshake_failed"


# OpenSSL X509_V_ERR_* codes of a client certificate that does not verify.
_UNKNOWN_ISSUER = frozenset({2, 18, 19, 20, 21})
_NOT_YET_VALID = 9
_EXPIRED = 10


def classify(error: ssl.SSLError) -> tuple[TlsFailure, str]:
    """The kind of a failed server handshake and a short description of it."""
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = f"client certificate: {error.verify_message}"
        if error.verify_code in _UNKNOWN_ISSUER:
            return TlsFailure.UNKNOWN_CA, detail
        if error.verify_code == _EXPIRED:
            return TlsFailure.CERTIFICATE_EXPIRED, detail
        if error.verify_code == _NOT_YET_VALID:
            return TlsFailure.CERTIFICATE_NOT_YET_VALID, detail
        return TlsFailure.INVALID_CERTIFICATE, detail
    reason = str(getattr(error, "reason", None) or error)
    if reason in {"UNSUPPORTED_PROTOCOL", "WRONG_VERSION_NUMBER", "VERSION_TOO_LOW"}:
        return TlsFailure.PROTOCOL_VERSION, f"{reason} (TLS 1.2 or newer is required)"
    if reason == "NO_SHARED_CIPHER":
        return TlsFailure.NO_SHARED_CIPHER, f"{reason} (see the OCPP cipher suites)"
    if "ALERT" in reason:
        return TlsFailure.CLIENT_ALERT, reason
    return TlsFailure.OTHER, reason


def observe_handshake_failures(
    context: ssl.SSLContext, observer: Callable[[TlsFailure, str], None]
) -> None:
    """Call ``observer`` for each failed server handshake made with ``context``.

    asyncio (and uvloop) drop handshake errors silently; every TLS connection of theirs
    is an object of ``context.sslobject_class`` (the documented hook), so a subclass
    sees them.
    """

    class ObservedSSLObject(ssl.SSLObject):
        def do_handshake(self) -> None:
            try:
                super().do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise
            except ssl.SSLError as error:
                observer(*classify(error))
                raise

    context.sslobject_class = ObservedSSLObject
