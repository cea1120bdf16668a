"""The certificates of a simulated charger: installed roots, its own key and CSR."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chargegrid.pki.certificates import KeyKind, generate_key, public_keys_match, subject
from chargegrid.values import immutable

HASH_ALGORITHM = "SHA256"


@immutable
class HashData:
    """How OCPP names a certificate: hashes of its issuer's name and key, its serial."""

    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    algorithm: str = HASH_ALGORITHM


@immutable
class InstalledCertificate:
    use: str  # the certificate type of the version that installed it
    hash: HashData


def hash_data(pem: str) -> HashData | None:
    """The hash data of the first certificate of a PEM text; None if it is not one."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.strip().encode())
    except ValueError:
        return None
    # The issuer's key is this certificate's own for a self-signed root, the usual case.
    key = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return HashData(
        issuer_name_hash=hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
        issuer_key_hash=hashlib.sha256(key).hexdigest(),
        serial_number=format(certificate.serial_number, "x"),
    )


def install(store: list[InstalledCertificate], use: str, pem: str) -> bool:
    """Install a certificate of type ``use``; False if the text is not a certificate."""
    found = hash_data(pem)
    if found is None:
        return False
    store[:] = [c for c in store if c.hash != found]
    store.append(InstalledCertificate(use, found))
    return True


def delete(store: list[InstalledCertificate], wanted: HashData) -> bool:
    """Remove the certificate with these hashes; False if none is installed."""
    kept = [c for c in store if not _same(c.hash, wanted)]
    found = len(kept) != len(store)
    store[:] = kept
    return found


def _same(a: HashData, b: HashData) -> bool:
    return (
        a.issuer_name_hash.lower() == b.issuer_name_hash.lower()
        and a.issuer_key_hash.lower() == b.issuer_key_hash.lower()
        and a.serial_number.lower().lstrip("0") == b.serial_number.lower().lstrip("0")
    )


def signing_request(
    charger_id: str, organization: str | None
) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A new key of the charger and a PEM CSR for it (CN: the charger id)."""
    key = generate_key(KeyKind.EC)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject(charger_id, organization))
        .sign(key, hashes.SHA256())
    )
    return key, request.public_bytes(serialization.Encoding.PEM).decode()


def accepts_chain(key: ec.EllipticCurvePrivateKey | None, chain: str) -> bool:
    """Whether a signed certificate chain is for the key of the last CSR."""
    try:
        certificate = x509.load_pem_x509_certificate(chain.strip().encode())
    except ValueError:
        return False
    return key is not None and public_keys_match(key, certificate)
