"""The CSMS certificate authority's certificates: extensions, names, validity, keys."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chargegrid.pki.certificates import (
    CLOCK_SKEW,
    Authority,
    KeyKind,
    certificate_pem,
    create_authority,
    describe,
    generate_key,
    issue_client_certificate,
    issue_server_certificate,
    issued_by,
    key_strength_problem,
    load_certificate,
    load_private_key,
    private_key_pem,
    public_keys_match,
)
from tests.certs import Issuer, ec_key, rsa_key

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def authority() -> Authority:
    return create_authority(
        generate_key(KeyKind.EC),
        common_name="Acme CSMS CA",
        organization="Acme",
        now=NOW,
        days=3650,
    )


def extension(
    certificate: x509.Certificate, kind: type[x509.ExtensionType]
) -> x509.Extension[x509.ExtensionType]:
    return certificate.extensions.get_extension_for_class(kind)


def test_the_authority_is_a_self_signed_ca_for_end_entities(authority: Authority) -> None:
    ca = authority.certificate
    assert ca.subject == ca.issuer
    assert issued_by(ca, ca)
    constraints = extension(ca, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value == x509.BasicConstraints(ca=True, path_length=0)
    usage = extension(ca, x509.KeyUsage).value
    assert isinstance(usage, x509.KeyUsage)
    assert usage.key_cert_sign
    assert usage.crl_sign
    info = describe(ca)
    assert (info.common_name, info.organization) == ("Acme CSMS CA", "Acme")
    assert info.not_before == NOW - CLOCK_SKEW
    assert info.not_after == NOW + timedelta(days=3650)
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert ca.signature_hash_algorithm is not None
    assert ca.signature_hash_algorithm.name == "sha256"


@pytest.mark.parametrize(
    ("host", "alt_name"),
    [
        ("csms.example.com", x509.DNSName("csms.example.com")),
        ("127.0.0.1", x509.IPAddress(ipaddress.ip_address("127.0.0.1"))),
        ("::1", x509.IPAddress(ipaddress.ip_address("::1"))),
    ],
)
def test_a_server_certificate_names_its_host(
    authority: Authority, host: str, alt_name: x509.GeneralName
) -> None:
    key = generate_key(KeyKind.EC)
    certificate = issue_server_certificate(
        authority, key.public_key(), host=host, organization="Acme", now=NOW, days=365
    )
    info = describe(certificate)
    assert (info.common_name, info.organization) == (host, "Acme")
    san = extension(certificate, x509.SubjectAlternativeName).value
    assert isinstance(san, x509.SubjectAlternativeName)
    assert list(san) == [alt_name]
    eku = extension(certificate, x509.ExtendedKeyUsage).value
    assert isinstance(eku, x509.ExtendedKeyUsage)
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert issued_by(certificate, authority.certificate)
    assert public_keys_match(key, certificate)


def test_an_rsa_server_certificate_allows_key_encipherment(authority: Authority) -> None:
    """The TLS_RSA_* suites encrypt the premaster secret with the server's key."""
    rsa_certificate = issue_server_certificate(
        authority,
        generate_key(KeyKind.RSA).public_key(),
        host="h",
        organization="Acme",
        now=NOW,
        days=1,
    )
    ec_certificate = issue_server_certificate(
        authority,
        generate_key(KeyKind.EC).public_key(),
        host="h",
        organization="Acme",
        now=NOW,
        days=1,
    )
    rsa_usage = extension(rsa_certificate, x509.KeyUsage).value
    ec_usage = extension(ec_certificate, x509.KeyUsage).value
    assert isinstance(rsa_usage, x509.KeyUsage)
    assert isinstance(ec_usage, x509.KeyUsage)
    assert rsa_usage.key_encipherment
    assert rsa_usage.digital_signature
    assert not ec_usage.key_encipherment
    assert ec_usage.digital_signature


