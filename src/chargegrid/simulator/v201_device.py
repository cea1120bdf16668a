"""OCPP 2.0.1 for the simulator: the CSMS's CALLs about the device model (variables and
reports; the variables are in ``v201_variables``) and those that change nothing a session
depends on (monitoring, display messages, customer information, network profiles,
firmware publishing, costs, data transfer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from chargegrid.ocpp.v201 import messages as m
from chargegrid.simulator.core import ChargerCore
from chargegrid.simulator.model import Custom, utc
from chargegrid.simulator.v201_variables import Variable, component_of, every_variable, find

Handler = Callable[[ChargerCore, Any, float], msgspec.Struct]

REPORT_ITEMS_PER_MESSAGE = 20
DISPLAY_PREFIX = "DisplayMessage/"
ACTUAL: m.AttributeEnum = "Actual"


# -- variables ---------------------------------------------------------------------------------


def get_variables(
    core: ChargerCore, r: m.GetVariablesRequest, now: float
) -> m.GetVariablesResponse:
    results = []
    for data in r.get_variable_data:
        variable, problem = find(core, data.component, data.variable)
        if variable is not None and data.attribute_type not in (None, ACTUAL):
            problem = "NotSupportedAttributeType"
        results.append(
            m.GetVariableResult(
                attribute_status=problem or "Accepted",  # type: ignore[arg-type]
                component=data.component,
                variable=data.variable,
                attribute_type=data.attribute_type,
                attribute_value=None if problem or variable is None else variable.get(core, now),
            )
        )
    return m.GetVariablesResponse(get_variable_result=results)


def set_variables(
    core: ChargerCore, r: m.SetVariablesRequest, now: float
) -> m.SetVariablesResponse:
    results = []
    for data in r.set_variable_data:
        variable, problem = find(core, data.component, data.variable)
        if variable is not None:
            if data.attribute_type not in (None, ACTUAL):
                problem = "NotSupportedAttributeType"
            elif variable.set is None or not variable.set(core, data.attribute_value, now):
                problem = "Rejected"
        results.append(
            m.SetVariableResult(
                attribute_status=problem or "Accepted",  # type: ignore[arg-type]
                component=data.component,
                variable=data.variable,
                attribute_type=data.attribute_type,
            )
        )
    return m.SetVariablesResponse(set_variable_result=results)


def report_data(core: ChargerCore, evse_id: int | None, v: Variable, now: float) -> m.ReportData:
    return m.ReportData(
        component=component_of(evse_id, v),
        variable=m.Variable(name=v.name, instance=v.instance),
        variable_attribute=[
            m.VariableAttribute(
                type=ACTUAL,
                value=v.get(core, now)[:2500],
                mutability="ReadOnly" if v.set is None else "ReadWrite",
            )
        ],
        variable_characteristics=m.VariableCharacteristics(
            data_type=v.data_type, supports_monitoring=False, unit=v.unit
        ),
    )


def send_report(core: ChargerCore, request_id: int, data: list[m.ReportData], now: float) -> None:
    """NotifyReport messages carrying ``data`` (to follow an Accepted answer)."""
    chunks = [
        data[i : i + REPORT_ITEMS_PER_MESSAGE]
        for i in range(0, len(data), REPORT_ITEMS_PER_MESSAGE)
    ]
    for n, chunk in enumerate(chunks):
        report = m.NotifyReportRequest(
            request_id=request_id,
            generated_at=utc(now),
            seq_no=n,
            report_data=chunk,
            tbc=True if n < len(chunks) - 1 else None,
        )
        core.station.emit(Custom("NotifyReport", report))


def get_base_report(
    core: ChargerCore, r: m.GetBaseReportRequest, now: float
) -> m.GetBaseReportResponse:
    chosen = []
    for evse_id, v in every_variable(core):
        if r.report_base == "ConfigurationInventory" and v.set is None:
            continue
        if r.report_base == "SummaryInventory" and v.name != "AvailabilityState":
            continue
        chosen.append(report_data(core, evse_id, v, now))
    send_report(core, r.request_id, chosen, now)
    return m.GetBaseReportResponse(status="Accepted")


def get_report(core: ChargerCore, r: m.GetReportRequest, now: float) -> m.GetReportResponse:
    wanted = r.component_variable
    criteria = set(r.component_criteria or ())
    chosen = []
    for evse_id, v in every_variable(core):
        if criteria and not criteria & {"Active", "Available", "Enabled"}:
            continue  # no component has a problem
        if wanted is not None and not any(_matches(w, evse_id, v) for w in wanted):
            continue
        chosen.append(report_data(core, evse_id, v, now))
    if not chosen:
        return m.GetReportResponse(status="EmptyResultSet")
    send_report(core, r.request_id, chosen, now)
    return m.GetReportResponse(status="Accepted")


def _matches(wanted: m.ComponentVariable, evse_id: int | None, v: Variable) -> bool:
    component = wanted.component
    if component.name != v.component:
        return False
    if component.evse is not None and component.evse.id != evse_id:
        return False
    return wanted.variable is None or wanted.variable.name == v.name


# -- monitoring --------------------------------------------------------------------------------


def set_monitoring(
    core: ChargerCore, r: m.SetVariableMonitoringRequest, now: float
) -> m.SetVariableMonitoringResponse:
    results = []
    for data in r.set_monitoring_data:
        _, problem = find(core, data.component, data.variable)
        results.append(
            m.SetMonitoringResult(
                status=(problem or "UnsupportedMonitorType"),  # type: ignore[arg-type]
                type=data.type,
                component=data.component,
                variable=data.variable,
                severity=data.severity,
                id=data.id,
            )
        )
    return m.SetVariableMonitoringResponse(set_monitoring_result=results)


def clear_monitoring(
    core: ChargerCore, r: m.ClearVariableMonitoringRequest, now: float
) -> m.ClearVariableMonitoringResponse:
    return m.ClearVariableMonitoringResponse(
        clear_monitoring_result=[m.ClearMonitoringResult(status="NotFound", id=n) for n in r.id]
    )


def monitoring_report(
    core: ChargerCore, r: m.GetMonitoringReportRequest, now: float
) -> m.GetMonitoringReportResponse:
    return m.GetMonitoringReportResponse(status="EmptyResultSet")


def monitoring_base(
    core: ChargerCore, r: m.SetMonitoringBaseRequest, now: float
) -> m.SetMonitoringBaseResponse:
    return m.SetMonitoringBaseResponse(status="Accepted")


def monitoring_level(
    core: ChargerCore, r: m.SetMonitoringLevelRequest, now: float
) -> m.SetMonitoringLevelResponse:
    return m.SetMonitoringLevelResponse(status="Accepted")


# -- display messages, customers, network, firmware publishing -----------------------------------


def set_display(
    core: ChargerCore, r: m.SetDisplayMessageRequest, now: float
) -> m.SetDisplayMessageResponse:
    info = r.message
    if info.transaction_id is not None and core.station.active(key=info.transaction_id) is None:
        return m.SetDisplayMessageResponse(status="UnknownTransaction")
    core.station.config[f"{DISPLAY_PREFIX}{info.id}"] = msgspec.json.encode(info).decode()
    return m.SetDisplayMessageResponse(status="Accepted")


def displays(core: ChargerCore) -> list[m.MessageInfo]:
    return [
        msgspec.json.decode(value, type=m.MessageInfo)
        for key, value in core.station.config.items()
        if key.startswith(DISPLAY_PREFIX)
    ]


def get_displays(
    core: ChargerCore, r: m.GetDisplayMessagesRequest, now: float
) -> m.GetDisplayMessagesResponse:
    found = [
        info
        for info in displays(core)
        if (r.id is None or info.id in r.id)
        and (r.priority is None or info.priority == r.priority)
        and (r.state is None or info.state == r.state)
    ]
    if not found:
        return m.GetDisplayMessagesResponse(status="Unknown")
    report = m.NotifyDisplayMessagesRequest(request_id=r.request_id, message_info=found)
    core.station.emit(Custom("NotifyDisplayMessages", report))
    return m.GetDisplayMessagesResponse(status="Accepted")


def clear_display(
    core: ChargerCore, r: m.ClearDisplayMessageRequest, now: float
) -> m.ClearDisplayMessageResponse:
    found = core.station.config.pop(f"{DISPLAY_PREFIX}{r.id}", None) is not None
    return m.ClearDisplayMessageResponse(status="Accepted" if found else "Unknown")


def customer_information(
    core: ChargerCore, r: m.CustomerInformationRequest, now: float
) -> m.CustomerInformationResponse:
    if r.report:
        notice = m.NotifyCustomerInformationRequest(
            data="no customer data is stored on this charging station",
            seq_no=0,
            generated_at=utc(now),
            request_id=r.request_id,
        )
        core.station.emit(Custom("NotifyCustomerInformation", notice))
    return m.CustomerInformationResponse(status="Accepted")


def network_profile(
    core: ChargerCore, r: m.SetNetworkProfileRequest, now: float
) -> m.SetNetworkProfileResponse:
    return m.SetNetworkProfileResponse(
        status="Rejected",
        status_info=m.StatusInfo(reason_code="NotSupported", additional_info="simulated"),
    )


def publish_firmware(
    core: ChargerCore, r: m.PublishFirmwareRequest, now: float
) -> m.PublishFirmwareResponse:
    return m.PublishFirmwareResponse(
        status="Rejected", status_info=m.StatusInfo(reason_code="NoLocalController")
    )


def unpublish_firmware(
    core: ChargerCore, r: m.UnpublishFirmwareRequest, now: float
) -> m.UnpublishFirmwareResponse:
    return m.UnpublishFirmwareResponse(status="NoFirmware")


def cost_updated(core: ChargerCore, r: m.CostUpdatedRequest, now: float) -> m.CostUpdatedResponse:
    return m.CostUpdatedResponse()


def data_transfer(
    core: ChargerCore, r: m.DataTransferRequest, now: float
) -> m.DataTransferResponse:
    return m.DataTransferResponse(status="UnknownVendorId")


HANDLERS: dict[str, Handler] = {
    "ClearDisplayMessage": clear_display,
    "ClearVariableMonitoring": clear_monitoring,
    "CostUpdated": cost_updated,
    "CustomerInformation": customer_information,
    "DataTransfer": data_transfer,
    "GetBaseReport": get_base_report,
    "GetDisplayMessages": get_displays,
    "GetMonitoringReport": monitoring_report,
    "GetReport": get_report,
    "GetVariables": get_variables,
    "PublishFirmware": publish_firmware,
    "SetDisplayMessage": set_display,
    "SetMonitoringBase": monitoring_base,
    "SetMonitoringLevel": monitoring_level,
    "SetNetworkProfile": network_profile,
    "SetVariableMonitoring": set_monitoring,
    "SetVariables": set_variables,
    "UnpublishFirmware": unpublish_firmware,
}
