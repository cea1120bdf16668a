"""OCPP 1.6J: every charger-initiated message, as domain calls.

A 1.6 connector *n* is EVSE *n* with connector 1; connector 0 is the charger itself
(its main meter, for meter values).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime

from chargegrid.domain.clock import as_utc
from chargegrid.domain.model import (
    ENERGY_IMPORT,
    Authorization,
    AuthorizationStatus,
    BootInfo,
    IdIssuer,
    MeterSample,
    StatusReport,
    TransactionEvent,
    TransactionEventKind,
)
from chargegrid.domain.services import authorization, chargers, commands, transactions
from chargegrid.gateway.handlers import (
    Handler,
    HandlerContext,
    IdTokenOf,
    StartsOrEnds,
    TransactionOf,
)
from chargegrid.gateway.handlers.signing import handle_csr
from chargegrid.ocpp.rpc import ErrorKind, RpcError
from chargegrid.ocpp.v16 import messages as m


async def boot_notification(
    ctx: HandlerContext, request: m.BootNotificationRequest
) -> m.BootNotificationResponse:
    decision = await chargers.record_boot(
        ctx.conn,
        ctx.charger_id,
        BootInfo(
            vendor=request.charge_point_vendor,
            model=request.charge_point_model,
            serial_number=request.charge_point_serial_number,
            charge_box_serial_number=request.charge_box_serial_number,
            firmware_version=request.firmware_version,
            iccid=request.iccid,
            imsi=request.imsi,
            meter_type=request.meter_type,
            meter_serial_number=request.meter_serial_number,
        ),
        ocpp_version=ctx.version.value,
        now=ctx.now,
        heartbeat_interval=ctx.settings.heartbeat_interval,
        retry_interval=ctx.settings.boot_retry_interval,
    )
    return m.BootNotificationResponse(
        status=decision.status.value, current_time=ctx.now, interval=decision.interval
    )


async def heartbeat(ctx: HandlerContext, request: m.HeartbeatRequest) -> m.HeartbeatResponse:
    await chargers.record_heartbeat(ctx.conn, ctx.charger_id, ctx.now)
    return m.HeartbeatResponse(current_time=ctx.now)


async def status_notification(
    ctx: HandlerContext, request: m.StatusNotificationRequest
) -> m.StatusNotificationResponse:
    at_charger = request.connector_id == 0
    await chargers.record_status(
        ctx.conn,
        ctx.charger_id,
        StatusReport(
            status=request.status,
            occurred_at=_time(request.timestamp, ctx.now),
            evse_id=None if at_charger else _evse(request.connector_id),
            connector_id=None if at_charger else 1,
            error_code=request.error_code,
            info=request.info,
            vendor_id=request.vendor_id,
            vendor_error_code=request.vendor_error_code,
        ),
        ctx.now,
    )
    return m.StatusNotificationResponse()


async def authorize(ctx: HandlerContext, request: m.AuthorizeRequest) -> m.AuthorizeResponse:
    decision = await authorization.authorize(ctx.conn, request.id_tag, ctx.now)
    return m.AuthorizeResponse(id_tag_info=_id_tag_info(decision))


async def start_transaction(
    ctx: HandlerContext, request: m.StartTransactionRequest
) -> m.StartTransactionResponse:
    if request.connector_id < 1:
        raise RpcError(
            ErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
            "connectorId of a transaction must be 1 or more",
            {"connectorId": request.connector_id},
        )
    outcome = await transactions.apply_event(
        ctx.conn,
        TransactionEvent(
            kind=TransactionEventKind.STARTED,
            charger_id=ctx.charger_id,
            occurred_at=as_utc(request.timestamp),
            transaction_id=None,  # the platform names 1.6 transactions
            id_issuer=IdIssuer.PLATFORM,
            evse_id=_evse(request.connector_id),
            connector_id=1,
            id_token=request.id_tag,
            meter_start_wh=float(request.meter_start),
            reservation_id=request.reservation_id,
        ),
        ctx.now,
        ctx.settings.billing_terms(),
    )
    assert outcome.transaction is not None
    assert outcome.transaction.transaction_id is not None
    assert outcome.authorization is not None
    if outcome.recorded:
        await commands.link_remote_start(
            ctx.conn,
            outcome.transaction,
            now=ctx.now,
            window_s=ctx.settings.remote_start_window,
        )
    return m.StartTransactionResponse(
        transaction_id=int(outcome.transaction.transaction_id),
        id_tag_info=_id_tag_info(outcome.authorization),
    )


async def stop_transaction(
    ctx: HandlerContext, request: m.StopTransactionRequest
) -> m.StopTransactionResponse:
    outcome = await transactions.apply_event(
        ctx.conn,
        TransactionEvent(
            kind=TransactionEventKind.ENDED,
            charger_id=ctx.charger_id,
            occurred_at=as_utc(request.timestamp),
            transaction_id=str(request.transaction_id),
            id_issuer=IdIssuer.PLATFORM,
            id_token=request.id_tag,
            meter_stop_wh=float(request.meter_stop),
            stopped_reason=request.reason,
            samples=tuple(_samples(request.transaction_data or ())),
        ),
        ctx.now,
        ctx.settings.billing_terms(),
    )
    decision = outcome.authorization
    return m.StopTransactionResponse(
        id_tag_info=None if decision is None else _id_tag_info(decision)
    )


async def meter_values(ctx: HandlerContext, request: m.MeterValuesRequest) -> m.MeterValuesResponse:
    samples = tuple(_samples(request.meter_value))
    connector_id = 1 if request.connector_id > 0 else None
    if request.transaction_id is None:
        await transactions.record_meter_values(
            ctx.conn,
            charger_id=ctx.charger_id,
            evse_id=_evse(request.connector_id),
            connector_id=connector_id,
            samples=samples,
        )
    else:
        await transactions.apply_event(
            ctx.conn,
            TransactionEvent(
                kind=TransactionEventKind.UPDATED,
                charger_id=ctx.charger_id,
                occurred_at=min((s.sampled_at for s in samples), default=ctx.now),
                transaction_id=str(request.transaction_id),
                id_issuer=IdIssuer.PLATFORM,
                evse_id=_evse(request.connector_id),
                connector_id=connector_id,
                samples=samples,
            ),
            ctx.now,
            ctx.settings.billing_terms(),
        )
    return m.MeterValuesResponse()


async def data_transfer(
    ctx: HandlerContext, request: m.DataTransferRequest
) -> m.DataTransferResponse:
    # No vendor extensions are installed; the message itself is kept in the message log.
    return m.DataTransferResponse(status="UnknownVendorId")


async def diagnostics_status_notification(
    ctx: HandlerContext, request: m.DiagnosticsStatusNotificationRequest
) -> m.DiagnosticsStatusNotificationResponse:
    await chargers.record_diagnostics_status(ctx.conn, ctx.charger_id, request.status, ctx.now)
    return m.DiagnosticsStatusNotificationResponse()


async def firmware_status_notification(
    ctx: HandlerContext, request: m.FirmwareStatusNotificationRequest
) -> m.FirmwareStatusNotificationResponse:
    await chargers.record_firmware_status(ctx.conn, ctx.charger_id, request.status, ctx.now)
    return m.FirmwareStatusNotificationResponse()


async def signed_firmware_status_notification(
    ctx: HandlerContext, request: m.SignedFirmwareStatusNotificationRequest
) -> m.SignedFirmwareStatusNotificationResponse:
    await chargers.record_firmware_status(ctx.conn, ctx.charger_id, request.status, ctx.now)
    return m.SignedFirmwareStatusNotificationResponse()


async def log_status_notification(
    ctx: HandlerContext, request: m.LogStatusNotificationRequest
) -> m.LogStatusNotificationResponse:
    await chargers.record_log_status(ctx.conn, ctx.charger_id, request.status, ctx.now)
    return m.LogStatusNotificationResponse()


async def security_event_notification(
    ctx: HandlerContext, request: m.SecurityEventNotificationRequest
) -> m.SecurityEventNotificationResponse:
    await chargers.record_security_event(
        ctx.conn,
        ctx.charger_id,
        type=request.type,
        occurred_at=as_utc(request.timestamp),
        tech_info=request.tech_info,
        now=ctx.now,
    )
    return m.SecurityEventNotificationResponse()


async def sign_certificate(
    ctx: HandlerContext, request: m.SignCertificateRequest
) -> m.SignCertificateResponse:
    accepted = await handle_csr(ctx, csr=request.csr, certificate_type=None)
    return m.SignCertificateResponse(status="Accepted" if accepted else "Rejected")


def _evse(connector_id: int) -> int:
    return connector_id


def _time(value: datetime | None, default: datetime) -> datetime:
    return default if value is None else as_utc(value)


# 1.6 has no status for an unknown token: it is Invalid.
_ID_TAG_STATUS: dict[AuthorizationStatus, m.AuthorizationStatus] = {
    AuthorizationStatus.ACCEPTED: "Accepted",
    AuthorizationStatus.BLOCKED: "Blocked",
    AuthorizationStatus.EXPIRED: "Expired",
    AuthorizationStatus.INVALID: "Invalid",
    AuthorizationStatus.CONCURRENT_TX: "ConcurrentTx",
    AuthorizationStatus.UNKNOWN: "Invalid",
}


def _id_tag_info(decision: Authorization) -> m.IdTagInfo:
    return m.IdTagInfo(
        status=_ID_TAG_STATUS[decision.status],
        expiry_date=decision.expires_at,
        parent_id_tag=None if decision.group_id is None else decision.group_id[:20],
    )


def _samples(
    readings: Iterable[m.MeterValue | m.StopTransactionMeterValue],
) -> Iterable[MeterSample]:
    """Sampled values with the 1.6 defaults made explicit."""
    for reading in readings:
        sampled_at = as_utc(reading.timestamp)
        for sampled in reading.sampled_value:
            signed = sampled.format == "SignedData"
            yield MeterSample(
                sampled_at=sampled_at,
                measurand=sampled.measurand or ENERGY_IMPORT,
                value=None if signed else _number(sampled.value),
                unit=sampled.unit or "Wh",
                phase=sampled.phase,
                context=sampled.context or "Sample.Periodic",
                location=sampled.location or "Outlet",
                signed_data=sampled.value if signed else None,
            )


def _number(text: str) -> float | None:
    """The reading as a number; None when it is not a finite number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


