"""OCPP 2.0.1: every charger-initiated message, as domain calls.

Boot, status, authorization, transactions, meter values and security are here; the
device model and the other reports are in ``v201_reports``. ``HANDLERS`` holds both.
A charger whose registration is not Accepted may only boot (and, while Pending, send the
reports the CSMS asks for): anything else is refused with SecurityError (B02.FR.09,
B03.FR.07).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import msgspec

from chargegrid.domain.clock import as_utc
from chargegrid.domain.model import (
    ENERGY_IMPORT,
    Authorization,
    BootInfo,
    ChargerReport,
    IdIssuer,
    MeterSample,
    RegistrationStatus,
    ReportKind,
    StatusReport,
    TransactionEvent,
    TransactionEventKind,
)
from chargegrid.domain.services import authorization, chargers, commands, reports, transactions
from chargegrid.gateway.handlers import (
    Handler,
    HandlerContext,
    IdTokenOf,
    StartsOrEnds,
    TransactionOf,
)
from chargegrid.gateway.handlers import v201_reports as more
from chargegrid.gateway.handlers.costs201 import transaction_cost
from chargegrid.gateway.handlers.signing import handle_csr
from chargegrid.ocpp.rpc import ErrorKind, RpcError
from chargegrid.ocpp.v201 import messages as m

# A transaction stopped on the driver's request may omit its stoppedReason (E07.FR.04/05).
DEFAULT_STOPPED_REASON: m.ReasonEnum = "Local"
# Group ids are the platform's; in 2.0.1 a group is an id token of its own.
GROUP_TOKEN_TYPE: m.IdTokenEnum = "Central"
NO_PKI = m.StatusInfo(
    reason_code="NotEnabled",
    additional_info="no ISO 15118 contract certificate service or OCSP responder is configured",
)


async def boot_notification(
    ctx: HandlerContext, request: m.BootNotificationRequest
) -> m.BootNotificationResponse:
    station = request.charging_station
    modem = station.modem or m.Modem()
    decision = await chargers.record_boot(
        ctx.conn,
        ctx.charger_id,
        BootInfo(
            vendor=station.vendor_name,
            model=station.model,
            serial_number=station.serial_number,
            firmware_version=station.firmware_version,
            iccid=modem.iccid,
            imsi=modem.imsi,
            reason=request.reason,
        ),
        ocpp_version=ctx.version.value,
        now=ctx.now,
        heartbeat_interval=ctx.settings.heartbeat_interval,
        retry_interval=ctx.settings.boot_retry_interval,
    )
    return m.BootNotificationResponse(
        current_time=ctx.now, interval=decision.interval, status=decision.status.value
    )


async def heartbeat(ctx: HandlerContext, request: m.HeartbeatRequest) -> m.HeartbeatResponse:
    await chargers.record_heartbeat(ctx.conn, ctx.charger_id, ctx.now)
    return m.HeartbeatResponse(current_time=ctx.now)


async def status_notification(
    ctx: HandlerContext, request: m.StatusNotificationRequest
) -> m.StatusNotificationResponse:
    at_station = request.evse_id == 0  # EVSE ids start at 1; 0 is the station itself
    await chargers.record_status(
        ctx.conn,
        ctx.charger_id,
        StatusReport(
            status=request.connector_status,
            occurred_at=as_utc(request.timestamp),
            evse_id=None if at_station else request.evse_id,
            connector_id=None if at_station else request.connector_id,
        ),
        ctx.now,
    )
    return m.StatusNotificationResponse()


async def authorize(ctx: HandlerContext, request: m.AuthorizeRequest) -> m.AuthorizeResponse:
    token = request.id_token
    decision = await authorization.authorize(
        ctx.conn, token.id_token, ctx.now, token_type=token.type
    )
    if request.certificate is None and request.iso15118_certificate_hash_data is None:
        return m.AuthorizeResponse(id_token_info=id_token_info(decision))
    # Plug & Charge: without a contract certificate service or OCSP responder the contract
    # certificate cannot be verified, so CertChainError and Invalid (C07.FR.17).
    return m.AuthorizeResponse(
        id_token_info=m.IdTokenInfo(status="Invalid"), certificate_status="CertChainError"
    )


async def transaction_event(
    ctx: HandlerContext, request: m.TransactionEventRequest
) -> m.TransactionEventResponse:
    info = request.transaction_info
    kind = TransactionEventKind(request.event_type)
    stopped_reason = info.stopped_reason
    if kind is TransactionEventKind.ENDED and stopped_reason is None:
        stopped_reason = DEFAULT_STOPPED_REASON
    token, evse = request.id_token, request.evse
    outcome = await transactions.apply_event(
        ctx.conn,
        TransactionEvent(
            kind=kind,
            charger_id=ctx.charger_id,
            occurred_at=as_utc(request.timestamp),
            transaction_id=info.transaction_id,
            id_issuer=IdIssuer.CHARGER,
            seq_no=request.seq_no,
            evse_id=None if evse is None else evse.id,
            connector_id=None if evse is None else evse.connector_id,
            id_token=None if token is None else token.id_token,
            id_token_type=None if token is None else token.type,
            samples=tuple(samples(request.meter_value or ())),
            trigger_reason=request.trigger_reason,
            charging_state=info.charging_state,
            stopped_reason=stopped_reason,
            offline=bool(request.offline),
            number_of_phases=request.number_of_phases_used,
            cable_max_current=request.cable_max_current,
            reservation_id=request.reservation_id,
            remote_start_id=info.remote_start_id,
            time_spent_charging_s=info.time_spent_charging,
        ),
        ctx.now,
        ctx.settings.billing_terms(),
    )
    if outcome.transaction is not None and (
        info.remote_start_id is not None or kind is TransactionEventKind.STARTED
    ):
        await commands.link_remote_start(
            ctx.conn,
            outcome.transaction,
            now=ctx.now,
            window_s=ctx.settings.remote_start_window,
        )
    decision = outcome.authorization
    return m.TransactionEventResponse(
        total_cost=await transaction_cost(ctx, kind, outcome.transaction, outcome.recorded),
        id_token_info=None if decision is None else id_token_info(decision),
    )


async def meter_values(ctx: HandlerContext, request: m.MeterValuesRequest) -> m.MeterValuesResponse:
    # Meter values outside transactions; evseId 0 is the station's main meter.
    await transactions.record_meter_values(
        ctx.conn,
        charger_id=ctx.charger_id,
        evse_id=request.evse_id,
        connector_id=None,
        samples=list(samples(request.meter_value)),
    )
    return m.MeterValuesResponse()


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
    accepted = await handle_csr(ctx, csr=request.csr, certificate_type=request.certificate_type)
    return m.SignCertificateResponse(status="Accepted" if accepted else "Rejected")


async def firmware_status_notification(
    ctx: HandlerContext, request: m.FirmwareStatusNotificationRequest
) -> m.FirmwareStatusNotificationResponse:
    await chargers.record_firmware_status(ctx.conn, ctx.charger_id, request.status, ctx.now)
    return m.FirmwareStatusNotificationResponse()


async def log_status_notification(
    ctx: HandlerContext, request: m.LogStatusNotificationRequest
) -> m.LogStatusNotificationResponse:
    await chargers.record_log_status(ctx.conn, ctx.charger_id, request.status, ctx.now)
    return m.LogStatusNotificationResponse()


async def data_transfer(
    ctx: HandlerContext, request: m.DataTransferRequest
) -> m.DataTransferResponse:
    # No vendor extensions are installed; the message itself is kept in the message log.
    return m.DataTransferResponse(status="UnknownVendorId")


async def get_15118_ev_certificate(
    ctx: HandlerContext, request: m.Get15118EVCertificateRequest
) -> m.Get15118EVCertificateResponse:
    await _record_refused(ctx, ReportKind.EV_CERTIFICATE_REQUEST, request)
    return m.Get15118EVCertificateResponse(status="Failed", exi_response="", status_info=NO_PKI)


async def get_certificate_status(
    ctx: HandlerContext, request: m.GetCertificateStatusRequest
) -> m.GetCertificateStatusResponse:
    await _record_refused(ctx, ReportKind.CERTIFICATE_STATUS_REQUEST, request)
    return m.GetCertificateStatusResponse(status="Failed", status_info=NO_PKI)


async def _record_refused(ctx: HandlerContext, kind: ReportKind, request: msgspec.Struct) -> None:
    payload = msgspec.to_builtins(request)
    await reports.record_report(
        ctx.conn, ctx.charger_id, ChargerReport(kind, payload, status="Failed"), ctx.now
    )


def id_token_info(decision: Authorization) -> m.IdTokenInfo:
    group = decision.group_id
    return m.IdTokenInfo(
        status=decision.status.value,
        cache_expiry_date_time=decision.expires_at,
        group_id_token=(
            None if group is None else m.IdToken(id_token=group[:36], type=GROUP_TOKEN_TYPE)
        ),
    )


def samples(readings: Iterable[m.MeterValue]) -> Iterable[MeterSample]:
    """Sampled values with the 2.0.1 defaults made explicit and the multiplier applied."""
    for reading in readings:
        sampled_at = as_utc(reading.timestamp)
        for sampled in reading.sampled_value:
            unit = sampled.unit_of_measure or m.UnitOfMeasure()
            value = sampled.value * 10.0 ** (unit.multiplier or 0)
            signed = sampled.signed_meter_value
            yield MeterSample(
                sampled_at=sampled_at,
                measurand=sampled.measurand or ENERGY_IMPORT,
                value=value if math.isfinite(value) else None,
                unit=unit.unit or "Wh",
                phase=sampled.phase,
                context=sampled.context or "Sample.Periodic",
                location=sampled.location or "Outlet",
                signed_data=None if signed is None else signed.signed_meter_data,
            )


def accepted_only(handler: Handler, *, while_pending: bool = False) -> Handler:
    """``handler``, for chargers whose registration is Accepted (or Pending if allowed)."""

    async def gated(ctx: HandlerContext, request: msgspec.Struct) -> msgspec.Struct:
        status = await chargers.registration_status(ctx.conn, ctx.charger_id)
        allowed = status is RegistrationStatus.ACCEPTED or (
            while_pending and status is RegistrationStatus.PENDING
        )
        if not allowed:
            raise RpcError(
                ErrorKind.SECURITY_ERROR,
                f"the charger's registration is {status.value}: only BootNotification "
                "is accepted until it is Accepted",
            )
        result: msgspec.Struct = await handler(ctx, request)
        return result

    return gated


_ACCEPTED_ONLY: Mapping[str, Handler] = {
    "Authorize": authorize,
    "ClearedChargingLimit": more.cleared_charging_limit,
    "DataTransfer": data_transfer,
    "FirmwareStatusNotification": firmware_status_notification,
    "Get15118EVCertificate": get_15118_ev_certificate,
    "GetCertificateStatus": get_certificate_status,
    "Heartbeat": heartbeat,
    "LogStatusNotification": log_status_notification,
    "MeterValues": meter_values,
    "NotifyChargingLimit": more.notify_charging_limit,
    "NotifyCustomerInformation": more.notify_customer_information,
    "NotifyDisplayMessages": more.notify_display_messages,
    "NotifyEVChargingNeeds": more.notify_ev_charging_needs,
    "NotifyEVChargingSchedule": more.notify_ev_charging_schedule,
    "NotifyEvent": more.notify_event,
    "NotifyMonitoringReport": more.notify_monitoring_report,
    "PublishFirmwareStatusNotification": more.publish_firmware_status_notification,
    "ReportChargingProfiles": more.report_charging_profiles,
    "ReservationStatusUpdate": more.reservation_status_update,
    "SecurityEventNotification": security_event_notification,
    "SignCertificate": sign_certificate,
    "StatusNotification": status_notification,
    "TransactionEvent": transaction_event,
}

READS_TRANSACTION: Mapping[str, TransactionOf] = {
    "TransactionEvent": lambda r: r.transaction_info.transaction_id,
}

READS_ID_TOKEN: Mapping[str, IdTokenOf] = {
    "Authorize": lambda r: r.id_token.id_token,
    "TransactionEvent": lambda r: None if r.id_token is None else r.id_token.id_token,
}

STARTS_OR_ENDS: Mapping[str, StartsOrEnds] = {
    # An update may start one too (when the start was lost): rare, and only slower.
    "TransactionEvent": lambda r: r.event_type != "Updated",
}

HANDLERS: Mapping[str, Handler] = {
    "BootNotification": boot_notification,
    # While Pending the CSMS may ask for reports (GetBaseReport / GetReport).
    "NotifyReport": accepted_only(more.notify_report, while_pending=True),
    **{action: accepted_only(handler) for action, handler in _ACCEPTED_ONLY.items()},
}