def test_a_client_certificate_is_for_tls_clients_only(authority: Authority) -> None:
    key = ec_key()
    certificate = issue_client_certificate(
        authority, key.public_key(), common_name="CP-1", organization="Acme", now=NOW, days=365
    )
    info = describe(certificate)
    assert (info.common_name, info.organization) == ("CP-1", "Acme")
    assert info.not_before == NOW - CLOCK_SKEW
    assert info.not_after == NOW + timedelta(days=365)
    eku = extension(certificate, x509.ExtendedKeyUsage).value
    assert isinstance(eku, x509.ExtendedKeyUsage)
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert extension(certificate, x509.BasicConstraints).value == x509.BasicConstraints(
        ca=False, path_length=None
    )
    with pytest.raises(x509.ExtensionNotFound):  # A00.FR.511: no dnsName SAN
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    aki = extension(certificate, x509.AuthorityKeyIdentifier).value
    ski = extension(authority.certificate, x509.SubjectKeyIdentifier).value
    assert isinstance(aki, x509.AuthorityKeyIdentifier)
    assert isinstance(ski, x509.SubjectKeyIdentifier)
    assert aki.key_identifier == ski.digest
    assert issued_by(certificate, authority.certificate)
    assert not issued_by(certificate, Issuer.create().certificate)


def test_serial_numbers_are_random_and_positive(authority: Authority) -> None:
    key = ec_key().public_key()
    serials = {
        issue_client_certificate(
            authority, key, common_name="CP-1", organization=None, now=NOW, days=1
        ).serial_number
        for _ in range(20)
    }
    assert len(serials) == 20
    assert all(0 < serial < 2**159 for serial in serials)


def test_no_certificate_outlives_its_authority() -> None:
    short = create_authority(
        generate_key(KeyKind.EC), common_name="CA", organization="Acme", now=NOW, days=10
    )
    certificate = issue_client_certificate(
        short, ec_key().public_key(), common_name="CP-1", organization=None, now=NOW, days=365
    )
    assert certificate.not_valid_after_utc == short.certificate.not_valid_after_utc


def test_a_client_certificate_without_organization_has_only_a_cn(authority: Authority) -> None:
    certificate = issue_client_certificate(
        authority, ec_key().public_key(), common_name="CP-1", organization=None, now=NOW, days=1
    )
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) == []
    assert describe(certificate).subject == "CN=CP-1"


def test_describe_gives_hex_serial_and_fingerprint(authority: Authority) -> None:
    info = describe(authority.certificate)
    assert int(info.serial_number, 16) == authority.certificate.serial_number
    assert len(info.fingerprint_sha256) == 64
    assert info.fingerprint_sha256 == info.fingerprint_sha256.lower()


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (rsa_key(2048).public_key(), None),
        (rsa_key(3072).public_key(), None),
        (rsa_key(1024).public_key(), "RSA key of 1024 bits; at least 2048 are required"),
        (ec_key(ec.SECP256R1()).public_key(), None),
        (ec_key(ec.SECP384R1()).public_key(), None),
        (ec_key(ec.SECP224R1()).public_key(), "elliptic curve key of 224 bits"),
        (ed25519.Ed25519PrivateKey.generate().public_key(), "unsupported key type"),
    ],
)
def test_key_strength(key: object, problem: str | None) -> None:
    found = key_strength_problem(key)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)


def test_pem_round_trips(authority: Authority) -> None:
    assert (
        load_certificate(certificate_pem(authority.certificate).encode()) == authority.certificate
    )
    key = load_private_key(private_key_pem(authority.key))
    assert public_keys_match(key, authority.certificate)
    assert not public_keys_match(generate_key(KeyKind.EC), authority.certificate)
    with pytest.raises(ValueError, match="unsupported private key type"):
        load_private_key(
            private_key_pem(ed25519.Ed25519PrivateKey.generate())  # type: ignore[arg-type]
        )
    assert isinstance(generate_key(KeyKind.RSA), rsa.RSAPrivateKey)
