"""OCPP 2.0.1 reports: the device model, monitoring events and what no module owns yet.

The device model (NotifyReport) and events (NotifyEvent) are stored field by field;
the other reports are kept as sent, by kind, request id and EVSE (``ChargerReport``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from chargegrid.domain.clock import as_utc
from chargegrid.domain.model import (
    ChargerEvent,
    ChargerReport,
    ComponentRef,
    DeviceVariable,
    ReportKind,
    VariableAttribute,
    VariableCharacteristics,
)
from chargegrid.domain.services import reports
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.ocpp.v201 import messages as m

# The defaults of VariableAttributeType when a field is omitted.
DEFAULT_ATTRIBUTE_TYPE = "Actual"
DEFAULT_MUTABILITY = "ReadWrite"

NO_SMART_CHARGING = m.StatusInfo(
    reason_code="NotEnabled",
    additional_info="this CSMS does not compute charging schedules for EVs",
)


async def notify_report(
    ctx: HandlerContext, request: m.NotifyReportRequest
) -> m.NotifyReportResponse:
    entries = request.report_data or ()
    await reports.record_device_model(
        ctx.conn,
        ctx.charger_id,
        [_variable(entry) for entry in entries],
        reported_at=as_utc(request.generated_at),
        now=ctx.now,
    )
    # Which parts of which report arrived (the variables themselves are in the device model).
    await _keep(
        ctx,
        ReportKind.DEVICE_MODEL,
        {
            "requestId": request.request_id,
            "seqNo": request.seq_no,
            "generatedAt": msgspec.to_builtins(request.generated_at),
            "tbc": bool(request.tbc),
            "variables": len(entries),
        },
        request_id=request.request_id,
        seq_no=request.seq_no,
        tbc=bool(request.tbc),
        generated_at=request.generated_at,
    )
    return m.NotifyReportResponse()


async def notify_event(ctx: HandlerContext, request: m.NotifyEventRequest) -> m.NotifyEventResponse:
    generated_at = as_utc(request.generated_at)
    await reports.record_events(
        ctx.conn,
        ctx.charger_id,
        [
            ChargerEvent(
                event_id=event.event_id,
                occurred_at=as_utc(event.timestamp),
                trigger=event.trigger,
                actual_value=event.actual_value,
                component=_component(event.component),
                variable_name=event.variable.name,
                variable_instance=event.variable.instance,
                notification_type=event.event_notification_type,
                cause=event.cause,
                tech_code=event.tech_code,
                tech_info=event.tech_info,
                cleared=event.cleared,
                transaction_id=event.transaction_id,
                variable_monitoring_id=event.variable_monitoring_id,
                generated_at=generated_at,
                seq_no=request.seq_no,
            )
            for event in request.event_data
        ],
        ctx.now,
    )
    return m.NotifyEventResponse()


async def notify_monitoring_report(
    ctx: HandlerContext, request: m.NotifyMonitoringReportRequest
) -> m.NotifyMonitoringReportResponse:
    await _keep(
        ctx,
        ReportKind.MONITORING,
        request,
        request_id=request.request_id,
        seq_no=request.seq_no,
        tbc=bool(request.tbc),
        generated_at=request.generated_at,
    )
    return m.NotifyMonitoringReportResponse()


async def notify_charging_limit(
    ctx: HandlerContext, request: m.NotifyChargingLimitRequest
) -> m.NotifyChargingLimitResponse:
    await _keep(ctx, ReportKind.CHARGING_LIMIT, request, evse_id=request.evse_id)
    return m.NotifyChargingLimitResponse()


async def cleared_charging_limit(
    ctx: HandlerContext, request: m.ClearedChargingLimitRequest
) -> m.ClearedChargingLimitResponse:
    await _keep(ctx, ReportKind.CHARGING_LIMIT_CLEARED, request, evse_id=request.evse_id)
    return m.ClearedChargingLimitResponse()


async def notify_ev_charging_needs(
    ctx: HandlerContext, request: m.NotifyEVChargingNeedsRequest
) -> m.NotifyEVChargingNeedsResponse:
    await _keep(
        ctx, ReportKind.EV_CHARGING_NEEDS, request, evse_id=request.evse_id, status="Rejected"
    )
    # Accepted would promise a charging profile to follow; none will.
    return m.NotifyEVChargingNeedsResponse(status="Rejected", status_info=NO_SMART_CHARGING)


async def notify_ev_charging_schedule(
    ctx: HandlerContext, request: m.NotifyEVChargingScheduleRequest
) -> m.NotifyEVChargingScheduleResponse:
    await _keep(
        ctx,
        ReportKind.EV_CHARGING_SCHEDULE,
        request,
        evse_id=request.evse_id,
        status="Accepted",
        generated_at=request.time_base,
    )
    # No charging profile was set, so the EV's schedule exceeds none.
    return m.NotifyEVChargingScheduleResponse(status="Accepted")


async def report_charging_profiles(
    ctx: HandlerContext, request: m.ReportChargingProfilesRequest
) -> m.ReportChargingProfilesResponse:
    await _keep(
        ctx,
        ReportKind.CHARGING_PROFILES,
        request,
        request_id=request.request_id,
        tbc=bool(request.tbc),
        evse_id=request.evse_id,
    )
    return m.ReportChargingProfilesResponse()


async def reservation_status_update(
    ctx: HandlerContext, request: m.ReservationStatusUpdateRequest
) -> m.ReservationStatusUpdateResponse:
    await _keep(
        ctx, ReportKind.RESERVATION_STATUS, request, status=request.reservation_update_status
    )
    return m.ReservationStatusUpdateResponse()


async def notify_customer_information(
    ctx: HandlerContext, request: m.NotifyCustomerInformationRequest
) -> m.NotifyCustomerInformationResponse:
    await _keep(
        ctx,
        ReportKind.CUSTOMER_INFORMATION,
        request,
        request_id=request.request_id,
        seq_no=request.seq_no,
        tbc=bool(request.tbc),
        generated_at=request.generated_at,
    )
    return m.NotifyCustomerInformationResponse()


async def notify_display_messages(
    ctx: HandlerContext, request: m.NotifyDisplayMessagesRequest
) -> m.NotifyDisplayMessagesResponse:
    await _keep(
        ctx,
        ReportKind.DISPLAY_MESSAGES,
        request,
        request_id=request.request_id,
        tbc=bool(request.tbc),
    )
    return m.NotifyDisplayMessagesResponse()


async def publish_firmware_status_notification(
    ctx: HandlerContext, request: m.PublishFirmwareStatusNotificationRequest
) -> m.PublishFirmwareStatusNotificationResponse:
    await _keep(
        ctx,
        ReportKind.FIRMWARE_PUBLICATION,
        request,
        request_id=request.request_id,
        status=request.status,
    )
    return m.PublishFirmwareStatusNotificationResponse()


async def _keep(
    ctx: HandlerContext,
    kind: ReportKind,
    content: msgspec.Struct | dict[str, Any],
    *,
    request_id: int | None = None,
    seq_no: int | None = None,
    tbc: bool | None = None,
    evse_id: int | None = None,
    status: str | None = None,
    generated_at: datetime | None = None,
) -> None:
    payload = content if isinstance(content, dict) else msgspec.to_builtins(content)
    await reports.record_report(
        ctx.conn,
        ctx.charger_id,
        ChargerReport(
            kind=kind,
            payload=payload,
            request_id=request_id,
            seq_no=seq_no,
            tbc=tbc,
            evse_id=evse_id,
            status=status,
            generated_at=None if generated_at is None else as_utc(generated_at),
        ),
        ctx.now,
    )


def _component(component: m.Component) -> ComponentRef:
    evse = component.evse
    return ComponentRef(
        name=component.name,
        instance=component.instance,
        evse_id=None if evse is None else evse.id,
        connector_id=None if evse is None else evse.connector_id,
    )


def _variable(entry: m.ReportData) -> DeviceVariable:
    characteristics = entry.variable_characteristics
    return DeviceVariable(
        component=_component(entry.component),
        name=entry.variable.name,
        instance=entry.variable.instance,
        attributes=tuple(
            VariableAttribute(
                type=attribute.type or DEFAULT_ATTRIBUTE_TYPE,
                value=attribute.value,
                mutability=attribute.mutability or DEFAULT_MUTABILITY,
                persistent=bool(attribute.persistent),
                constant=bool(attribute.constant),
            )
            for attribute in entry.variable_attribute
        ),
        characteristics=(
            None
            if characteristics is None
            else VariableCharacteristics(
                data_type=characteristics.data_type,
                supports_monitoring=characteristics.supports_monitoring,
                unit=characteristics.unit,
                min_limit=characteristics.min_limit,
                max_limit=characteristics.max_limit,
                values_list=characteristics.values_list,
            )
        ),
    )