READS_TRANSACTION: Mapping[str, TransactionOf] = {
    "MeterValues": lambda r: None if r.transaction_id is None else str(r.transaction_id),
    "StopTransaction": lambda r: str(r.transaction_id),
}

READS_ID_TOKEN: Mapping[str, IdTokenOf] = {
    "Authorize": lambda r: r.id_tag,
    "StartTransaction": lambda r: r.id_tag,
    "StopTransaction": lambda r: r.id_tag,
}

STARTS_OR_ENDS: Mapping[str, StartsOrEnds] = {
    "StartTransaction": lambda _: True,
    "StopTransaction": lambda _: True,
}

HANDLERS: Mapping[str, Handler] = {
    "Authorize": authorize,
    "BootNotification": boot_notification,
    "DataTransfer": data_transfer,
    "DiagnosticsStatusNotification": diagnostics_status_notification,
    "FirmwareStatusNotification": firmware_status_notification,
    "Heartbeat": heartbeat,
    "LogStatusNotification": log_status_notification,
    "MeterValues": meter_values,
    "SecurityEventNotification": security_event_notification,
    "SignCertificate": sign_certificate,
    "SignedFirmwareStatusNotification": signed_firmware_status_notification,
    "StartTransaction": start_transaction,
    "StatusNotification": status_notification,
    "StopTransaction": stop_transaction,
}
