"""OCPP 2.0.1 for the simulator: neutral messages as 2.0.1 CALLs (the CSMS's CALLs are
answered in ``v201_calls`` and ``v201_device``).

Each EVSE has one connector (1). The charger names its transactions; every event of a
transaction carries the next sequence number and, when it was queued while offline,
``offline: true``.
"""

from __future__ import annotations

import msgspec

from chargegrid.ocpp.protocol import IncomingCall, OcppProtocol
from chargegrid.ocpp.rpc import ErrorKind, RpcError
from chargegrid.ocpp.v201 import messages as m
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.simulator.core import MAX_FRAME_BYTES, ChargerCore, Undeliverable
from chargegrid.simulator.model import (
    Authorize,
    Boot,
    BootReason,
    ConnectorStatus,
    Custom,
    FirmwareStatus,
    Heartbeat,
    LogState,
    LogStatus,
    Message,
    MeterReport,
    Reading,
    ReservationEnded,
    SecurityEvent,
    SignRequest,
    StatusChange,
    StopReason,
    TxEnded,
    TxStarted,
    TxUpdated,
    UpdateCause,
    utc,
)
from chargegrid.simulator.v201_calls import HANDLERS as CALLS
from chargegrid.simulator.v201_device import HANDLERS as DEVICE

VENDOR = "chargegrid"
MODEL = "Simulator 2.0.1"
CONNECTOR = 1
HANDLERS = {**CALLS, **DEVICE}

BOOT_REASONS: dict[BootReason, m.BootReasonEnum] = {
    BootReason.POWER_UP: "PowerUp",
    BootReason.REMOTE_RESET: "RemoteReset",
    BootReason.FIRMWARE_UPDATE: "FirmwareUpdate",
    BootReason.TRIGGERED: "Triggered",
}
STATUSES: dict[ConnectorStatus, m.ConnectorStatusEnum] = {
    ConnectorStatus.AVAILABLE: "Available",
    ConnectorStatus.RESERVED: "Reserved",
    ConnectorStatus.UNAVAILABLE: "Unavailable",
    ConnectorStatus.FAULTED: "Faulted",
}
CHARGING_STATES: dict[ConnectorStatus, m.ChargingStateEnum] = {
    ConnectorStatus.CHARGING: "Charging",
    ConnectorStatus.SUSPENDED_EV: "SuspendedEV",
    ConnectorStatus.SUSPENDED_EVSE: "SuspendedEVSE",
}
UPDATE_TRIGGERS: dict[UpdateCause, m.TriggerReasonEnum] = {
    UpdateCause.PERIODIC: "MeterValuePeriodic",
    UpdateCause.CHARGING_STATE: "ChargingStateChanged",
    UpdateCause.TRIGGER: "Trigger",
}
END_TRIGGERS: dict[StopReason, m.TriggerReasonEnum] = {
    StopReason.LOCAL: "StopAuthorized",
    StopReason.EV_DISCONNECTED: "EVDeparted",
    StopReason.REMOTE: "RemoteStop",
    StopReason.HARD_RESET: "ResetCommand",
    StopReason.SOFT_RESET: "ResetCommand",
    StopReason.UNLOCK: "UnlockCommand",
    StopReason.DEAUTHORIZED: "Deauthorized",
    StopReason.FAULT: "AbnormalCondition",
}
STOPPED_REASONS: dict[StopReason, m.ReasonEnum] = {
    StopReason.LOCAL: "Local",
    StopReason.EV_DISCONNECTED: "EVDisconnected",
    StopReason.REMOTE: "Remote",
    StopReason.HARD_RESET: "ImmediateReset",
    StopReason.SOFT_RESET: "Reboot",
    StopReason.UNLOCK: "Other",
    StopReason.DEAUTHORIZED: "DeAuthorized",
    StopReason.FAULT: "GroundFault",
}
LOGS: dict[LogState, m.UploadLogStatusEnum] = {
    LogState.IDLE: "Idle",
    LogState.UPLOADING: "Uploading",
    LogState.UPLOADED: "Uploaded",
    LogState.FAILED: "UploadFailure",
}


