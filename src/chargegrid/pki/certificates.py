"""Keys and X.509 certificates of the CSMS certificate authority (pure: pass ``now``).

The choices follow the certificate properties of the OCPP security requirements (OCPP
1.6 security whitepaper edition 2 and OCPP 2.0.1 part 2, A00.FR.501-512):

- keys provide at least 112 bits of security: RSA of 2048 bits or more, elliptic
  curves of 256 bits or more (A00.FR.501-503; 256 rather than the 224 of A00.FR.503
  because A00.FR.504 defers to the BSI recommendations, which ask for 250 bits);
- certificates are signed with ECDSA (A00.FR.505) over SHA-256 (A00.FR.506);
- every certificate has a random serial number (A00.FR.508), an O and a CN in its
  subject (A00.FR.509-511) and a Key Usage extension (A00.FR.512);
- charger certificates carry no subjectAltName (A00.FR.511).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chargegrid.values import immutable

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
# Certificates start a little in the past, so that a charger whose clock is slightly
# behind can use a certificate it has just received (A02.FR.08).
CLOCK_SKEW = timedelta(minutes=5)


class KeyKind(StrEnum):
    """The keys this authority generates."""

    EC = "ec"  # ECDSA on P-256: the ECDHE-ECDSA cipher suites
    RSA = "rsa"  # RSA 2048: the RSA cipher suites, and OCPP-J 1.6 section 6.2.1


@immutable
class Authority:
    """A certificate authority: its certificate and the key that signs with it."""

    certificate: x509.Certificate
    key: PrivateKey


@immutable
class CertificateInfo:
    """What is recorded and checked about a certificate."""

    serial_number: str  # lower-case hex
    fingerprint_sha256: str  # lower-case hex of the DER encoding
    subject: str  # RFC 4514
    common_name: str | None
    organization: str | None
    not_before: datetime
    not_after: datetime


def generate_key(kind: KeyKind) -> PrivateKey:
    if kind is KeyKind.RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
    return ec.generate_private_key(ec.SECP256R1())


def key_strength_problem(key: object) -> str | None:
    """Why a public key is too weak or of an unsupported kind, or None if it is fine."""
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            return f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} are required"
        return None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            return (
                f"elliptic curve key of {key.curve.key_size} bits ({key.curve.name}); "
                f"at least {MIN_EC_BITS} are required"
            )
        return None
    return f"unsupported key type {type(key).__name__}; RSA or ECDSA keys are required"


def name_value(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    """The single value of one attribute of a name; None if absent or repeated."""
    attributes = name.get_attributes_for_oid(oid)
    if len(attributes) != 1:
        return None
    value = attributes[0].value
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def describe(certificate: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        serial_number=format(certificate.serial_number, "x"),
        fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        subject=certificate.subject.rfc4514_string(),
        common_name=name_value(certificate.subject, NameOID.COMMON_NAME),
        organization=name_value(certificate.subject, NameOID.ORGANIZATION_NAME),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def subject(common_name: str, organization: str | None) -> x509.Name:
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def create_authority(
    key: PrivateKey, *, common_name: str, organization: str, now: datetime, days: int
) -> Authority:
    """A self-signed root certificate authority that signs only end-entity certificates."""
    name = subject(common_name, organization)
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(certificate_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    return Authority(builder.sign(key, hashes.SHA256()), key)


def issue_server_certificate(
    authority: Authority,
    public_key: PublicKey,
    *,
    host: str,
    organization: str,
    now: datetime,
    days: int,
) -> x509.Certificate:
    """The CSMS's TLS server certificate: CN = the host name (A00.FR.510) and a SAN."""
    try:
        alt_name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt_name = x509.DNSName(host)
    builder = _end_entity(authority, public_key, subject(host, organization), now, days)
    return (
        builder.add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            _key_usage(key_encipherment=isinstance(public_key, rsa.RSAPublicKey)), critical=True
        )
        .sign(authority.key, hashes.SHA256())
    )


def issue_client_certificate(
    authority: Authority,
    public_key: PublicKey,
    *,
    common_name: str,
    organization: str | None,
    now: datetime,
    days: int,
) -> x509.Certificate:
    """A charger's TLS client certificate (security profile 3); no subjectAltName."""
    builder = _end_entity(authority, public_key, subject(common_name, organization), now, days)
    return (
        builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(_key_usage(), critical=True)
        .sign(authority.key, hashes.SHA256())
    )


def issued_by(certificate: x509.Certificate, authority: x509.Certificate) -> bool:
    """Whether ``authority`` signed ``certificate`` (the signature, not the validity)."""
    try:
        certificate.verify_directly_issued_by(authority)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _end_entity(
    authority: Authority, public_key: PublicKey, name: x509.Name, now: datetime, days: int
) -> x509.CertificateBuilder:
    ca = authority.certificate
    # Nothing the authority signs outlives the authority.
    not_after = min(now + timedelta(days=days), ca.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
    )


def _key_usage(*, certificate_sign: bool = False, key_encipherment: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificate_sign,
        crl_sign=certificate_sign,
        encipher_only=False,
        decipher_only=False,
    )


# PEM ---------------------------------------------------------------------------------


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def private_key_pem(key: PrivateKey) -> bytes:
    """The key in unencrypted PKCS#8 PEM (the file holding it must be private)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_certificate(pem: bytes) -> x509.Certificate:
    """The first certificate of a PEM text; ``ValueError`` if there is none."""
    return x509.load_pem_x509_certificate(pem)


def load_private_key(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def public_keys_match(key: PrivateKey, certificate: x509.Certificate) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return key.public_key().public_bytes(der, spki) == certificate.public_key().public_bytes(
        der, spki
    )
