"""A version-neutral charging profile as OCPP 1.6 and 2.0.1 messages, and the OCPP rules
checked before one is sent."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from chargegrid.api.command_params import ChargingProfile
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.gateway.handlers import profiles16, profiles201
from chargegrid.gateway.handlers.profiles import (
    check_placement,
    check_remote_start,
    check_schedule,
)
from chargegrid.ocpp.v16 import messages as m16
from chargegrid.ocpp.v201 import messages as m201
from chargegrid.ocpp.versions import OcppVersion
from tests.unit.ocpp.examples import assert_valid


def profile(**changes: Any) -> dict[str, Any]:
    """Params as the API stores them: the body's model, dumped to JSON."""
    values: dict[str, Any] = {
        "id": 7,
        "stack_level": 2,
        "purpose": "tx_default",
        "kind": "recurring",
        "recurrency": "daily",
        "valid_from": "2025-01-01T00:00:00+00:00",
        "valid_to": "2025-12-31T23:00:00+01:00",
        "schedule": {
            "rate_unit": "A",
            "periods": [
                {"start_period": 0, "limit": 16},
                {"start_period": 3600, "limit": 8.5, "number_phases": 1},
            ],
            "start": "2025-01-01T06:00:00Z",
            "duration": 86400,
            "min_rate": 6,
        },
        **changes,
    }
    return ChargingProfile.model_validate(values).model_dump(mode="json", exclude_none=True)


def wire(message: msgspec.Struct) -> Any:
    return msgspec.json.decode(msgspec.json.encode(message))


def test_a_recurring_default_profile_in_16() -> None:
    translated = wire(profiles16.charging_profile(profile()))
    assert translated == {
        "chargingProfileId": 7,
        "stackLevel": 2,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "validFrom": "2025-01-01T00:00:00Z",
        "validTo": "2025-12-31T22:00:00Z",  # times go out in UTC
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0},
                {"startPeriod": 3600, "limit": 8.5, "numberPhases": 1},
            ],
            "duration": 86400,
            "startSchedule": "2025-01-01T06:00:00Z",
            "minChargingRate": 6.0,
        },
    }
    request = m16.SetChargingProfileRequest(
        connector_id=0, cs_charging_profiles=profiles16.charging_profile(profile())
    )
    assert_valid(OcppVersion.V16, "SetChargingProfile.json", wire(request))


def test_a_recurring_default_profile_in_201_has_one_schedule_named_after_it() -> None:
    translated = wire(profiles201.charging_profile(profile()))
    assert translated == {
        "id": 7,
        "stackLevel": 2,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "validFrom": "2025-01-01T00:00:00Z",
        "validTo": "2025-12-31T22:00:00Z",
        "chargingSchedule": [
            {
                "id": 7,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0},
                    {"startPeriod": 3600, "limit": 8.5, "numberPhases": 1},
                ],
                "startSchedule": "2025-01-01T06:00:00Z",
                "duration": 86400,
                "minChargingRate": 6.0,
            }
        ],
    }
    request = m201.SetChargingProfileRequest(
        evse_id=0, charging_profile=profiles201.charging_profile(profile())
    )
    assert_valid(OcppVersion.V201, "SetChargingProfileRequest.json", wire(request))


@pytest.mark.parametrize(
    ("purpose", "v16", "v201"),
    [
        ("charger_max", "ChargePointMaxProfile", "ChargingStationMaxProfile"),
        ("tx_default", "TxDefaultProfile", "TxDefaultProfile"),
        ("tx", "TxProfile", "TxProfile"),
    ],
)
def test_purposes_in_each_version(purpose: str, v16: str, v201: str) -> None:
    given = profile(purpose=purpose, kind="absolute", recurrency=None)
    assert profiles16.charging_profile(given).charging_profile_purpose == v16
    assert profiles201.charging_profile(given).charging_profile_purpose == v201


