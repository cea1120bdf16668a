"""SignCertificate: a charger's CSR comes back as a certificate of the CSMS CA, and works."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call, call_result
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as call_result201

from tests.certs import Key, csr_pem, ec_key, name, rsa_key, write_pair
from tests.integration.conftest import start_server
from tests.integration.harness import query
from tests.integration.ocpp201 import boot as boot201
from tests.integration.tls import ORGANIZATION, PASSWORD, TlsServer, tls_server

sqlite_only = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)


class Charger16(ChargePoint16):  # type: ignore[misc]
    """A 1.6 charger that keeps the certificates it is sent and accepts them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed: asyncio.Queue[str] = asyncio.Queue()

    @on("CertificateSigned")  # type: ignore[untyped-decorator]
    async def on_certificate_signed(self, certificate_chain: str) -> Any:
        await self.signed.put(certificate_chain)
        return call_result.CertificateSigned(status="Accepted")


class Charger201(ChargePoint201):  # type: ignore[misc]
    """A 2.0.1 charger that keeps the certificates (and their type) it is sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()

    @on("CertificateSigned")  # type: ignore[untyped-decorator]
    async def on_certificate_signed(
        self, certificate_chain: str, certificate_type: str | None = None, **_: Any
    ) -> Any:
        await self.signed.put((certificate_chain, certificate_type))
        return call_result201.CertificateSigned(status="Accepted")


@pytest.fixture
def tls(empty_database_url: str, tmp_path: Path) -> Iterator[TlsServer]:
    with tls_server(
        empty_database_url, tmp_path, CHARGEGRID_TLS_CLIENT_ORGANIZATION=ORGANIZATION
    ) as server:
        yield server


def check_issued(tls: TlsServer, chain: str, charger_id: str, key: Key) -> x509.Certificate:
    """The chain is one certificate, for this charger's key, valid under the CSMS CA."""
    certificates = x509.load_pem_x509_certificates(chain.encode())
    assert len(certificates) == 1
    leaf = certificates[0]
    ca = tls.issuer().certificate
    leaf.verify_directly_issued_by(ca)  # raises unless the CSMS CA signed it
    assert leaf.issuer == ca.subject
    now = datetime.now(UTC)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    assert leaf.public_key().public_bytes(der, spki) == key.public_key().public_bytes(der, spki)
    assert leaf.subject == name(charger_id, ORGANIZATION)
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert lifetime == timedelta(days=365, minutes=5)
    assert abs(leaf.not_valid_before_utc + timedelta(minutes=5) - now) < timedelta(minutes=1)
    return leaf


