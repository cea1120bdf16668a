"""OCPP 1.6J for the simulator: the CSMS's CALLs, answered by neutral operations."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from chargegrid.ocpp.v16 import messages as m
from chargegrid.simulator import certificates, operations
from chargegrid.simulator.core import ChargerCore
from chargegrid.simulator.model import FirmwareStatus, posix, posix_or_none, utc
from chargegrid.simulator.profiles import Kind, Period, Profile, Purpose

PURPOSES: dict[str, Purpose] = {
    "ChargePointMaxProfile": Purpose.STATION_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
}
KINDS = {"Absolute": Kind.ABSOLUTE, "Relative": Kind.RELATIVE, "Recurring": Kind.RECURRING}
MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"


# -- configuration keys ------------------------------------------------------------------------

# key -> (read-only, value type, default); HeartbeatInterval, MeterValueSampleInterval and
# NumberOfConnectors are the station's own state.
KEYS: dict[str, tuple[bool, str, str]] = {
    "HeartbeatInterval": (False, "int", ""),
    "MeterValueSampleInterval": (False, "int", ""),
    "NumberOfConnectors": (True, "int", ""),
    "AuthorizeRemoteTxRequests": (False, "bool", "false"),
    "AuthorizationCacheEnabled": (False, "bool", "true"),
    "ClockAlignedDataInterval": (False, "int", "0"),
    "ConnectionTimeOut": (False, "int", "60"),
    "GetConfigurationMaxKeys": (True, "int", "50"),
    "LocalAuthorizeOffline": (False, "bool", "true"),
    "LocalPreAuthorize": (False, "bool", "false"),
    "MeterValuesSampledData": (False, "str", MEASURANDS),
    "MeterValuesAlignedData": (False, "str", "Energy.Active.Import.Register"),
    "ResetRetries": (False, "int", "1"),
    "StopTransactionOnEVSideDisconnect": (False, "bool", "true"),
    "StopTransactionOnInvalidId": (False, "bool", "true"),
    "StopTxnSampledData": (False, "str", "Energy.Active.Import.Register"),
    "StopTxnAlignedData": (False, "str", ""),
    "SupportedFeatureProfiles": (
        True,
        "str",
        "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
    ),
    "TransactionMessageAttempts": (False, "int", "3"),
    "TransactionMessageRetryInterval": (False, "int", "10"),
    "UnlockConnectorOnEVSideDisconnect": (False, "bool", "true"),
    "WebSocketPingInterval": (False, "int", "0"),
    "LocalAuthListEnabled": (False, "bool", "true"),
    "LocalAuthListMaxLength": (True, "int", "1000"),
    "SendLocalListMaxLength": (True, "int", "100"),
    "ReserveConnectorZeroSupported": (True, "bool", "true"),
    "ChargeProfileMaxStackLevel": (True, "int", "10"),
    "ChargingScheduleAllowedChargingRateUnit": (True, "str", "Current,Power"),
    "ChargingScheduleMaxPeriods": (True, "int", "24"),
    "MaxChargingProfilesInstalled": (True, "int", "10"),
    "SecurityProfile": (False, "int", "1"),
}


def config_value(core: ChargerCore, key: str) -> str:
    station = core.station
    if key == "HeartbeatInterval":
        return str(round(station.heartbeat_interval))
    if key == "MeterValueSampleInterval":
        return str(round(station.meter_interval))
    if key == "NumberOfConnectors":
        return str(len(station.evses))
    return station.config.get(key, KEYS[key][2])


def valid(kind: str, value: str) -> bool:
    if kind == "int":
        return value.strip().lstrip("-").isdigit()
    if kind == "bool":
        return value.lower() in ("true", "false")
    return True


# -- answering the CSMS --------------------------------------------------------------------------

Handler = Callable[[ChargerCore, Any, float], msgspec.Struct]


def profile_of(core: ChargerCore, p: m.ChargingProfile) -> Profile | None:
    """The neutral profile; None if it names a transaction the charger does not run."""
    schedule = p.charging_schedule
    transaction = None
    if p.transaction_id is not None:
        evse = core.station.active(csms_id=p.transaction_id)
        if evse is None or evse.tx is None:
            return None
        transaction = evse.tx.key
    return Profile(
        id=p.charging_profile_id,
        stack_level=p.stack_level,
        purpose=PURPOSES[p.charging_profile_purpose],
        kind=KINDS[p.charging_profile_kind],
        unit=schedule.charging_rate_unit,
        periods=tuple(
            Period(x.start_period, x.limit, x.number_phases)
            for x in schedule.charging_schedule_period
        ),
        recurring_daily=p.recurrency_kind != "Weekly",
        valid_from=posix_or_none(p.valid_from),
        valid_to=posix_or_none(p.valid_to),
        start=posix_or_none(schedule.start_schedule),
        duration=schedule.duration,
        transaction=transaction,
    )


def accepted(ok: bool) -> Any:
    return "Accepted" if ok else "Rejected"


def remote_start(
    core: ChargerCore, r: m.RemoteStartTransactionRequest, now: float
) -> m.RemoteStartTransactionResponse:
    profile = None if r.charging_profile is None else profile_of(core, r.charging_profile)
    ok = (r.connector_id is None or r.connector_id > 0) and (
        r.charging_profile is None or profile is not None
    )
    ok = ok and operations.remote_start(
        core.station,
        id_token=r.id_tag,
        token_type=core.station.behaviour.token_type,
        evse_id=r.connector_id,
        now=now,
        profile=profile,
    )
    return m.RemoteStartTransactionResponse(status=accepted(ok))


def remote_stop(
    core: ChargerCore, r: m.RemoteStopTransactionRequest, now: float
) -> m.RemoteStopTransactionResponse:
    evse = core.station.active(csms_id=r.transaction_id)
    return m.RemoteStopTransactionResponse(
        status=accepted(operations.remote_stop(core.station, evse, now))
    )


def reset(core: ChargerCore, r: m.ResetRequest, now: float) -> m.ResetResponse:
    status = operations.reset(
        core.station, hard=r.type == "Hard", when_idle=False, evse_id=None, now=now
    )
    return m.ResetResponse(status=accepted(status == operations.ACCEPTED))


def unlock(core: ChargerCore, r: m.UnlockConnectorRequest, now: float) -> m.UnlockConnectorResponse:
    result = operations.unlock(core.station, r.connector_id, stop_transaction=True, now=now)
    return m.UnlockConnectorResponse(
        status="NotSupported" if result is operations.Unlock.UNKNOWN else "Unlocked"
    )


def change_availability(
    core: ChargerCore, r: m.ChangeAvailabilityRequest, now: float
) -> m.ChangeAvailabilityResponse:
    status = operations.change_availability(
        core.station, r.connector_id, r.type == "Operative", now
    )
    return m.ChangeAvailabilityResponse(status=status)  # type: ignore[arg-type]


def get_configuration(
    core: ChargerCore, r: m.GetConfigurationRequest, now: float
) -> m.GetConfigurationResponse:
    wanted = r.key or list(KEYS)
    known = [k for k in wanted if k in KEYS]
    unknown = [k for k in wanted if k not in KEYS]
    return m.GetConfigurationResponse(
        configuration_key=[
            m.KeyValue(key=k, readonly=KEYS[k][0], value=config_value(core, k)[:500]) for k in known
        ]
        or None,
        unknown_key=unknown or None,
    )


def change_configuration(
    core: ChargerCore, r: m.ChangeConfigurationRequest, now: float
) -> m.ChangeConfigurationResponse:
    spec = KEYS.get(r.key)
    if spec is None:
        return m.ChangeConfigurationResponse(status="NotSupported")
    readonly, kind, _ = spec
    if readonly or not valid(kind, r.value):
        return m.ChangeConfigurationResponse(status="Rejected")
    if r.key == "HeartbeatInterval":
        if int(r.value) <= 0:
            return m.ChangeConfigurationResponse(status="Rejected")
        core.set_heartbeat_interval(float(r.value), now)
    elif r.key == "MeterValueSampleInterval":
        if int(r.value) <= 0:
            return m.ChangeConfigurationResponse(status="Rejected")
        core.station.meter_interval = float(r.value)
    else:
        core.station.config[r.key] = r.value
    return m.ChangeConfigurationResponse(status="Accepted")


def clear_cache(core: ChargerCore, r: m.ClearCacheRequest, now: float) -> m.ClearCacheResponse:
    core.station.auth_cache.clear()
    return m.ClearCacheResponse(status="Accepted")


def trigger(core: ChargerCore, r: m.TriggerMessageRequest, now: float) -> m.TriggerMessageResponse:
    status = core.trigger(r.requested_message, r.connector_id or None, now)
    return m.TriggerMessageResponse(status=status)  # type: ignore[arg-type]


def extended_trigger(
    core: ChargerCore, r: m.ExtendedTriggerMessageRequest, now: float
) -> m.ExtendedTriggerMessageResponse:
    what = r.requested_message
    if what == "SignChargePointCertificate":
        status = operations.sign_request(
            core.station, organization=core.organization, certificate_type=None
        )
    elif what == "FirmwareStatusNotification":  # answered by SignedFirmwareStatusNotification
        core.station.emit(FirmwareStatus(core.station.firmware_status, None, True))
        status = operations.ACCEPTED
    else:
        status = core.trigger(what, r.connector_id or None, now)
    return m.ExtendedTriggerMessageResponse(status=status)  # type: ignore[arg-type]


def reserve_now(core: ChargerCore, r: m.ReserveNowRequest, now: float) -> m.ReserveNowResponse:
    status = operations.reserve(
        core.station,
        reservation_id=r.reservation_id,
        id_token=r.id_tag,
        expires_at=posix(r.expiry_date),
        evse_id=r.connector_id,
        now=now,
    )
    return m.ReserveNowResponse(status=status)  # type: ignore[arg-type]


def cancel_reservation(
    core: ChargerCore, r: m.CancelReservationRequest, now: float
) -> m.CancelReservationResponse:
    ok = operations.cancel_reservation(core.station, r.reservation_id, now)
    return m.CancelReservationResponse(status=accepted(ok))


def send_local_list(
    core: ChargerCore, r: m.SendLocalListRequest, now: float
) -> m.SendLocalListResponse:
    entries: Iterable[tuple[str, bool | None]] = (
        (e.id_tag, None if e.id_tag_info is None else e.id_tag_info.status == "Accepted")
        for e in r.local_authorization_list or ()
    )
    status = operations.send_local_list(
        core.station, version=r.list_version, full=r.update_type == "Full", entries=entries
    )
    return m.SendLocalListResponse(status=status)  # type: ignore[arg-type]


def get_local_list_version(
    core: ChargerCore, r: m.GetLocalListVersionRequest, now: float
) -> m.GetLocalListVersionResponse:
    return m.GetLocalListVersionResponse(list_version=core.station.local_list_version)


def set_profile(
    core: ChargerCore, r: m.SetChargingProfileRequest, now: float
) -> m.SetChargingProfileResponse:
    profile = profile_of(core, r.cs_charging_profiles)
    ok = profile is not None and operations.set_profile(core.station, r.connector_id, profile, now)
    return m.SetChargingProfileResponse(status=accepted(ok))


def clear_profile(
    core: ChargerCore, r: m.ClearChargingProfileRequest, now: float
) -> m.ClearChargingProfileResponse:
    purpose = r.charging_profile_purpose
    found = operations.clear_profiles(
        core.station,
        profile_id=r.id,
        evse_id=r.connector_id,
        purpose=None if purpose is None else PURPOSES[purpose],
        stack_level=r.stack_level,
        now=now,
    )
    return m.ClearChargingProfileResponse(status="Accepted" if found else "Unknown")


def composite_schedule(
    core: ChargerCore, r: m.GetCompositeScheduleRequest, now: float
) -> m.GetCompositeScheduleResponse:
    unit = r.charging_rate_unit or "W"
    periods = operations.composite(core.station, r.connector_id, r.duration, unit, now)
    if periods is None:
        return m.GetCompositeScheduleResponse(status="Rejected")
    return m.GetCompositeScheduleResponse(
        status="Accepted",
        connector_id=r.connector_id,
        schedule_start=utc(now),
        charging_schedule=m.ChargingSchedule(
            charging_rate_unit=unit,
            duration=r.duration,
            start_schedule=utc(now),
            charging_schedule_period=[
                m.ChargingSchedulePeriod(start_period=round(p.start_s), limit=p.limit)
                for p in periods
            ],
        ),
    )


def update_firmware(
    core: ChargerCore, r: m.UpdateFirmwareRequest, now: float
) -> m.UpdateFirmwareResponse:
    operations.update_firmware(
        core.station,
        location=r.location,
        retrieve_at=posix(r.retrieve_date),
        install_at=None,
        request_id=None,
        signed=False,
        now=now,
    )
    return m.UpdateFirmwareResponse()


def signed_update_firmware(
    core: ChargerCore, r: m.SignedUpdateFirmwareRequest, now: float
) -> m.SignedUpdateFirmwareResponse:
    firmware = r.firmware
    if certificates.hash_data(firmware.signing_certificate) is None:
        return m.SignedUpdateFirmwareResponse(status="InvalidCertificate")
    cancelled = operations.update_firmware(
        core.station,
        location=firmware.location,
        retrieve_at=posix(firmware.retrieve_date_time),
        install_at=posix_or_none(firmware.install_date_time),
        request_id=r.request_id,
        signed=True,
        now=now,
    )
    return m.SignedUpdateFirmwareResponse(status="AcceptedCanceled" if cancelled else "Accepted")


def get_diagnostics(
    core: ChargerCore, r: m.GetDiagnosticsRequest, now: float
) -> m.GetDiagnosticsResponse:
    name = operations.upload_log(
        core.station, location=r.location, request_id=None, diagnostics=True, now=now
    )
    return m.GetDiagnosticsResponse(file_name=name)


def get_log(core: ChargerCore, r: m.GetLogRequest, now: float) -> m.GetLogResponse:
    name = operations.upload_log(
        core.station,
        location=r.log.remote_location,
        request_id=r.request_id,
        diagnostics=False,
        now=now,
    )
    return m.GetLogResponse(status="Accepted", filename=name)


def hash_of(data: m.CertificateHashData) -> certificates.HashData:
    return certificates.HashData(
        data.issuer_name_hash, data.issuer_key_hash, data.serial_number, data.hash_algorithm
    )


def install_certificate(
    core: ChargerCore, r: m.InstallCertificateRequest, now: float
) -> m.InstallCertificateResponse:
    ok = certificates.install(core.station.certificates, r.certificate_type, r.certificate)
    return m.InstallCertificateResponse(status=accepted(ok))


def delete_certificate(
    core: ChargerCore, r: m.DeleteCertificateRequest, now: float
) -> m.DeleteCertificateResponse:
    found = certificates.delete(core.station.certificates, hash_of(r.certificate_hash_data))
    return m.DeleteCertificateResponse(status="Accepted" if found else "NotFound")


def installed_certificates(
    core: ChargerCore, r: m.GetInstalledCertificateIdsRequest, now: float
) -> m.GetInstalledCertificateIdsResponse:
    found = [
        m.CertificateHashData(
            hash_algorithm=c.hash.algorithm,  # type: ignore[arg-type]
            issuer_name_hash=c.hash.issuer_name_hash,
            issuer_key_hash=c.hash.issuer_key_hash,
            serial_number=c.hash.serial_number,
        )
        for c in core.station.certificates
        if c.use == r.certificate_type
    ]
    if not found:
        return m.GetInstalledCertificateIdsResponse(status="NotFound")
    return m.GetInstalledCertificateIdsResponse(status="Accepted", certificate_hash_data=found)


def certificate_signed(
    core: ChargerCore, r: m.CertificateSignedRequest, now: float
) -> m.CertificateSignedResponse:
    ok = certificates.accepts_chain(core.station.csr_key, r.certificate_chain)
    return m.CertificateSignedResponse(status=accepted(ok))


def data_transfer(
    core: ChargerCore, r: m.DataTransferRequest, now: float
) -> m.DataTransferResponse:
    return m.DataTransferResponse(status="UnknownVendorId")


HANDLERS: dict[str, Handler] = {
    "CancelReservation": cancel_reservation,
    "CertificateSigned": certificate_signed,
    "ChangeAvailability": change_availability,
    "ChangeConfiguration": change_configuration,
    "ClearCache": clear_cache,
    "ClearChargingProfile": clear_profile,
    "DataTransfer": data_transfer,
    "DeleteCertificate": delete_certificate,
    "ExtendedTriggerMessage": extended_trigger,
    "GetCompositeSchedule": composite_schedule,
    "GetConfiguration": get_configuration,
    "GetDiagnostics": get_diagnostics,
    "GetInstalledCertificateIds": installed_certificates,
    "GetLocalListVersion": get_local_list_version,
    "GetLog": get_log,
    "InstallCertificate": install_certificate,
    "RemoteStartTransaction": remote_start,
    "RemoteStopTransaction": remote_stop,
    "ReserveNow": reserve_now,
    "Reset": reset,
    "SendLocalList": send_local_list,
    "SetChargingProfile": set_profile,
    "SignedUpdateFirmware": signed_update_firmware,
    "TriggerMessage": trigger,
    "UnlockConnector": unlock,
    "UpdateFirmware": update_firmware,
}