def meter_value(
    reading: Reading, at: float, context: m.ReadingContextEnum, *, full: bool
) -> m.MeterValue:
    values = [
        m.SampledValue(
            value=float(reading.energy_wh),
            context=context,
            measurand="Energy.Active.Import.Register",
            unit_of_measure=m.UnitOfMeasure(unit="Wh"),
        )
    ]
    if full:
        values += [
            m.SampledValue(
                value=reading.power_w,
                context=context,
                measurand="Power.Active.Import",
                unit_of_measure=m.UnitOfMeasure(unit="W"),
            ),
            m.SampledValue(
                value=reading.current_a,
                context=context,
                measurand="Current.Import",
                unit_of_measure=m.UnitOfMeasure(unit="A"),
            ),
            m.SampledValue(
                value=reading.voltage_v,
                context=context,
                measurand="Voltage",
                unit_of_measure=m.UnitOfMeasure(unit="V"),
            ),
        ]
    if reading.soc is not None:
        values.append(
            m.SampledValue(
                value=reading.soc,
                context=context,
                measurand="SoC",
                location="EV",
                unit_of_measure=m.UnitOfMeasure(unit="Percent"),
            )
        )
    return m.MeterValue(timestamp=utc(at), sampled_value=values)


def encode(message: Message, core: ChargerCore) -> tuple[str, msgspec.Struct]:
    station = core.station
    if isinstance(message, Boot):
        return "BootNotification", m.BootNotificationRequest(
            charging_station=m.ChargingStation(
                model=MODEL,
                vendor_name=VENDOR,
                serial_number=core.charger_id[:25],
                firmware_version=station.firmware_version,
            ),
            reason=BOOT_REASONS[message.reason],
        )
    if isinstance(message, Heartbeat):
        return "Heartbeat", m.HeartbeatRequest()
    if isinstance(message, StatusChange):
        return "StatusNotification", m.StatusNotificationRequest(
            timestamp=utc(message.at),
            connector_status=STATUSES.get(message.status, "Occupied"),
            evse_id=message.evse_id,
            connector_id=CONNECTOR,
        )
    if isinstance(message, Authorize):
        return "Authorize", m.AuthorizeRequest(
            id_token=m.IdToken(id_token=message.id_token, type=message.token_type)  # type: ignore[arg-type]
        )
    if isinstance(message, TxStarted | TxUpdated | TxEnded):
        return "TransactionEvent", transaction_event(message)
    if isinstance(message, MeterReport):
        return "MeterValues", m.MeterValuesRequest(
            evse_id=message.evse_id,
            meter_value=[meter_value(message.reading, message.at, "Trigger", full=True)],
        )
    if isinstance(message, FirmwareStatus):
        return "FirmwareStatusNotification", m.FirmwareStatusNotificationRequest(
            status=message.status,  # type: ignore[arg-type]
            request_id=message.request_id,
        )
    if isinstance(message, LogStatus):
        return "LogStatusNotification", m.LogStatusNotificationRequest(
            status=LOGS[message.state], request_id=message.request_id
        )
    if isinstance(message, SecurityEvent):
        return "SecurityEventNotification", m.SecurityEventNotificationRequest(
            type=message.kind, timestamp=utc(message.at), tech_info=message.info
        )
    if isinstance(message, SignRequest):
        return "SignCertificate", m.SignCertificateRequest(
            csr=message.csr,
            certificate_type=message.certificate_type,  # type: ignore[arg-type]
        )
    if isinstance(message, ReservationEnded):
        return "ReservationStatusUpdate", m.ReservationStatusUpdateRequest(
            reservation_id=message.reservation_id,
            reservation_update_status="Expired" if message.expired else "Removed",
        )
    if isinstance(message, Custom):
        return message.action, message.request
    raise Undeliverable(f"OCPP 2.0.1 has no message for {type(message).__name__}")


