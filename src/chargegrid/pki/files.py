"""The certificate authority's directory: reading and writing its PEM files.

::

    ca.pem, ca.key                  the CSMS root CA (signs server and charger certificates)
    server.pem, server.key          TLS server certificate, RSA 2048 (RSA cipher suites;
                                    OCPP-J 1.6 section 6.2.1 asks for an RSA certificate)
    server-ecdsa.pem, server-ecdsa.key
                                    TLS server certificate, ECDSA P-256 (ECDHE-ECDSA suites)

Private keys are written unencrypted with mode 0600: protect the directory.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from cryptography import x509

from chargegrid.pki.certificates import (
    Authority,
    KeyKind,
    PrivateKey,
    create_authority,
    describe,
    generate_key,
    issue_server_certificate,
    issued_by,
    load_certificate,
    load_private_key,
    private_key_pem,
    public_keys_match,
)
from chargegrid.pki.certificates import certificate_pem as to_pem
from chargegrid.values import immutable

CA_DAYS = 3650


class PkiError(Exception):
    """The directory cannot be used as asked (message for the operator)."""


@immutable
class PkiLayout:
    """Where each file of a certificate authority directory lives."""

    directory: Path

    @property
    def ca_certificate(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def server_certificate(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    @property
    def server_ecdsa_certificate(self) -> Path:
        return self.directory / "server-ecdsa.pem"

    @property
    def server_ecdsa_key(self) -> Path:
        return self.directory / "server-ecdsa.key"

    def server_pairs(self) -> tuple[tuple[Path, Path, KeyKind], ...]:
        return (
            (self.server_certificate, self.server_key, KeyKind.RSA),
            (self.server_ecdsa_certificate, self.server_ecdsa_key, KeyKind.EC),
        )

    def settings(self) -> dict[str, str]:
        """The ``CHARGEGRID_*`` values that use these files."""
        return {
            "CHARGEGRID_TLS_CERT": str(self.server_certificate.resolve()),
            "CHARGEGRID_TLS_KEY": str(self.server_key.resolve()),
            "CHARGEGRID_TLS_ALT_CERT": str(self.server_ecdsa_certificate.resolve()),
            "CHARGEGRID_TLS_ALT_KEY": str(self.server_ecdsa_key.resolve()),
            "CHARGEGRID_TLS_CLIENT_CA": str(self.ca_certificate.resolve()),
            "CHARGEGRID_PKI_DIR": str(self.directory.resolve()),
        }


@immutable
class InitResult:
    layout: PkiLayout
    created_authority: bool
    created_server_certificates: bool


def write_private_key(path: Path, key: PrivateKey) -> None:
    """Write a key readable by its owner only (mode 0600, also when replacing a file)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(private_key_pem(key))


def write_certificate(path: Path, certificate: x509.Certificate) -> None:
    path.write_text(to_pem(certificate))


def read_authority(directory: Path) -> Authority | None:
    """The CA of ``directory``; None when it has none; ``PkiError`` when it is unusable."""
    layout = PkiLayout(directory)
    have_certificate = layout.ca_certificate.is_file()
    have_key = layout.ca_key.is_file()
    if not have_certificate and not have_key:
        return None
    if not (have_certificate and have_key):
        raise PkiError(f"{directory} holds only half a CA: ca.pem and ca.key belong together")
    try:
        certificate = load_certificate(layout.ca_certificate.read_bytes())
        key = load_private_key(layout.ca_key.read_bytes())
    except ValueError as error:
        raise PkiError(f"unreadable CA in {directory}: {error}") from None
    if not public_keys_match(key, certificate):
        raise PkiError(f"{layout.ca_key} is not the key of {layout.ca_certificate}")
    return Authority(certificate, key)


def init_pki(
    directory: Path,
    *,
    host: str,
    organization: str,
    now: datetime,
    server_days: int,
    force: bool = False,
) -> InitResult:
    """Create a CA (unless there is one) and server certificates for ``host``.

    Running it again with the same host changes nothing. Server certificates for
    another host, or from another CA, are replaced only with ``force``. An existing CA
    is never replaced: every charger certificate it signed depends on it (to start a
    new CA, delete ``ca.pem`` and ``ca.key`` yourself).
    """
    layout = PkiLayout(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    authority = read_authority(directory)
    created_authority = authority is None
    if authority is None:
        authority = create_authority(
            generate_key(KeyKind.EC),
            common_name=f"{organization} CSMS root CA",
            organization=organization,
            now=now,
            days=CA_DAYS,
        )
        write_private_key(layout.ca_key, authority.key)
        write_certificate(layout.ca_certificate, authority.certificate)
    problem = _server_problem(layout, authority, host, now)
    if problem is None:
        return InitResult(layout, created_authority, created_server_certificates=False)
    existing = [p for pair in layout.server_pairs() for p in pair[:2] if p.exists()]
    if existing and not force:
        raise PkiError(f"{problem}; use --force to replace the server certificates")
    for certificate_path, key_path, kind in layout.server_pairs():
        key = generate_key(kind)
        certificate = issue_server_certificate(
            authority,
            key.public_key(),
            host=host,
            organization=organization,
            now=now,
            days=server_days,
        )
        write_private_key(key_path, key)
        write_certificate(certificate_path, certificate)
    return InitResult(layout, created_authority, created_server_certificates=True)


def _server_problem(
    layout: PkiLayout, authority: Authority, host: str, now: datetime
) -> str | None:
    """Why the server certificates must be (re)made, or None when they are in place."""
    for certificate_path, key_path, _ in layout.server_pairs():
        if not (certificate_path.is_file() and key_path.is_file()):
            return f"{certificate_path.name} or {key_path.name} is missing"
        try:
            certificate = load_certificate(certificate_path.read_bytes())
            key = load_private_key(key_path.read_bytes())
        except ValueError:
            return f"{certificate_path.name} or {key_path.name} is unreadable"
        if not public_keys_match(key, certificate):
            return f"{key_path.name} is not the key of {certificate_path.name}"
        if not issued_by(certificate, authority.certificate):
            return f"{certificate_path.name} was not issued by this CA"
        info = describe(certificate)
        if info.common_name != host:
            return f"{certificate_path.name} is for {info.common_name!r}, not {host!r}"
        if info.not_after <= now:
            return f"{certificate_path.name} expired on {info.not_after:%Y-%m-%d}"
    return None
