"""Certificate signing requests from chargers, for every OCPP version."""

from __future__ import annotations

from chargegrid.domain.services import chargers
from chargegrid.gateway.handlers import HandlerContext


async def handle_csr(ctx: HandlerContext, *, csr: str, certificate_type: str | None) -> bool:
    """Record a charger's CSR; True when it will be signed (CertificateSigned follows).

    No certificate authority is configured, so every request is kept and refused.
    """
    await chargers.record_certificate_request(
        ctx.conn,
        ctx.charger_id,
        csr=csr,
        certificate_type=certificate_type,
        accepted=False,
        now=ctx.now,
    )
    return False
