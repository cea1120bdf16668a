"""Checks of a charger's certificate signing request before the CSMS signs it (pure)."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from chargegrid.pki.certificates import PublicKey, key_strength_problem, name_value
from chargegrid.values import immutable

# Signature hashes accepted on a CSR (A00.FR.504/506: SHA-256 or stronger).
STRONG_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)


class CsrRejected(Exception):
    """The CSR is not signed; ``reason`` says why (it is recorded and logged)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@immutable
class CheckedRequest:
    """What a certificate is issued for, once the CSR passed every check."""

    public_key: PublicKey
    common_name: str
    organization: str | None


def check_csr(pem: str, *, charger_id: str, organization: str | None) -> CheckedRequest:
    """Parse and check a PEM CSR (RFC 2986) from ``charger_id``; ``CsrRejected`` if bad.

    The CSR's key must be RSA of at least 2048 bits or ECDSA of at least 256; its
    self-signature valid and over SHA-256 or stronger; its subject exactly one CN equal
    to the charger id (A00.FR.511) and, when ``organization`` is given, that O (the CPO
    name of A02.FR.13).
    """
    try:
        request = x509.load_pem_x509_csr(pem.strip().encode())
    except ValueError:
        raise CsrRejected("not a PEM encoded certificate signing request") from None
    try:
        public_key = request.public_key()
        signature_valid = request.is_signature_valid
        digest = request.signature_hash_algorithm
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise CsrRejected(f"unusable certificate signing request: {error}") from None
    problem = key_strength_problem(public_key)
    if problem is not None or not isinstance(
        public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    ):
        raise CsrRejected(problem or "RSA or ECDSA keys are required")
    if not isinstance(digest, STRONG_HASHES):
        name = "none" if digest is None else digest.name
        raise CsrRejected(f"signature hash {name}; SHA-256 or stronger is required")
    if not signature_valid:
        raise CsrRejected("the signature of the certificate signing request does not verify")
    common_names = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(common_names) != 1:
        raise CsrRejected("the subject must contain exactly one CN")
    common_name = name_value(request.subject, NameOID.COMMON_NAME)
    if common_name is None or common_name != charger_id:
        raise CsrRejected(f"subject CN {common_name!r} is not the charger id {charger_id!r}")
    found_organization = name_value(request.subject, NameOID.ORGANIZATION_NAME)
    if organization is not None and found_organization != organization:
        raise CsrRejected(
            f"subject O {found_organization!r} is not the required organization {organization!r}"
        )
    return CheckedRequest(public_key, common_name, found_organization)
