"""Certificate signing requests from chargers, for every OCPP version.

A CSR that passes the checks is answered Accepted; once that answer is committed and
sent, CertificateSigned carries the certificate issued by the CSMS CA (the directory
``CHARGEGRID_PKI_DIR``, see ``chargegrid pki init``). Without a CA every request is
recorded and answered Rejected.
"""

from __future__ import annotations

import logging
from pathlib import Path

from chargegrid.domain.services.certificates import CertificateUse, sign_request
from chargegrid.gateway.connection import (
    CallRejected,
    CallTimeout,
    ChargerConnection,
    ChargerUnavailable,
    FollowUp,
)
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.ocpp.v16 import messages as m16
from chargegrid.ocpp.v201 import messages as m201
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.pki.certificates import Authority
from chargegrid.pki.files import PkiError, PkiLayout, read_authority

logger = logging.getLogger(__name__)


async def handle_csr(ctx: HandlerContext, *, csr: str, certificate_type: str | None) -> bool:
    """Check, sign and record a charger's CSR; True when CertificateSigned follows.

    ``certificate_type`` is 2.0.1's ``certificateType`` (1.6 has none: its CSRs are for
    the charger's own certificate).
    """
    use = (
        CertificateUse.V2G
        if certificate_type == "V2GCertificate"
        else CertificateUse.CHARGING_STATION
    )
    outcome = await sign_request(
        ctx.conn,
        ctx.charger_id,
        csr=csr,
        use=use,
        authority=_authorities.get(ctx.settings.pki_dir),
        organization=ctx.settings.tls_client_organization,
        validity_days=ctx.settings.pki_cert_days,
        now=ctx.now,
    )
    if outcome.certificate_pem is None or outcome.info is None:
        logger.warning("rejected the CSR of charger %s: %s", ctx.charger_id, outcome.reason)
        return False
    logger.info(
        "issued certificate %s to charger %s (valid until %s)",
        outcome.info.serial_number,
        ctx.charger_id,
        outcome.info.not_after.isoformat(),
    )
    ctx.after_reply(_certificate_signed(ctx.version, outcome.certificate_pem))
    return True


def _certificate_signed(version: OcppVersion, chain: str) -> FollowUp:
    """Send the charger its certificate (it trusts the CA already: no root in the chain)."""

    async def send(connection: ChargerConnection) -> None:
        request: m16.CertificateSignedRequest | m201.CertificateSignedRequest
        if version is OcppVersion.V16:
            request = m16.CertificateSignedRequest(certificate_chain=chain)
        else:
            request = m201.CertificateSignedRequest(
                certificate_chain=chain, certificate_type="ChargingStationCertificate"
            )
        try:
            response = await connection.call("CertificateSigned", request)
        except (CallTimeout, CallRejected, ChargerUnavailable) as error:
            logger.warning(
                "CertificateSigned to charger %s failed: %s", connection.charger_id, error
            )
            return
        status = getattr(response, "status", None)
        log = logger.info if status == "Accepted" else logger.warning
        log("charger %s answered CertificateSigned: %s", connection.charger_id, status)

    return send


class _AuthorityCache:
    """The CA of a directory, read again only when its files change."""

    def __init__(self) -> None:
        self._key: tuple[Path, tuple[int, ...]] | None = None
        self._authority: Authority | None = None

    def get(self, directory: Path) -> Authority | None:
        layout = PkiLayout(directory)
        try:
            stamps = tuple(p.stat().st_mtime_ns for p in (layout.ca_certificate, layout.ca_key))
        except OSError:
            return None
        key = (directory, stamps)
        if key != self._key:
            try:
                self._authority = read_authority(directory)
            except (PkiError, OSError) as error:
                logger.error("the certificate authority in %s is unusable: %s", directory, error)
                self._authority = None
            self._key = key
        return self._authority


_authorities = _AuthorityCache()
