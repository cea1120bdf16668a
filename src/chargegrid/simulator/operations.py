"""What a station does when the CSMS asks, version-neutral.

The adapters read a CSMS CALL of their version, call one of these and spell the result
in their version's words. Results are plain strings where both versions share them
(Accepted, Rejected, Scheduled...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from enum import Enum

from chargegrid.simulator import certificates
from chargegrid.simulator.evse import Evse, Job, Reservation
from chargegrid.simulator.model import (
    BootReason,
    ConnectorStatus,
    FirmwareStatus,
    LogState,
    LogStatus,
    MeterReport,
    SignRequest,
    StatusChange,
    StopReason,
    UpdateCause,
)
from chargegrid.simulator.profiles import Period, Profile, Purpose
from chargegrid.simulator.station import Station

ACCEPTED = "Accepted"
REJECTED = "Rejected"
SCHEDULED = "Scheduled"
# How long the simulated transfers take (seconds between their status notifications).
TRANSFER_STEP_S = 2.0


def _url(location: str) -> bool:
    return "://" in location


# -- transactions ----------------------------------------------------------------------------


def remote_start(
    station: Station,
    *,
    id_token: str,
    token_type: str,
    evse_id: int | None,
    now: float,
    remote_start_id: int | None = None,
    profile: Profile | None = None,
) -> bool:
    """Start a session for a driver at the charger: on ``evse_id``, or the first free EVSE.

    An EV already plugged in and waiting is used; otherwise the driver plugs in now.
    """
    if profile is not None and profile.purpose is not Purpose.TX:
        return False
    candidates = [station.evse(evse_id)] if evse_id else station.evses
    for evse in candidates:
        if evse is None or not _startable(evse, id_token):
            continue
        if evse.ev is None:
            evse.ev = station.random_ev(evse.spec)
            low, high = station.behaviour.duration_s
            evse.depart_at = now + station.rng.uniform(low, high)
            station.set_status(evse, ConnectorStatus.PREPARING, now)
        if evse.token is not None and evse.token != id_token:
            station.tokens.release(evse.token)  # the waiting driver gives way
        station.tokens.hold(id_token)
        evse.token, evse.token_type, evse.authorizing = id_token, token_type, False
        station.begin(evse, now, remote_start_id=remote_start_id, remote=True, profile=profile)
        return True
    return False


def _startable(evse: Evse, id_token: str) -> bool:
    waiting = evse.ev is not None and evse.unplug_at is None
    return (
        (evse.ev is None or waiting)
        and evse.tx is None
        and evse.operative
        and evse.fault is None
        and (evse.reservation is None or evse.reservation.id_token == id_token)
    )


def remote_stop(station: Station, evse: Evse | None, now: float) -> bool:
    """Stop the transaction of an EVSE (found by the adapter); False if there is none."""
    if evse is None or evse.tx is None:
        return False
    station.stop(evse, StopReason.REMOTE, now)
    return True


# -- reset, unlock, availability -------------------------------------------------------------


def reset(station: Station, *, hard: bool, when_idle: bool, evse_id: int | None, now: float) -> str:
    """Restart the charger (or, with ``evse_id``, end that EVSE's transaction)."""
    reason = StopReason.HARD_RESET if hard else StopReason.SOFT_RESET
    if evse_id is not None:
        evse = station.evse(evse_id)
        if evse is None:
            return REJECTED
        if evse.tx is not None:
            if when_idle:
                return SCHEDULED
            station.stop(evse, reason, now)
        return ACCEPTED
    busy = [e for e in station.evses if e.tx is not None]
    if busy and when_idle:
        station.reset_when_idle = True
        return SCHEDULED
    for evse in busy:
        station.stop(evse, reason, now, leave=True)
    station.request_reboot(now, BootReason.REMOTE_RESET)
    return ACCEPTED


class Unlock(Enum):
    UNLOCKED = "unlocked"
    UNKNOWN = "unknown"  # no such connector
    ONGOING = "ongoing"  # a transaction holds it (OCPP 2.0.1 does not stop it)


def unlock(station: Station, evse_id: int, *, stop_transaction: bool, now: float) -> Unlock:
    evse = station.evse(evse_id)
    if evse is None:
        return Unlock.UNKNOWN
    if evse.tx is not None:
        if not stop_transaction:
            return Unlock.ONGOING
        station.stop(evse, StopReason.UNLOCK, now, leave=True)
    elif evse.ev is not None:
        station.unplug(evse, now)
    return Unlock.UNLOCKED


def change_availability(station: Station, evse_id: int | None, operative: bool, now: float) -> str:
    """Make an EVSE (None or 0: every EVSE) operative or not; Scheduled while a
    transaction runs on it (it becomes unavailable when that ends)."""
    targets = station.evses if not evse_id else [station.evse(evse_id)]
    result = ACCEPTED
    for evse in targets:
        if evse is None:
            return REJECTED
        evse.operative = operative
        if evse.tx is not None or evse.ev is not None:
            result = SCHEDULED if evse.tx is not None and not operative else result
            continue
        station.set_status(evse, station.idle_status(evse), now)
    return result


# -- reservations and authorization ----------------------------------------------------------


def reserve(
    station: Station,
    *,
    reservation_id: int,
    id_token: str,
    expires_at: float,
    evse_id: int | None,
    now: float,
) -> str:
    """Reserve an EVSE (None or 0: any free one) for a token: Accepted, Faulted, Occupied,
    Unavailable or Rejected."""
    for other in station.evses:  # a reservation with the same id is replaced
        if other.reservation is not None and other.reservation.id == reservation_id:
            other.reservation = None
    evse: Evse | None
    if evse_id:
        evse = station.evse(evse_id)
        if evse is None:
            return REJECTED
    else:
        free = [e for e in station.evses if station.is_free(e, None)]
        if not free:
            return "Occupied"
        evse = free[0]
    if evse.fault is not None:
        return "Faulted"
    if not evse.operative:
        return "Unavailable"
    if evse.ev is not None or evse.tx is not None or evse.reservation is not None:
        return "Occupied"
    evse.reservation = Reservation(reservation_id, id_token, expires_at)
    station.set_status(evse, station.idle_status(evse), now)
    return ACCEPTED


def cancel_reservation(station: Station, reservation_id: int, now: float) -> bool:
    for evse in station.evses:
        if evse.reservation is not None and evse.reservation.id == reservation_id:
            evse.reservation = None
            if evse.ev is None:
                station.set_status(evse, station.idle_status(evse), now)
            return True
    return False


def send_local_list(
    station: Station, *, version: int, full: bool, entries: Iterable[tuple[str, bool | None]]
) -> str:
    """Replace (``full``) or update the local authorization list; an entry's decision None
    removes it. Accepted or VersionMismatch."""
    if not full and version <= station.local_list_version:
        return "VersionMismatch"
    if full:
        station.local_list = {}
    for token, accepted in entries:
        if accepted is None:
            station.local_list.pop(token, None)
        else:
            station.local_list[token] = accepted
    station.local_list_version = version
    return ACCEPTED


# -- smart charging --------------------------------------------------------------------------


def set_profile(station: Station, evse_id: int, profile: Profile, now: float) -> bool:
    """Install a charging profile; False when it cannot apply where it is sent.

    The station maximum goes on EVSE 0; a TxProfile needs the transaction of its EVSE
    (and is bound to it).
    """
    if evse_id and station.evse(evse_id) is None:
        return False
    if profile.purpose is Purpose.STATION_MAX and evse_id != 0:
        return False
    if profile.purpose is Purpose.TX:
        evse = station.evse(evse_id)
        if evse is None or evse.tx is None:
            return False
        if profile.transaction not in (None, evse.tx.key):
            return False
        profile = replace(profile, transaction=evse.tx.key)
    station.profiles.install(evse_id, profile, now)
    station.repower(now)
    return True


def clear_profiles(
    station: Station,
    *,
    profile_id: int | None,
    evse_id: int | None,
    purpose: Purpose | None,
    stack_level: int | None,
    now: float,
) -> bool:
    removed = station.profiles.clear(
        profile_id=profile_id, evse_id=evse_id, purpose=purpose, stack_level=stack_level
    )
    station.repower(now)
    return removed > 0


def composite(
    station: Station, evse_id: int, duration: float, unit: str, now: float
) -> list[Period] | None:
    """The composite schedule of an EVSE (0: the first) from now; None if there is no
    such EVSE."""
    evse = station.evse(evse_id or 1)
    if evse is None:
        return None
    tx = evse.tx
    return station.profiles.composite(
        evse.id,
        evse.spec,
        now,
        duration,
        tx=None if tx is None else tx.key,
        tx_start=None if tx is None else tx.started_at,
        unit=unit,
    )


# -- firmware, logs, triggers ----------------------------------------------------------------


def update_firmware(
    station: Station,
    *,
    location: str,
    retrieve_at: float,
    install_at: float | None,
    request_id: int | None,
    signed: bool,
    now: float,
) -> bool:
    """Download and install firmware, reporting each step; True if a running update was
    cancelled for it."""
    cancelled = False
    for job in list(station.jobs):
        if job.firmware:
            station.jobs.remove(job)
            cancelled = True
    at = max(now, retrieve_at) + TRANSFER_STEP_S
    steps = [(at, "Downloading")]
    if not _url(location):
        steps.append((at + TRANSFER_STEP_S, "DownloadFailed"))
    else:
        at += TRANSFER_STEP_S
        steps.append((at, "Downloaded"))
        if signed:
            steps.append((at, "SignatureVerified"))
        at = max(at, install_at or at) + TRANSFER_STEP_S
        steps += [(at, "Installing"), (at + TRANSFER_STEP_S, "Installed")]
    station.jobs.append(Job(True, request_id, signed, steps))
    return cancelled


def upload_log(
    station: Station, *, location: str, request_id: int | None, diagnostics: bool, now: float
) -> str:
    """Upload a log file, reporting each step; returns the file's name."""
    at = now + TRANSFER_STEP_S
    last = LogState.UPLOADED if _url(location) else LogState.FAILED
    steps = [(at, LogState.UPLOADING.value), (at + TRANSFER_STEP_S, last.value)]
    station.jobs.append(Job(False, request_id, diagnostics, steps))
    return f"{station.charger_id}-{round(now)}.log"


def trigger(station: Station, what: str, evse_id: int | None, now: float) -> str:
    """Send a message on the CSMS's request (those of the station; boot and heartbeat are
    the core's): Accepted, Rejected or NotImplemented."""
    evses = station.evses if not evse_id else [station.evse(evse_id)]
    if any(evse is None for evse in evses):
        return REJECTED
    chosen = [evse for evse in evses if evse is not None]
    if what == "StatusNotification":
        for evse in chosen:
            station.emit(StatusChange(evse.id, evse.status, now, evse.fault, forced=True))
        return ACCEPTED
    if what == "MeterValues":
        for evse in chosen:
            evse.meter.advance(now, evse.ev)
            station.emit(MeterReport(evse.id, now, evse.reading()))
        return ACCEPTED
    if what == "TransactionEvent":
        running = [evse for evse in chosen if evse.tx is not None]
        for evse in running:
            station.report(evse, now, UpdateCause.TRIGGER)
        return ACCEPTED if running else REJECTED
    if what == "FirmwareStatusNotification":
        station.emit(FirmwareStatus(station.firmware_status, None, False))
        return ACCEPTED
    if what in ("LogStatusNotification", "DiagnosticsStatusNotification"):
        station.emit(LogStatus(station.log_state, None, what.startswith("Diagnostics")))
        return ACCEPTED
    return "NotImplemented"


def sign_request(
    station: Station, *, organization: str | None, certificate_type: str | None
) -> str:
    """Make a new key and send its CSR (SignCertificate)."""
    key, csr = certificates.signing_request(station.charger_id, organization)
    station.csr_key = key
    station.emit(SignRequest(csr, certificate_type))
    return ACCEPTED