def transaction_event(message: TxStarted | TxUpdated | TxEnded) -> m.TransactionEventRequest:
    tx = message.tx
    id_token = m.IdToken(id_token=tx.id_token, type=tx.token_type)  # type: ignore[arg-type]
    evse = None
    token = None
    reservation = None
    if isinstance(message, TxStarted):
        kind: m.TransactionEventEnum = "Started"
        trigger: m.TriggerReasonEnum = "RemoteStart" if message.remote else "Authorized"
        state = CHARGING_STATES.get(message.status, "EVConnected")
        value = meter_value(message.reading, message.at, "Transaction.Begin", full=False)
        evse, token, reservation = (
            m.EVSE(id=tx.evse_id, connector_id=CONNECTOR),
            id_token,
            tx.reservation_id,
        )
        stopped = None
    elif isinstance(message, TxUpdated):
        kind, trigger = "Updated", UPDATE_TRIGGERS[message.cause]
        state = CHARGING_STATES.get(message.status, "EVConnected")
        context: m.ReadingContextEnum = (
            "Trigger" if message.cause is UpdateCause.TRIGGER else "Sample.Periodic"
        )
        value = meter_value(message.reading, message.at, context, full=True)
        stopped = None
    else:
        kind, trigger = "Ended", END_TRIGGERS[message.reason]
        state = "Idle" if message.reason is StopReason.EV_DISCONNECTED else "EVConnected"
        value = meter_value(message.reading, message.at, "Transaction.End", full=False)
        stopped = STOPPED_REASONS[message.reason]
        if message.reason is StopReason.LOCAL:
            token = id_token
    return m.TransactionEventRequest(
        event_type=kind,
        timestamp=utc(message.at),
        trigger_reason=trigger,
        seq_no=message.seq_no,
        transaction_info=m.Transaction(
            transaction_id=tx.key,
            charging_state=state,
            stopped_reason=stopped,
            remote_start_id=tx.remote_start_id if isinstance(message, TxStarted) else None,
        ),
        meter_value=[value],
        offline=True if message.offline else None,
        evse=evse,
        id_token=token,
        reservation_id=reservation,
    )


class V201Adapter:
    """The OCPP 2.0.1 adapter (stateless: one serves every 2.0.1 charger of a process)."""

    version = OcppVersion.V201

    def __init__(self) -> None:
        self.protocol = OcppProtocol(
            OcppVersion.V201, role="charger", max_frame_bytes=MAX_FRAME_BYTES
        )

    def status_name(self, status: ConnectorStatus) -> str:
        return STATUSES.get(status, "Occupied")

    def sends(self, message: Message) -> bool:
        return not (isinstance(message, LogStatus) and message.diagnostics)

    def encode(self, message: Message, core: ChargerCore) -> tuple[str, msgspec.Struct]:
        return encode(message, core)

    def boot_result(self, response: msgspec.Struct) -> tuple[str, int]:
        assert isinstance(response, m.BootNotificationResponse)
        return response.status, response.interval

    def on_response(
        self, message: Message, response: msgspec.Struct, core: ChargerCore, now: float
    ) -> None:
        station = core.station
        if isinstance(response, m.AuthorizeResponse) and isinstance(message, Authorize):
            ok = response.id_token_info.status == "Accepted"
            station.authorized(message.evse_id, message.id_token, ok, now)
        elif isinstance(response, m.TransactionEventResponse) and isinstance(message, TxStarted):
            info = response.id_token_info
            if info is not None:
                station.tx_confirmed(message.tx, info.status == "Accepted", now)
        elif isinstance(response, m.SignCertificateResponse) and response.status != "Accepted":
            station.csr_key = None

    def answer(self, call: IncomingCall, core: ChargerCore, now: float) -> msgspec.Struct:
        handler = HANDLERS.get(call.action)
        if handler is None:
            raise RpcError(ErrorKind.NOT_IMPLEMENTED, f"{call.action} is not simulated")
        return handler(core, call.request, now)


ADAPTER = V201Adapter()
