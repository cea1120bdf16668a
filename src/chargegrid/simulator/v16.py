"""OCPP 1.6J for the simulator: neutral messages as 1.6 CALLs (the CSMS's CALLs are
answered in ``v16_calls``).

A 1.6 connector *n* is EVSE *n*; connector 0 is the charger as a whole. A transaction is
known to the CSMS by the number it gives in the StartTransaction answer: messages of the
transaction queued before that answer get the number when they are sent.
"""

from __future__ import annotations

from typing import get_args

import msgspec

from chargegrid.ocpp.protocol import IncomingCall, OcppProtocol
from chargegrid.ocpp.rpc import ErrorKind, RpcError
from chargegrid.ocpp.v16 import messages as m
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.simulator.core import MAX_FRAME_BYTES, ChargerCore, Undeliverable
from chargegrid.simulator.model import (
    Authorize,
    Boot,
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
    Transaction,
    TxEnded,
    TxStarted,
    TxUpdated,
    UpdateCause,
    utc,
)
from chargegrid.simulator.v16_calls import HANDLERS

VENDOR = "chargegrid"
MODEL = "Simulator 1.6"
FIRMWARE_STATUSES = frozenset(get_args(m.FirmwareStatus))
REASONS: dict[StopReason, m.Reason] = {
    StopReason.LOCAL: "Local",
    StopReason.EV_DISCONNECTED: "EVDisconnected",
    StopReason.REMOTE: "Remote",
    StopReason.HARD_RESET: "HardReset",
    StopReason.SOFT_RESET: "SoftReset",
    StopReason.UNLOCK: "UnlockCommand",
    StopReason.DEAUTHORIZED: "DeAuthorized",
    StopReason.FAULT: "Other",
}
DIAGNOSTICS: dict[LogState, m.DiagnosticsStatus] = {
    LogState.IDLE: "Idle",
    LogState.UPLOADING: "Uploading",
    LogState.UPLOADED: "Uploaded",
    LogState.FAILED: "UploadFailed",
}
LOGS: dict[LogState, m.UploadLogStatusEnum] = {
    LogState.IDLE: "Idle",
    LogState.UPLOADING: "Uploading",
    LogState.UPLOADED: "Uploaded",
    LogState.FAILED: "UploadFailure",
}
# -- sending -----------------------------------------------------------------------------------


def sampled(reading: Reading, context: m.ReadingContext, *, full: bool) -> list[m.SampledValue]:
    values = [
        m.SampledValue(
            value=str(reading.energy_wh),
            context=context,
            measurand="Energy.Active.Import.Register",
            unit="Wh",
            location="Outlet",
        )
    ]
    if full:
        values += [
            m.SampledValue(
                value=f"{reading.power_w:.1f}",
                context=context,
                measurand="Power.Active.Import",
                unit="W",
            ),
            m.SampledValue(
                value=f"{reading.current_a:.2f}",
                context=context,
                measurand="Current.Import",
                unit="A",
            ),
            m.SampledValue(
                value=f"{reading.voltage_v:.1f}", context=context, measurand="Voltage", unit="V"
            ),
        ]
        if reading.soc is not None:
            values.append(
                m.SampledValue(
                    value=f"{reading.soc:.1f}",
                    context=context,
                    measurand="SoC",
                    unit="Percent",
                    location="EV",
                )
            )
    return values


def csms_id(tx: Transaction) -> int:
    if tx.csms_id is None:
        raise Undeliverable(f"transaction {tx.key} has no transactionId: its start failed")
    return tx.csms_id


