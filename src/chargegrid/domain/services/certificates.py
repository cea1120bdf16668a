"""Charger certificates: checking signing requests and issuing from the CSMS CA."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.pki.certificates import (
    Authority,
    CertificateInfo,
    certificate_pem,
    describe,
    issue_client_certificate,
)
from chargegrid.pki.csr import CsrRejected, check_csr
from chargegrid.storage.repositories import certificates as repo
from chargegrid.values import immutable


class CertificateUse(StrEnum):
    """What a charger wants a certificate for."""

    CHARGING_STATION = "ChargingStationCertificate"  # its TLS client certificate (profile 3)
    V2G = "V2GCertificate"  # ISO 15118 communication with vehicles


@immutable
class SigningOutcome:
    """The answer to a signing request: a certificate, or the reason there is none."""

    certificate_pem: str | None
    info: CertificateInfo | None
    reason: str | None

    @property
    def accepted(self) -> bool:
        return self.certificate_pem is not None


async def sign_request(
    conn: AsyncConnection,
    charger_id: str,
    *,
    csr: str,
    use: CertificateUse,
    authority: Authority | None,
    organization: str | None,
    validity_days: int,
    now: datetime,
) -> SigningOutcome:
    """Check a charger's CSR, issue a certificate from ``authority`` and record both.

    V2G certificates are refused: a vehicle trusts the V2G root of ISO 15118, so such a
    certificate must come from the V2G PKI (the CPO sub-CA), not from this CSMS's CA.
    """
    outcome = _decide(charger_id, csr, use, authority, organization, validity_days, now)
    request_id = await repo.add_request(
        conn,
        charger_id=charger_id,
        csr=csr,
        certificate_type=use.value,
        status="accepted" if outcome.accepted else "rejected",
        reason=outcome.reason,
        received_at=now,
    )
    if outcome.certificate_pem is not None and outcome.info is not None:
        await repo.add_certificate(
            conn,
            charger_id=charger_id,
            request_id=request_id,
            certificate_type=use.value,
            serial_number=outcome.info.serial_number,
            fingerprint_sha256=outcome.info.fingerprint_sha256,
            subject=outcome.info.subject,
            not_before=outcome.info.not_before,
            not_after=outcome.info.not_after,
            certificate=outcome.certificate_pem,
            issued_at=now,
        )
    return outcome


def _decide(
    charger_id: str,
    csr: str,
    use: CertificateUse,
    authority: Authority | None,
    organization: str | None,
    validity_days: int,
    now: datetime,
) -> SigningOutcome:
    if use is CertificateUse.V2G:
        return SigningOutcome(None, None, "V2G certificates are issued by the V2G PKI")
    if authority is None:
        return SigningOutcome(None, None, "no certificate authority is configured")
    try:
        request = check_csr(csr, charger_id=charger_id, organization=organization)
    except CsrRejected as rejected:
        return SigningOutcome(None, None, rejected.reason)
    certificate = issue_client_certificate(
        authority,
        request.public_key,
        common_name=request.common_name,
        organization=request.organization,
        now=now,
        days=validity_days,
    )
    return SigningOutcome(certificate_pem(certificate), describe(certificate), None)
