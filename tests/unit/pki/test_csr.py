"""What makes a charger's CSR signable: format, signature, key, subject."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from chargegrid.pki.csr import CsrRejected, check_csr
from tests.certs import Issuer, csr_pem, ec_key, name, rsa_key, sha1_csr_pem


def rejected(pem: str, *, charger_id: str = "CP-1", organization: str | None = None) -> str:
    with pytest.raises(CsrRejected) as caught:
        check_csr(pem, charger_id=charger_id, organization=organization)
    return caught.value.reason


def test_a_good_ec_csr_is_accepted() -> None:
    key = ec_key()
    checked = check_csr(csr_pem(key, name("CP-1", "Acme")), charger_id="CP-1", organization=None)
    assert (checked.common_name, checked.organization) == ("CP-1", "Acme")
    assert isinstance(checked.public_key, ec.EllipticCurvePublicKey)
    assert checked.public_key.public_numbers() == key.public_key().public_numbers()


def test_a_good_rsa_csr_with_the_required_organization_is_accepted() -> None:
    pem = csr_pem(rsa_key(2048), name("CP-1", "Acme"), hashes.SHA384())
    checked = check_csr(pem, charger_id="CP-1", organization="Acme")
    assert isinstance(checked.public_key, rsa.RSAPublicKey)
    assert checked.organization == "Acme"


def test_surrounding_whitespace_is_fine() -> None:
    pem = "\n  " + csr_pem(ec_key(), name("CP-1")) + "\n\n"
    assert check_csr(pem, charger_id="CP-1", organization=None).common_name == "CP-1"


@pytest.mark.parametrize(
    "pem",
    [
        "",
        "garbage",
        "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
        "-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64.b64encode(b"\x30\x03\x02\x01\x01").decode()
        + "\n-----END CERTIFICATE REQUEST-----\n",
    ],
)
def test_garbage_is_rejected(pem: str) -> None:
    assert rejected(pem) == "not a PEM encoded certificate signing request"


def test_a_certificate_is_not_a_csr() -> None:
    certificate = Issuer.create().certificate
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    assert rejected(pem) == "not a PEM encoded certificate signing request"


def test_a_tampered_csr_is_rejected() -> None:
    """A CSR whose subject was changed after signing: the signature no longer verifies."""
    der = bytearray(
        x509.load_pem_x509_csr(csr_pem(ec_key(), name("CP-1")).encode()).public_bytes(
            serialization.Encoding.DER
        )
    )
    at = der.index(b"CP-1")
    der[at : at + 4] = b"CP-2"
    pem = (
        "-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64.encodebytes(bytes(der)).decode()
        + "-----END CERTIFICATE REQUEST-----\n"
    )
    assert "does not verify" in rejected(pem, charger_id="CP-2")


def test_a_weak_signature_hash_is_rejected() -> None:
    pem = sha1_csr_pem(rsa_key(2048), name("CP-1"))
    assert rejected(pem) == "signature hash sha1; SHA-256 or stronger is required"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (rsa_key(1024), "RSA key of 1024 bits; at least 2048 are required"),
        (ec_key(ec.SECP224R1()), "elliptic curve key of 224 bits (secp224r1)"),
    ],
)
def test_weak_keys_are_rejected(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, reason: str
) -> None:
    assert rejected(csr_pem(key, name("CP-1"))).startswith(reason)


def test_keys_other_than_rsa_and_ecdsa_are_rejected() -> None:
    """The OCPP cipher suites authenticate with RSA or ECDSA keys only."""
    pem = csr_pem(ed25519.Ed25519PrivateKey.generate(), name("CP-1"))
    assert rejected(pem) == (
        "unsupported key type Ed25519PublicKey; RSA or ECDSA keys are required"
    )


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        (name("CP-2"), "subject CN 'CP-2' is not the charger id 'CP-1'"),
        (name("cp-1"), "subject CN 'cp-1' is not the charger id 'CP-1'"),
        (name(None, "Acme"), "the subject must contain exactly one CN"),
        (
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "CP-1"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "CP-2"),
                ]
            ),
            "the subject must contain exactly one CN",
        ),
    ],
)
def test_the_cn_must_be_the_charger_id(subject: x509.Name, reason: str) -> None:
    assert rejected(csr_pem(ec_key(), subject)) == reason


@pytest.mark.parametrize(
    ("organization", "reason"),
    [
        ("Other", "subject O 'Other' is not the required organization 'Acme'"),
        (None, "subject O None is not the required organization 'Acme'"),
    ],
)
def test_the_organization_is_checked_when_required(organization: str | None, reason: str) -> None:
    pem = csr_pem(ec_key(), name("CP-1", organization))
    assert rejected(pem, organization="Acme") == reason