def encode(message: Message, core: ChargerCore) -> tuple[str, msgspec.Struct]:
    station = core.station
    if isinstance(message, Boot):
        return "BootNotification", m.BootNotificationRequest(
            charge_point_vendor=VENDOR,
            charge_point_model=MODEL,
            charge_point_serial_number=core.charger_id[:25],
            firmware_version=station.firmware_version,
            meter_type="SimMeter",
        )
    if isinstance(message, Heartbeat):
        return "Heartbeat", m.HeartbeatRequest()
    if isinstance(message, StatusChange):
        error: m.ChargePointErrorCode = "NoError"
        if message.fault is not None:
            error = message.fault.value
        elif message.status is ConnectorStatus.FAULTED:
            error = "OtherError"
        return "StatusNotification", m.StatusNotificationRequest(
            connector_id=message.evse_id,
            error_code=error,
            status=message.status.value,
            timestamp=utc(message.at),
        )
    if isinstance(message, Authorize):
        return "Authorize", m.AuthorizeRequest(id_tag=message.id_token)
    if isinstance(message, TxStarted):
        tx = message.tx
        return "StartTransaction", m.StartTransactionRequest(
            connector_id=tx.evse_id,
            id_tag=tx.id_token,
            meter_start=message.reading.energy_wh,
            timestamp=utc(message.at),
            reservation_id=tx.reservation_id,
        )
    if isinstance(message, TxUpdated):
        context: m.ReadingContext = (
            "Trigger" if message.cause is UpdateCause.TRIGGER else "Sample.Periodic"
        )
        return "MeterValues", m.MeterValuesRequest(
            connector_id=message.tx.evse_id,
            transaction_id=csms_id(message.tx),
            meter_value=[
                m.MeterValue(
                    timestamp=utc(message.at),
                    sampled_value=sampled(message.reading, context, full=True),
                )
            ],
        )
    if isinstance(message, TxEnded):
        tx = message.tx
        end = message.reading
        return "StopTransaction", m.StopTransactionRequest(
            meter_stop=end.energy_wh,
            timestamp=utc(message.at),
            transaction_id=csms_id(tx),
            id_tag=tx.id_token if message.reason is StopReason.LOCAL else None,
            reason=REASONS[message.reason],
            transaction_data=[
                m.StopTransactionMeterValue(
                    timestamp=utc(message.at),
                    sampled_value=[
                        m.StopTransactionSampledValue(
                            value=str(end.energy_wh),
                            context="Transaction.End",
                            measurand="Energy.Active.Import.Register",
                            unit="Wh",
                        )
                    ],
                )
            ],
        )
    if isinstance(message, MeterReport):
        return "MeterValues", m.MeterValuesRequest(
            connector_id=message.evse_id,
            meter_value=[
                m.MeterValue(
                    timestamp=utc(message.at),
                    sampled_value=sampled(message.reading, "Trigger", full=True),
                )
            ],
        )
    if isinstance(message, FirmwareStatus):
        if message.signed:
            return "SignedFirmwareStatusNotification", m.SignedFirmwareStatusNotificationRequest(
                status=message.status,  # type: ignore[arg-type]
                request_id=message.request_id,
            )
        return "FirmwareStatusNotification", m.FirmwareStatusNotificationRequest(
            status=message.status  # type: ignore[arg-type]
        )
    if isinstance(message, LogStatus):
        if message.diagnostics:
            return "DiagnosticsStatusNotification", m.DiagnosticsStatusNotificationRequest(
                status=DIAGNOSTICS[message.state]
            )
        return "LogStatusNotification", m.LogStatusNotificationRequest(
            status=LOGS[message.state], request_id=message.request_id
        )
    if isinstance(message, SecurityEvent):
        return "SecurityEventNotification", m.SecurityEventNotificationRequest(
            type=message.kind, timestamp=utc(message.at), tech_info=message.info
        )
    if isinstance(message, SignRequest):
        return "SignCertificate", m.SignCertificateRequest(csr=message.csr)
    if isinstance(message, Custom):
        return message.action, message.request
    raise Undeliverable(f"OCPP 1.6 has no message for {type(message).__name__}")


class V16Adapter:
    """The OCPP 1.6J adapter (stateless: one serves every 1.6 charger of a process)."""

    version = OcppVersion.V16

    def __init__(self) -> None:
        self.protocol = OcppProtocol(
            OcppVersion.V16, role="charger", max_frame_bytes=MAX_FRAME_BYTES
        )

    def status_name(self, status: ConnectorStatus) -> str:
        return status.value

    def sends(self, message: Message) -> bool:
        if isinstance(message, TxUpdated):  # 1.6 reports charging states as statuses only
            return message.cause is not UpdateCause.CHARGING_STATE
        if isinstance(message, FirmwareStatus) and not message.signed:
            return message.status in FIRMWARE_STATUSES
        return not isinstance(message, ReservationEnded)

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
            ok = response.id_tag_info.status == "Accepted"
            station.authorized(message.evse_id, message.id_token, ok, now)
        elif isinstance(response, m.StartTransactionResponse) and isinstance(message, TxStarted):
            ok = response.id_tag_info.status == "Accepted"
            station.tx_confirmed(message.tx, ok, now, csms_id=response.transaction_id)
        elif isinstance(response, m.SignCertificateResponse) and response.status != "Accepted":
            station.csr_key = None

    def answer(self, call: IncomingCall, core: ChargerCore, now: float) -> msgspec.Struct:
        handler = HANDLERS.get(call.action)
        if handler is None:
            raise RpcError(ErrorKind.NOT_IMPLEMENTED, f"{call.action} is not simulated")
        return handler(core, call.request, now)


ADAPTER = V16Adapter()
