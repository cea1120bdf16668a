"""The OCPP 2.0.1 device model of a simulated charger: its components and variables.

Variables that drive the simulation (HeartbeatInterval, TxUpdatedInterval, the
RetryBackOff trio, MessageTimeout) act on it when set; the others are kept as set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from chargegrid.ocpp.v201 import messages as m
from chargegrid.simulator.core import ChargerCore
from chargegrid.simulator.model import utc
from chargegrid.values import immutable

Getter = Callable[[ChargerCore, float], str]
Setter = Callable[[ChargerCore, str, float], bool]


@immutable
class Variable:
    component: str
    name: str
    data_type: m.DataEnum
    get: Getter
    set: Setter | None = None  # None: read-only
    instance: str | None = None
    unit: str | None = None


def stored(component: str, name: str, default: str) -> Getter:
    return lambda core, now: core.station.config.get(f"{component}.{name}", default)


def positive(apply: Callable[[ChargerCore, int, float], None]) -> Setter:
    def setter(core: ChargerCore, value: str, now: float) -> bool:
        if not value.isdigit() or int(value) <= 0:
            return False
        apply(core, int(value), now)
        return True

    return setter


def keep(component: str, name: str, data_type: str) -> Setter:
    def setter(core: ChargerCore, value: str, now: float) -> bool:
        if data_type == "integer" and not value.lstrip("-").isdigit():
            return False
        if data_type == "boolean" and value not in ("true", "false"):
            return False
        core.station.config[f"{component}.{name}"] = value
        return True

    return setter


def setting(component: str, name: str, data_type: m.DataEnum, default: str) -> Variable:
    """A read-write variable that is only kept."""
    return Variable(
        component,
        name,
        data_type,
        stored(component, name, default),
        keep(component, name, data_type),
    )


def constant(component: str, name: str, data_type: m.DataEnum, value: str) -> Variable:
    return Variable(component, name, data_type, lambda core, now: value)


def _backoff(field: str) -> Setter:
    def apply(core: ChargerCore, value: int, now: float) -> None:
        core.station.backoff = replace(core.station.backoff, **{field: value})

    return positive(apply)


def _heartbeat(core: ChargerCore, value: int, now: float) -> None:
    core.set_heartbeat_interval(float(value), now)


def _meter_interval(core: ChargerCore, value: int, now: float) -> None:
    core.station.meter_interval = float(value)


def _call_timeout(core: ChargerCore, value: int, now: float) -> None:
    core.call_timeout = float(value)


def _organization(core: ChargerCore, value: str, now: float) -> bool:
    core.organization = value or None
    return True


STATION_VARIABLES: tuple[Variable, ...] = (
    constant("ChargingStation", "Model", "string", "Simulator 2.0.1"),
    constant("ChargingStation", "VendorName", "string", "chargegrid"),
    Variable(
        "ChargingStation",
        "AvailabilityState",
        "OptionList",
        lambda core, now: (
            "Available" if any(e.operative for e in core.station.evses) else "Unavailable"
        ),
    ),
    constant("ChargingStation", "SupplyPhases", "integer", "3"),
    Variable(
        "OCPPCommCtrlr",
        "HeartbeatInterval",
        "integer",
        lambda core, now: str(round(core.station.heartbeat_interval)),
        positive(_heartbeat),
        unit="s",
    ),
    Variable(
        "OCPPCommCtrlr",
        "RetryBackOffWaitMinimum",
        "integer",
        lambda core, now: str(round(core.station.backoff.wait_minimum)),
        _backoff("wait_minimum"),
        unit="s",
    ),
    Variable(
        "OCPPCommCtrlr",
        "RetryBackOffRandomRange",
        "integer",
        lambda core, now: str(round(core.station.backoff.random_range)),
        _backoff("random_range"),
        unit="s",
    ),
    Variable(
        "OCPPCommCtrlr",
        "RetryBackOffRepeatTimes",
        "integer",
        lambda core, now: str(core.station.backoff.repeat_times),
        _backoff("repeat_times"),
    ),
    Variable(
        "OCPPCommCtrlr",
        "MessageTimeout",
        "integer",
        lambda core, now: str(round(core.call_timeout)),
        positive(_call_timeout),
        instance="Default",
        unit="s",
    ),
    setting("OCPPCommCtrlr", "OfflineThreshold", "integer", "60"),
    Variable(
        "SampledDataCtrlr",
        "TxUpdatedInterval",
        "integer",
        lambda core, now: str(round(core.station.meter_interval)),
        positive(_meter_interval),
        unit="s",
    ),
    setting(
        "SampledDataCtrlr",
        "TxUpdatedMeasurands",
        "MemberList",
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC",
    ),
    setting("SampledDataCtrlr", "TxEndedMeasurands", "MemberList", "Energy.Active.Import.Register"),
    setting("AlignedDataCtrlr", "Interval", "integer", "0"),
    setting("AuthCtrlr", "AuthorizeRemoteStart", "boolean", "false"),
    setting("AuthCtrlr", "LocalAuthorizeOffline", "boolean", "true"),
    setting("AuthCtrlr", "LocalPreAuthorize", "boolean", "false"),
    setting("AuthCacheCtrlr", "Enabled", "boolean", "true"),
    setting("LocalAuthListCtrlr", "Enabled", "boolean", "true"),
    Variable(
        "LocalAuthListCtrlr",
        "Entries",
        "integer",
        lambda core, now: str(len(core.station.local_list)),
    ),
    setting("TxCtrlr", "EVConnectionTimeOut", "integer", "60"),
    constant("TxCtrlr", "StopTxOnEVSideDisconnect", "boolean", "true"),
    constant("TxCtrlr", "TxStartPoint", "MemberList", "PowerPathClosed"),
    constant("TxCtrlr", "TxStopPoint", "MemberList", "Authorized,EVConnected"),
    constant("SecurityCtrlr", "SecurityProfile", "integer", "1"),
    Variable("SecurityCtrlr", "Identity", "string", lambda core, now: core.charger_id),
    Variable(
        "SecurityCtrlr",
        "OrganizationName",
        "string",
        lambda core, now: core.organization or "",
        _organization,
    ),
    constant("SmartChargingCtrlr", "Enabled", "boolean", "true"),
    constant("SmartChargingCtrlr", "RateUnit", "MemberList", "A,W"),
    constant("ReservationCtrlr", "Enabled", "boolean", "true"),
    constant("DeviceDataCtrlr", "ItemsPerMessage", "integer", "50"),
    Variable("ClockCtrlr", "DateTime", "dateTime", lambda core, now: utc(now).isoformat()),
)


def _evse_state(n: int) -> Getter:
    return lambda core, now: core.station.evses[n - 1].status.value


def _evse_power(n: int) -> Getter:
    return lambda core, now: f"{core.station.evses[n - 1].meter.power_w:.1f}"


def evse_variables(core: ChargerCore) -> Iterator[tuple[int, Variable]]:
    for evse in core.station.evses:
        yield evse.id, Variable("EVSE", "AvailabilityState", "OptionList", _evse_state(evse.id))
        yield evse.id, Variable("EVSE", "Power", "decimal", _evse_power(evse.id), unit="W")


def every_variable(core: ChargerCore) -> Iterator[tuple[int | None, Variable]]:
    for variable in STATION_VARIABLES:
        yield None, variable
    yield from evse_variables(core)


def find(
    core: ChargerCore, component: m.Component, variable: m.Variable
) -> tuple[Variable | None, str | None]:
    """The variable addressed, or the status saying why there is none."""
    evse_id = None if component.evse is None else component.evse.id
    known_component = False
    for where, candidate in every_variable(core):
        if candidate.component != component.name or where != evse_id:
            continue
        known_component = True
        if candidate.name == variable.name and candidate.instance == variable.instance:
            return candidate, None
    return None, "UnknownVariable" if known_component else "UnknownComponent"


def component_of(evse_id: int | None, variable: Variable) -> m.Component:
    return m.Component(
        name=variable.component, evse=None if evse_id is None else m.EVSE(id=evse_id)
    )