def test_a_tx_profile_carries_the_chargers_transaction_id() -> None:
    given = profile(purpose="tx", kind="relative", recurrency=None, transaction_id=12)
    given["schedule"].pop("start")
    one_six = profiles16.charging_profile(given, transaction_id=4711)
    assert one_six.transaction_id == 4711
    assert one_six.charging_profile_kind == "Relative"
    assert one_six.recurrency_kind is None
    assert one_six.charging_schedule.start_schedule is None
    two = profiles201.charging_profile(given, transaction_id="tx-9")
    assert two.transaction_id == "tx-9"
    assert "transactionId" not in wire(profiles201.charging_profile(given))


def test_a_minimal_profile_leaves_the_optional_fields_out() -> None:
    given = profile(kind="absolute", recurrency=None, valid_from=None, valid_to=None)
    given["schedule"] = {"rate_unit": "W", "periods": [{"start_period": 0, "limit": 11000}]}
    assert wire(profiles16.charging_profile(given))["chargingSchedule"] == {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
    }
    assert "validFrom" not in wire(profiles16.charging_profile(given))
    assert wire(profiles201.charging_profile(given))["chargingSchedule"] == [
        {
            "id": 7,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
        }
    ]


def refused(check: Any, *args: Any) -> str:
    with pytest.raises(DomainError) as raised:
        check(*args)
    assert raised.value.kind is ErrorKind.INVALID
    return raised.value.message


def test_where_a_profile_may_go() -> None:
    check_placement(profile(purpose="charger_max"), 0)
    check_placement(profile(purpose="tx_default"), 0)
    check_placement(profile(purpose="tx_default"), 2)
    check_placement(profile(purpose="tx", transaction_id=5), 1)
    assert "evse_id 0" in refused(check_placement, profile(purpose="charger_max"), 1)
    assert "evse_id > 0" in refused(check_placement, profile(purpose="tx", transaction_id=5), 0)
    assert "transaction_id" in refused(check_placement, profile(purpose="tx"), 1)
    assert "only a tx profile" in refused(
        check_placement, profile(purpose="tx_default", transaction_id=5), 1
    )


def test_what_a_schedule_must_be() -> None:
    check_schedule(profile())
    unordered = profile()
    unordered["schedule"]["periods"] = [
        {"start_period": 0, "limit": 16},
        {"start_period": 600, "limit": 10},
        {"start_period": 600, "limit": 8},
    ]
    assert "increasing start_period" in refused(check_schedule, unordered)
    late = profile()
    late["schedule"]["periods"] = [{"start_period": 60, "limit": 16}]
    assert "start_period 0" in refused(check_schedule, late)
    relative = profile(kind="relative", recurrency=None)
    assert "relative schedule" in refused(check_schedule, relative)
    recurring = profile()
    recurring["schedule"].pop("start")
    assert "recurring schedule needs" in refused(check_schedule, recurring)
    backwards = profile(valid_from="2025-02-01T00:00:00Z", valid_to="2025-01-01T00:00:00Z")
    assert "valid_from" in refused(check_schedule, backwards)


def test_an_absolute_schedule_without_start_is_16_only() -> None:
    given = profile(kind="absolute", recurrency=None)
    given["schedule"].pop("start")
    check_schedule(given)
    assert "absolute schedule needs its start" in refused(profiles201.check_schedule201, given)


def test_a_remote_start_profile_is_a_tx_profile_without_transaction() -> None:
    tx = profile(purpose="tx", kind="relative", recurrency=None)
    tx["schedule"].pop("start")
    check_remote_start(tx)
    params = {"id_token": "TAG", "charging_profile": tx}
    assert profiles16.remote_start_profile(params) == profiles16.charging_profile(tx)
    assert profiles201.remote_start_profile(params) == profiles201.charging_profile(tx)
    assert profiles16.remote_start_profile({"id_token": "TAG"}) is None
    assert profiles201.remote_start_profile({"id_token": "TAG"}) is None
    assert "purpose tx" in refused(check_remote_start, profile())
    assert "no transaction_id" in refused(check_remote_start, {**tx, "transaction_id": 3})
    late = {**tx, "schedule": {**tx["schedule"], "periods": [{"start_period": 5, "limit": 1}]}}
    assert "start_period 0" in refused(profiles16.remote_start_profile, {"charging_profile": late})
    assert "start_period 0" in refused(profiles201.remote_start_profile, {"charging_profile": late})
