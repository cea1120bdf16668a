"""OCPP 2.0.1 for the simulator: the CSMS's CALLs about transactions, availability,
reservations, authorization, smart charging, firmware, logs and certificates (the device
model is in ``v201_device``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from chargegrid.ocpp.v201 import messages as m
from chargegrid.simulator import certificates, operations
from chargegrid.simulator.core import ChargerCore
from chargegrid.simulator.model import Custom, posix, posix_or_none, utc
from chargegrid.simulator.profiles import Kind, Period, Profile, Purpose

Handler = Callable[[ChargerCore, Any, float], msgspec.Struct]

PURPOSES: dict[str, Purpose] = {
    "ChargingStationMaxProfile": Purpose.STATION_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
    "ChargingStationExternalConstraints": Purpose.EXTERNAL,
}
PURPOSE_NAMES = {purpose: name for name, purpose in PURPOSES.items()}
KINDS = {"Absolute": Kind.ABSOLUTE, "Relative": Kind.RELATIVE, "Recurring": Kind.RECURRING}
KIND_NAMES: dict[Kind, m.ChargingProfileKindEnum] = {
    Kind.ABSOLUTE: "Absolute",
    Kind.RELATIVE: "Relative",
    Kind.RECURRING: "Recurring",
}
UNLOCKED: dict[operations.Unlock, m.UnlockStatusEnum] = {
    operations.Unlock.UNLOCKED: "Unlocked",
    operations.Unlock.UNKNOWN: "UnknownConnector",
    operations.Unlock.ONGOING: "OngoingAuthorizedTransaction",
}
SIGN_TRIGGERS: dict[str, m.CertificateSigningUseEnum] = {
    "SignChargingStationCertificate": "ChargingStationCertificate",
    "SignV2GCertificate": "V2GCertificate",
}


def accepted(ok: bool) -> Any:
    return "Accepted" if ok else "Rejected"


# -- charging profiles -----------------------------------------------------------------------


def profile_of(p: m.ChargingProfile) -> Profile:
    schedule = p.charging_schedule[0]
    return Profile(
        id=p.id,
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
        transaction=p.transaction_id,
    )


def ocpp_profile(profile: Profile) -> m.ChargingProfile:
    return m.ChargingProfile(
        id=profile.id,
        stack_level=profile.stack_level,
        charging_profile_purpose=PURPOSE_NAMES[profile.purpose],  # type: ignore[arg-type]
        charging_profile_kind=KIND_NAMES[profile.kind],
        recurrency_kind=(
            None
            if profile.kind is not Kind.RECURRING
            else ("Daily" if profile.recurring_daily else "Weekly")
        ),
        valid_from=None if profile.valid_from is None else utc(profile.valid_from),
        valid_to=None if profile.valid_to is None else utc(profile.valid_to),
        transaction_id=profile.transaction,
        charging_schedule=[
            m.ChargingSchedule(
                id=profile.id,
                charging_rate_unit=profile.unit,  # type: ignore[arg-type]
                start_schedule=None if profile.start is None else utc(profile.start),
                duration=None if profile.duration is None else round(profile.duration),
                charging_schedule_period=[
                    m.ChargingSchedulePeriod(
                        start_period=round(p.start_s), limit=p.limit, number_phases=p.phases
                    )
                    for p in profile.periods
                ],
            )
        ],
    )


def set_profile(
    core: ChargerCore, r: m.SetChargingProfileRequest, now: float
) -> m.SetChargingProfileResponse:
    ok = operations.set_profile(core.station, r.evse_id, profile_of(r.charging_profile), now)
    return m.SetChargingProfileResponse(status=accepted(ok))


def clear_profile(
    core: ChargerCore, r: m.ClearChargingProfileRequest, now: float
) -> m.ClearChargingProfileResponse:
    criteria = r.charging_profile_criteria or m.ClearChargingProfile()
    purpose = criteria.charging_profile_purpose
    found = operations.clear_profiles(
        core.station,
        profile_id=r.charging_profile_id,
        evse_id=criteria.evse_id,
        purpose=None if purpose is None else PURPOSES[purpose],
        stack_level=criteria.stack_level,
        now=now,
    )
    return m.ClearChargingProfileResponse(status="Accepted" if found else "Unknown")


def get_profiles(
    core: ChargerCore, r: m.GetChargingProfilesRequest, now: float
) -> m.GetChargingProfilesResponse:
    wanted = r.charging_profile
    found: dict[int, list[Profile]] = {}
    for evse_id, profile in core.station.profiles.entries():
        if r.evse_id is not None and evse_id != r.evse_id:
            continue
        if (
            (
                wanted.charging_profile_purpose is not None
                and PURPOSES[wanted.charging_profile_purpose] is not profile.purpose
            )
            or (wanted.stack_level is not None and wanted.stack_level != profile.stack_level)
            or (wanted.charging_profile_id and profile.id not in wanted.charging_profile_id)
        ):
            continue
        found.setdefault(evse_id, []).append(profile)
    if not found:
        return m.GetChargingProfilesResponse(status="NoProfiles")
    evses = sorted(found)
    for n, evse_id in enumerate(evses):
        report = m.ReportChargingProfilesRequest(
            request_id=r.request_id,
            charging_limit_source="CSO",
            charging_profile=[ocpp_profile(p) for p in found[evse_id]],
            evse_id=evse_id,
            tbc=True if n < len(evses) - 1 else None,
        )
        core.station.emit(Custom("ReportChargingProfiles", report))
    return m.GetChargingProfilesResponse(status="Accepted")


def composite_schedule(
    core: ChargerCore, r: m.GetCompositeScheduleRequest, now: float
) -> m.GetCompositeScheduleResponse:
    unit = r.charging_rate_unit or "W"
    periods = operations.composite(core.station, r.evse_id, r.duration, unit, now)
    if periods is None:
        return m.GetCompositeScheduleResponse(status="Rejected")
    return m.GetCompositeScheduleResponse(
        status="Accepted",
        schedule=m.CompositeSchedule(
            evse_id=r.evse_id,
            duration=r.duration,
            schedule_start=utc(now),
            charging_rate_unit=unit,
            charging_schedule_period=[
                m.ChargingSchedulePeriod(start_period=round(p.start_s), limit=p.limit)
                for p in periods
            ],
        ),
    )


# -- transactions, availability, reservations --------------------------------------------------


def request_start(
    core: ChargerCore, r: m.RequestStartTransactionRequest, now: float
) -> m.RequestStartTransactionResponse:
    profile = None if r.charging_profile is None else profile_of(r.charging_profile)
    ok = operations.remote_start(
        core.station,
        id_token=r.id_token.id_token,
        token_type=r.id_token.type,
        evse_id=r.evse_id,
        now=now,
        remote_start_id=r.remote_start_id,
        profile=profile,
    )
    return m.RequestStartTransactionResponse(status=accepted(ok))


def request_stop(
    core: ChargerCore, r: m.RequestStopTransactionRequest, now: float
) -> m.RequestStopTransactionResponse:
    evse = core.station.active(key=r.transaction_id)
    return m.RequestStopTransactionResponse(
        status=accepted(operations.remote_stop(core.station, evse, now))
    )


def transaction_status(
    core: ChargerCore, r: m.GetTransactionStatusRequest, now: float
) -> m.GetTransactionStatusResponse:
    if r.transaction_id is None:
        return m.GetTransactionStatusResponse(messages_in_queue=core.queued_for(None))
    ongoing = core.station.active(key=r.transaction_id) is not None
    return m.GetTransactionStatusResponse(
        messages_in_queue=core.queued_for(r.transaction_id), ongoing_indicator=ongoing
    )


def reset(core: ChargerCore, r: m.ResetRequest, now: float) -> m.ResetResponse:
    status = operations.reset(
        core.station,
        hard=r.type == "Immediate",
        when_idle=r.type == "OnIdle",
        evse_id=r.evse_id,
        now=now,
    )
    return m.ResetResponse(status=status)  # type: ignore[arg-type]


def unlock(core: ChargerCore, r: m.UnlockConnectorRequest, now: float) -> m.UnlockConnectorResponse:
    if r.connector_id != 1:
        return m.UnlockConnectorResponse(status="UnknownConnector")
    result = operations.unlock(core.station, r.evse_id, stop_transaction=False, now=now)
    return m.UnlockConnectorResponse(status=UNLOCKED[result])


def change_availability(
    core: ChargerCore, r: m.ChangeAvailabilityRequest, now: float
) -> m.ChangeAvailabilityResponse:
    evse_id = None if r.evse is None else r.evse.id
    if r.evse is not None and r.evse.connector_id not in (None, 1):
        return m.ChangeAvailabilityResponse(status="Rejected")
    status = operations.change_availability(
        core.station, evse_id, r.operational_status == "Operative", now
    )
    return m.ChangeAvailabilityResponse(status=status)  # type: ignore[arg-type]


def reserve_now(core: ChargerCore, r: m.ReserveNowRequest, now: float) -> m.ReserveNowResponse:
    status = operations.reserve(
        core.station,
        reservation_id=r.id,
        id_token=r.id_token.id_token,
        expires_at=posix(r.expiry_date_time),
        evse_id=r.evse_id,
        now=now,
    )
    return m.ReserveNowResponse(status=status)  # type: ignore[arg-type]


def cancel_reservation(
    core: ChargerCore, r: m.CancelReservationRequest, now: float
) -> m.CancelReservationResponse:
    ok = operations.cancel_reservation(core.station, r.reservation_id, now)
    return m.CancelReservationResponse(status=accepted(ok))


def trigger(core: ChargerCore, r: m.TriggerMessageRequest, now: float) -> m.TriggerMessageResponse:
    what = r.requested_message
    evse_id = None if r.evse is None else r.evse.id
    if what in SIGN_TRIGGERS:
        status = operations.sign_request(
            core.station, organization=core.organization, certificate_type=SIGN_TRIGGERS[what]
        )
    else:
        status = core.trigger(what, evse_id, now, boot_when_accepted=False)
    return m.TriggerMessageResponse(status=status)  # type: ignore[arg-type]


# -- authorization -----------------------------------------------------------------------------


def send_local_list(
    core: ChargerCore, r: m.SendLocalListRequest, now: float
) -> m.SendLocalListResponse:
    entries = (
        (
            e.id_token.id_token,
            None if e.id_token_info is None else e.id_token_info.status == "Accepted",
        )
        for e in r.local_authorization_list or ()
    )
    status = operations.send_local_list(
        core.station, version=r.version_number, full=r.update_type == "Full", entries=entries
    )
    return m.SendLocalListResponse(status=status)  # type: ignore[arg-type]


def get_local_list_version(
    core: ChargerCore, r: m.GetLocalListVersionRequest, now: float
) -> m.GetLocalListVersionResponse:
    return m.GetLocalListVersionResponse(version_number=core.station.local_list_version)


def clear_cache(core: ChargerCore, r: m.ClearCacheRequest, now: float) -> m.ClearCacheResponse:
    core.station.auth_cache.clear()
    return m.ClearCacheResponse(status="Accepted")


# -- firmware, logs, certificates ----------------------------------------------------------------


def update_firmware(
    core: ChargerCore, r: m.UpdateFirmwareRequest, now: float
) -> m.UpdateFirmwareResponse:
    firmware = r.firmware
    signed = firmware.signing_certificate is not None
    if signed and certificates.hash_data(firmware.signing_certificate or "") is None:
        return m.UpdateFirmwareResponse(status="InvalidCertificate")
    cancelled = operations.update_firmware(
        core.station,
        location=firmware.location,
        retrieve_at=posix(firmware.retrieve_date_time),
        install_at=posix_or_none(firmware.install_date_time),
        request_id=r.request_id,
        signed=signed,
        now=now,
    )
    return m.UpdateFirmwareResponse(status="AcceptedCanceled" if cancelled else "Accepted")


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
    wanted = r.certificate_type
    chains = [
        m.CertificateHashDataChain(
            certificate_type=c.use,  # type: ignore[arg-type]
            certificate_hash_data=m.CertificateHashData(
                hash_algorithm=c.hash.algorithm,  # type: ignore[arg-type]
                issuer_name_hash=c.hash.issuer_name_hash,
                issuer_key_hash=c.hash.issuer_key_hash,
                serial_number=c.hash.serial_number,
            ),
        )
        for c in core.station.certificates
        if wanted is None or c.use in wanted
    ]
    if not chains:
        return m.GetInstalledCertificateIdsResponse(status="NotFound")
    return m.GetInstalledCertificateIdsResponse(
        status="Accepted", certificate_hash_data_chain=chains
    )


def certificate_signed(
    core: ChargerCore, r: m.CertificateSignedRequest, now: float
) -> m.CertificateSignedResponse:
    ok = certificates.accepts_chain(core.station.csr_key, r.certificate_chain)
    return m.CertificateSignedResponse(status=accepted(ok))


HANDLERS: dict[str, Handler] = {
    "CancelReservation": cancel_reservation,
    "CertificateSigned": certificate_signed,
    "ChangeAvailability": change_availability,
    "ClearCache": clear_cache,
    "ClearChargingProfile": clear_profile,
    "DeleteCertificate": delete_certificate,
    "GetChargingProfiles": get_profiles,
    "GetCompositeSchedule": composite_schedule,
    "GetInstalledCertificateIds": installed_certificates,
    "GetLocalListVersion": get_local_list_version,
    "GetLog": get_log,
    "GetTransactionStatus": transaction_status,
    "InstallCertificate": install_certificate,
    "RequestStartTransaction": request_start,
    "RequestStopTransaction": request_stop,
    "ReserveNow": reserve_now,
    "Reset": reset,
    "SendLocalList": send_local_list,
    "SetChargingProfile": set_profile,
    "TriggerMessage": trigger,
    "UnlockConnector": unlock,
    "UpdateFirmware": update_firmware,
}
