"""Keys, CSRs and certificates made directly with ``cryptography`` (independent of pki/)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def ec_key(curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(curve or ec.SECP256R1())


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(common_name: str | None, organization: str | None = None) -> x509.Name:
    attributes = []
    if organization is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if common_name is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def csr_pem(
    key: Key | ed25519.Ed25519PrivateKey,
    subject: x509.Name,
    digest: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None,
) -> str:
    """A PEM CSR for ``subject``, signed by ``key``."""
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else digest or hashes.SHA256()
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, algorithm)
    return request.public_bytes(serialization.Encoding.PEM).decode()


def sha1_csr_pem(key: rsa.RSAPrivateKey, subject: x509.Name) -> str:
    """A CSR signed with SHA-1 (``cryptography`` no longer makes those: built by hand)."""

    def tlv(tag: int, content: bytes) -> bytes:
        size = len(content)
        if size < 128:
            length = bytes([size])
        else:
            raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
            length = bytes([0x80 | len(raw)]) + raw
        return bytes([tag]) + length + content

    tbs = x509.load_pem_x509_csr(csr_pem(key, subject).encode()).tbs_certrequest_bytes
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    sha1_with_rsa = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010105")) + b"\x05\x00")
    der = tlv(0x30, tbs + sha1_with_rsa + tlv(0x03, b"\x00" + signature))
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{body}-----END CERTIFICATE REQUEST-----\n"


@dataclass(frozen=True)
class Issuer:
    """A CA that the tests control."""

    certificate: x509.Certificate
    key: Key

    @classmethod
    def create(cls, common_name: str = "Test CA") -> Issuer:
        key = ec_key()
        now = datetime.now(UTC)
        subject = name(common_name, "Test")
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    @classmethod
    def load(cls, certificate: Path, key: Path) -> Issuer:
        loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        return cls(x509.load_pem_x509_certificate(certificate.read_bytes()), loaded)

    def issue(
        self,
        common_name: str,
        *,
        organization: str | None = None,
        key: Key | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> tuple[x509.Certificate, Key]:
        """A client certificate (clientAuth) and its key."""
        key = key or ec_key()
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name(common_name, organization))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(hours=1))
            .not_valid_after(not_after or now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return certificate, key


def write_pair(
    directory: Path, stem: str, certificate: x509.Certificate, key: Key
) -> tuple[Path, Path]:
    """Write ``stem.pem`` and ``stem.key``; returns their paths."""
    certificate_path = directory / f"{stem}.pem"
    key_path = directory / f"{stem}.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path