async def recorded(
    tls: TlsServer, charger_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    url = tls.process.database_url
    requests = await query(
        url,
        "SELECT id, certificate_type, status, reason FROM certificate_requests "
        "WHERE charger_id = :c ORDER BY id",
        c=charger_id,
    )
    issued = await query(
        url,
        "SELECT request_id, certificate_type, serial_number, fingerprint_sha256, subject, "
        "not_after, certificate FROM certificates WHERE charger_id = :c ORDER BY id",
        c=charger_id,
    )
    return requests, issued


async def certificate_signed_answers(
    tls: TlsServer, charger_id: str, *, wait: bool = True
) -> list[Any]:
    """The charger's answers to our CertificateSigned CALLs, from the message log
    (with ``wait``: once there is at least one and all are answered)."""
    for _ in range(50):
        rows = await query(
            tls.process.database_url,
            "SELECT response FROM message_log WHERE charger_id = :c AND direction = 'out' "
            "AND action = 'CertificateSigned'",
            c=charger_id,
        )
        if not wait or (rows and all(row["response"] is not None for row in rows)):
            break
        await asyncio.sleep(0.1)
    return [None if r["response"] is None else json.loads(r["response"]) for r in rows]


def check_record(
    requests: list[dict[str, Any]], issued: list[dict[str, Any]], leaf: x509.Certificate
) -> None:
    assert [(r["certificate_type"], r["status"], r["reason"]) for r in requests] == [
        ("ChargingStationCertificate", "accepted", None)
    ]
    assert len(issued) == 1
    row = issued[0]
    assert row["request_id"] == requests[0]["id"]
    assert row["certificate_type"] == "ChargingStationCertificate"
    assert int(row["serial_number"], 16) == leaf.serial_number
    assert bytes.fromhex(row["fingerprint_sha256"]) == leaf.fingerprint(hashes.SHA256())
    assert row["subject"] == leaf.subject.rfc4514_string()
    assert x509.load_pem_x509_certificate(row["certificate"].encode()) == leaf


async def test_a_16_csr_comes_back_signed_and_the_certificate_reaches_profile_3(
    tls: TlsServer,
) -> None:
    await tls.process.register_charger("CP-SIGN", PASSWORD, security_profile=2)
    key = ec_key()
    async with tls.charger(Charger16, "CP-SIGN", password=PASSWORD) as charger:
        answer = await charger.call(
            call.SignCertificate(csr=csr_pem(key, name("CP-SIGN", ORGANIZATION)))
        )
        assert answer.status == "Accepted"
        chain = await asyncio.wait_for(charger.signed.get(), 10)
        # Connected until the CSMS has the charger's answer.
        assert await certificate_signed_answers(tls, "CP-SIGN") == [{"status": "Accepted"}]
    leaf = check_issued(tls, chain, "CP-SIGN", key)
    check_record(*await recorded(tls, "CP-SIGN"), leaf)

    # The new certificate is the charger's profile 3 credential: no password needed.
    pair = write_pair(tls.certificates, "cp-sign", leaf, key)
    async with tls.charger(ChargePoint16, "CP-SIGN", certificate=pair) as charger:
        boot = await charger.call(
            call.BootNotification(charge_point_model="M1", charge_point_vendor="Acme")
        )
        assert boot.status == "Accepted"
    assert "issued certificate" in tls.process.log()


@sqlite_only
async def test_a_201_csr_comes_back_signed_with_its_type(tls: TlsServer) -> None:
    await tls.process.register_charger("CP-SIGN-2", PASSWORD, security_profile=2)
    key = rsa_key(2048)
    async with tls.charger(Charger201, "CP-SIGN-2", password=PASSWORD) as charger:
        answer = await charger.call(
            call201.SignCertificate(
                csr=csr_pem(key, name("CP-SIGN-2", ORGANIZATION)),
                certificate_type="ChargingStationCertificate",
            )
        )
        assert answer.status == "Accepted"
        chain, certificate_type = await asyncio.wait_for(charger.signed.get(), 10)
        assert await certificate_signed_answers(tls, "CP-SIGN-2") == [{"status": "Accepted"}]
    assert certificate_type == "ChargingStationCertificate"
    leaf = check_issued(tls, chain, "CP-SIGN-2", key)
    check_record(*await recorded(tls, "CP-SIGN-2"), leaf)

    pair = write_pair(tls.certificates, "cp-sign-2", leaf, key)
    async with tls.charger(ChargePoint201, "CP-SIGN-2", certificate=pair) as charger:
        assert (await charger.call(boot201())).status == "Accepted"


@sqlite_only
async def test_v2g_certificates_are_not_signed_here(tls: TlsServer) -> None:
    await tls.process.register_charger("CP-V2G", PASSWORD, security_profile=2)
    async with tls.charger(Charger201, "CP-V2G", password=PASSWORD) as charger:
        answer = await charger.call(
            call201.SignCertificate(
                csr=csr_pem(ec_key(), name("CP-V2G", ORGANIZATION)),
                certificate_type="V2GCertificate",
            )
        )
        assert answer.status == "Rejected"
        await asyncio.sleep(0.3)
        assert charger.signed.empty()
    requests, issued = await recorded(tls, "CP-V2G")
    assert [(r["certificate_type"], r["status"], r["reason"]) for r in requests] == [
        ("V2GCertificate", "rejected", "V2G certificates are issued by the V2G PKI")
    ]
    assert issued == []


async def test_bad_csrs_are_rejected_and_recorded(tls: TlsServer) -> None:
    await tls.process.register_charger("CP-BAD", PASSWORD, security_profile=2)
    bad = {
        csr_pem(ec_key(), name("CP-OTHER", ORGANIZATION)): (
            "subject CN 'CP-OTHER' is not the charger id 'CP-BAD'"
        ),
        csr_pem(rsa_key(1024), name("CP-BAD", ORGANIZATION)): (
            "RSA key of 1024 bits; at least 2048 are required"
        ),
        "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----": (
            "not a PEM encoded certificate signing request"
        ),
        csr_pem(ec_key(), name("CP-BAD", "Other CPO")): (
            "subject O 'Other CPO' is not the required organization 'Acme CPO'"
        ),
    }
    async with tls.charger(Charger16, "CP-BAD", password=PASSWORD) as charger:
        for csr in bad:
            answer = await charger.call(call.SignCertificate(csr=csr))
            assert answer.status == "Rejected"
        await asyncio.sleep(0.3)
        assert charger.signed.empty()
    requests, issued = await recorded(tls, "CP-BAD")
    assert [(r["status"], r["reason"]) for r in requests] == [
        ("rejected", reason) for reason in bad.values()
    ]
    assert issued == []
    assert await certificate_signed_answers(tls, "CP-BAD", wait=False) == []
    assert "rejected the CSR of charger CP-BAD: RSA key of 1024 bits" in tls.process.log()


@sqlite_only
async def test_without_a_ca_every_csr_is_rejected(empty_database_url: str, tmp_path: Path) -> None:
    server = start_server(empty_database_url, tmp_path, CHARGEGRID_PKI_DIR=str(tmp_path / "no-pki"))
    try:
        await server.register_charger("CP-NOCA", PASSWORD)
        async with server.charger16("CP-NOCA", PASSWORD) as charger:
            answer = await charger.call(
                call.SignCertificate(csr=csr_pem(ec_key(), name("CP-NOCA", ORGANIZATION)))
            )
            assert answer.status == "Rejected"
        rows = await query(
            server.database_url,
            "SELECT status, reason FROM certificate_requests WHERE charger_id = 'CP-NOCA'",
        )
        assert rows == [{"status": "rejected", "reason": "no certificate authority is configured"}]
        assert await query(server.database_url, "SELECT id FROM certificates") == []
    finally:
        assert server.stop() == 0, server.log()
