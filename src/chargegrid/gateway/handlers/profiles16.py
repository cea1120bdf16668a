"""Smart charging commands as OCPP 1.6 calls (SetChargingProfile, ClearChargingProfile,
GetCompositeSchedule) and the profile of a remote start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chargegrid.domain.model import Command
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers.commands import OcppCall, Translation, at
from chargegrid.gateway.handlers.profiles import (
    check_placement,
    check_remote_start,
    check_schedule,
    invalid,
    transaction_of,
)
from chargegrid.ocpp.v16 import messages as m

PURPOSES: Mapping[str, m.ChargingProfilePurposeType] = {
    "charger_max": "ChargePointMaxProfile",
    "tx_default": "TxDefaultProfile",
    "tx": "TxProfile",
}
KINDS: Mapping[str, m.ChargingProfileKindType] = {
    "absolute": "Absolute",
    "recurring": "Recurring",
    "relative": "Relative",
}
RECURRENCIES: Mapping[str, m.RecurrencyKindType] = {"daily": "Daily", "weekly": "Weekly"}
RATE_UNITS: Mapping[str, m.ChargingRateUnitType] = {"W": "W", "A": "A"}


def charging_profile(
    profile: Mapping[str, Any], *, transaction_id: int | None = None
) -> m.ChargingProfile:
    """The 1.6 csChargingProfiles of a neutral profile; ``transaction_id`` is the charger's."""
    schedule = profile["schedule"]
    recurrency = profile.get("recurrency")
    return m.ChargingProfile(
        charging_profile_id=profile["id"],
        stack_level=profile["stack_level"],
        charging_profile_purpose=PURPOSES[profile["purpose"]],
        charging_profile_kind=KINDS[profile["kind"]],
        recurrency_kind=None if recurrency is None else RECURRENCIES[recurrency],
        valid_from=at(profile.get("valid_from")),
        valid_to=at(profile.get("valid_to")),
        transaction_id=transaction_id,
        charging_schedule=m.ChargingSchedule(
            charging_rate_unit=RATE_UNITS[schedule["rate_unit"]],
            charging_schedule_period=[
                m.ChargingSchedulePeriod(
                    start_period=period["start_period"],
                    limit=period["limit"],
                    number_phases=period.get("number_phases"),
                )
                for period in schedule["periods"]
            ],
            duration=schedule.get("duration"),
            start_schedule=at(schedule.get("start")),
            min_charging_rate=schedule.get("min_rate"),
        ),
    )


def remote_start_profile(params: Mapping[str, Any]) -> m.ChargingProfile | None:
    """The chargingProfile of a RemoteStartTransaction, if the remote start has one."""
    profile = params.get("charging_profile")
    if profile is None:
        return None
    check_remote_start(profile)
    check_schedule(profile)
    return charging_profile(profile)


async def set_charging_profile(ctx: HandlerContext, command: Command) -> OcppCall:
    evse_id: int = command.params["evse_id"]
    profile = command.params["profile"]
    check_placement(profile, evse_id)
    check_schedule(profile)
    transaction = await transaction_of(ctx, profile, evse_id)
    return OcppCall(
        "SetChargingProfile",
        m.SetChargingProfileRequest(
            connector_id=evse_id,
            cs_charging_profiles=charging_profile(
                profile, transaction_id=None if transaction is None else _number(transaction)
            ),
        ),
    )


def _number(transaction_id: str) -> int:
    try:
        return int(transaction_id)
    except ValueError:
        raise invalid(f"{transaction_id!r} is not an OCPP 1.6 transactionId") from None


async def clear_charging_profile(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    purpose = params.get("purpose")
    return OcppCall(
        "ClearChargingProfile",
        m.ClearChargingProfileRequest(
            id=params.get("profile_id"),
            connector_id=params.get("evse_id"),
            charging_profile_purpose=None if purpose is None else PURPOSES[purpose],
            stack_level=params.get("stack_level"),
        ),
    )


async def get_composite_schedule(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    unit = params.get("rate_unit")
    return OcppCall(
        "GetCompositeSchedule",
        m.GetCompositeScheduleRequest(
            connector_id=params["evse_id"],
            duration=params["duration"],
            charging_rate_unit=None if unit is None else RATE_UNITS[unit],
        ),
    )


TRANSLATIONS: Mapping[str, Translation] = {
    "set-charging-profile": Translation(set_charging_profile),
    "clear-charging-profile": Translation(clear_charging_profile),
    "get-composite-schedule": Translation(get_composite_schedule),
}
