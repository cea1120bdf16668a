"""Version-neutral commands as OCPP 2.0.1 calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import (
    Command,
    CommandState,
    ComponentRef,
    DeviceVariable,
    VariableAttribute,
)
from chargegrid.domain.services import configuration
from chargegrid.gateway.handlers import (
    HandlerContext,
    local_lists201,
    profiles201,
    reservations201,
)
from chargegrid.gateway.handlers.commands import (
    OcppCall,
    Settlement,
    Translation,
    addressed_transaction,
    at,
    checked,
    settle_by_status,
)
from chargegrid.ocpp.v201 import messages as m
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.storage.repositories import id_tokens as id_token_repo
from chargegrid.storage.repositories import transactions as transaction_repo

TOKEN_TYPES: frozenset[str] = frozenset(get_args(m.IdTokenEnum))
TRIGGERS: frozenset[str] = frozenset(get_args(m.MessageTriggerEnum))
# An attribute type left out means the actual value.
ACTUAL = "Actual"
AGREEING_SET_STATUSES = frozenset({"Accepted", "RebootRequired"})


def evse(evse_id: int | None, connector_id: int | None) -> m.EVSE | None:
    """The EVSE (and connector) addressed; none for the charger as a whole (EVSE absent or 0)."""
    if not evse_id:
        if connector_id is not None:
            raise DomainError(ErrorKind.INVALID, "connector_id needs the evse_id it belongs to")
        return None
    return m.EVSE(id=evse_id, connector_id=connector_id)


def reason(info: m.StatusInfo | None) -> str:
    """The charger's reason for a status, to follow it in an error message."""
    if info is None:
        return ""
    return f": {info.reason_code}" + (f" ({info.additional_info})" if info.additional_info else "")


def component_of(ref: Mapping[str, Any]) -> m.Component:
    """The component of a variable reference (api.command_params.VariableRef)."""
    return m.Component(
        name=ref["component"],
        instance=ref.get("component_instance"),
        evse=evse(ref.get("evse_id"), ref.get("connector_id")),
    )


def variable_of(ref: Mapping[str, Any]) -> m.Variable:
    return m.Variable(name=ref["variable"], instance=ref.get("variable_instance"))


def stored_value(
    component: m.Component, variable: m.Variable, attribute_type: str | None, value: str | None
) -> DeviceVariable:
    """One attribute value of a variable, as the device model keeps it."""
    where = component.evse
    return DeviceVariable(
        component=ComponentRef(
            name=component.name,
            instance=component.instance,
            evse_id=None if where is None else where.id,
            connector_id=None if where is None else where.connector_id,
        ),
        name=variable.name,
        instance=variable.instance,
        attributes=(VariableAttribute(type=attribute_type or ACTUAL, value=value),),
    )


def described(component: m.Component, variable: m.Variable, attribute_type: str | None) -> str:
    """How error messages name a variable: Component[instance]/Variable[instance] ..."""
    name = component.name + (f"[{component.instance}]" if component.instance else "")
    if component.evse is not None:
        name += f" of EVSE {component.evse.id}"
        if component.evse.connector_id is not None:
            name += f" connector {component.evse.connector_id}"
    name += f"/{variable.name}" + (f"[{variable.instance}]" if variable.instance else "")
    if attribute_type not in (None, ACTUAL):
        name += f" ({attribute_type})"
    return name


async def id_token_type(ctx: HandlerContext, id_token: str) -> m.IdTokenEnum:
    """The stored type of a token, Central when unknown (or not a 2.0.1 type)."""
    token = await id_token_repo.get(ctx.conn, id_token)
    if token is not None and token.type in TOKEN_TYPES:
        return token.type  # type: ignore[return-value]
    return "Central"


async def reset(ctx: HandlerContext, command: Command) -> OcppCall:
    # A hard reset happens at once; a soft one waits until the station is idle.
    kind: m.ResetEnum = "Immediate" if command.params["type"] == "hard" else "OnIdle"
    return OcppCall("Reset", m.ResetRequest(type=kind, evse_id=command.params.get("evse_id")))


async def clear_cache(ctx: HandlerContext, command: Command) -> OcppCall:
    return OcppCall("ClearCache", m.ClearCacheRequest())


async def remote_start(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    token_type = params.get("id_token_type") or await id_token_type(ctx, params["id_token"])
    if token_type not in TOKEN_TYPES:
        raise DomainError(ErrorKind.INVALID, f"{token_type} is not an OCPP 2.0.1 IdTokenEnum")
    evse_id = params.get("evse_id")
    return OcppCall(
        "RequestStartTransaction",
        m.RequestStartTransactionRequest(
            id_token=m.IdToken(id_token=params["id_token"], type=token_type),
            # The command's id names the transaction's start: it comes back in
            # TransactionEvent.transactionInfo.remoteStartId.
            remote_start_id=command.id,
            evse_id=evse_id,
            charging_profile=profiles201.remote_start_profile(params),
        ),
    )


async def settle_remote_start(
    ctx: HandlerContext, command: Command, response: m.RequestStartTransactionResponse
) -> Settlement:
    settlement = await settle_by_status(ctx, command, response)
    if response.transaction_id is None:
        return settlement
    # Already charging (e.g. the EV was plugged in first): the transaction is known.
    transaction = await transaction_repo.get_by_charger_id(
        ctx.conn, ctx.charger_id, response.transaction_id
    )
    return Settlement(
        settlement.state,
        settlement.error,
        transaction_pk=None if transaction is None else transaction.id,
    )


async def remote_stop(ctx: HandlerContext, command: Command) -> OcppCall:
    return OcppCall(
        "RequestStopTransaction",
        m.RequestStopTransactionRequest(transaction_id=await addressed_transaction(ctx, command)),
    )


async def unlock(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    return checked(
        OcppVersion.V201,
        "UnlockConnector",
        m.UnlockConnectorRequest(
            evse_id=params["evse_id"], connector_id=params.get("connector_id", 1)
        ),
    )


async def change_availability(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    status: m.OperationalStatusEnum = "Operative" if params["operative"] else "Inoperative"
    return checked(
        OcppVersion.V201,
        "ChangeAvailability",
        m.ChangeAvailabilityRequest(
            operational_status=status,
            evse=evse(params.get("evse_id"), params.get("connector_id")),
        ),
    )


async def trigger_message(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    message = params["message"]
    if message not in TRIGGERS:
        raise DomainError(
            ErrorKind.INVALID,
            f"an OCPP 2.0.1 charger cannot be asked to send {message}; it can be asked for "
            f"{', '.join(sorted(TRIGGERS))}",
        )
    return checked(
        OcppVersion.V201,
        "TriggerMessage",
        m.TriggerMessageRequest(
            requested_message=message,
            evse=evse(params.get("evse_id"), params.get("connector_id")),
        ),
    )


async def get_variables(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    if params.get("keys") is not None:
        raise DomainError(
            ErrorKind.INVALID,
            "an OCPP 2.0.1 charger has variables, not configuration keys: use variables",
        )
    variables = params.get("variables")
    if not variables:
        raise DomainError(
            ErrorKind.INVALID,
            "GetVariables needs at least one variable; get-base-report reads the whole "
            "device model",
        )
    return checked(
        OcppVersion.V201,
        "GetVariables",
        m.GetVariablesRequest(
            get_variable_data=[
                m.GetVariableData(
                    component=component_of(ref),
                    variable=variable_of(ref),
                    attribute_type=ref.get("attribute"),
                )
                for ref in variables
            ]
        ),
    )


async def settle_get_variables(
    ctx: HandlerContext, command: Command, response: m.GetVariablesResponse
) -> Settlement:
    """Accepted when at least one variable was read; the values read go to the device model."""
    results = response.get_variable_result
    read = [r for r in results if r.attribute_status == "Accepted"]
    await configuration.record_variable_values(
        ctx.conn,
        ctx.charger_id,
        [stored_value(r.component, r.variable, r.attribute_type, r.attribute_value) for r in read],
        ctx.now,
    )
    unread = "; ".join(
        f"{described(r.component, r.variable, r.attribute_type)}: "
        f"{r.attribute_status}{reason(r.attribute_status_info)}"
        for r in results
        if r.attribute_status != "Accepted"
    )
    if not read:
        return Settlement(
            CommandState.REJECTED, error=f"the charger read none of the variables: {unread}"
        )
    return Settlement(CommandState.ACCEPTED, error=f"not read: {unread}" if unread else None)


async def set_variables(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    ref = params.get("variable")
    if ref is None:
        raise DomainError(
            ErrorKind.INVALID,
            "an OCPP 2.0.1 charger has variables, not configuration keys: give variable",
        )
    return checked(
        OcppVersion.V201,
        "SetVariables",
        m.SetVariablesRequest(
            set_variable_data=[
                m.SetVariableData(
                    attribute_value=params["value"],
                    component=component_of(ref),
                    variable=variable_of(ref),
                    attribute_type=ref.get("attribute"),
                )
            ]
        ),
    )


async def settle_set_variables(
    ctx: HandlerContext, command: Command, response: m.SetVariablesResponse
) -> Settlement:
    """Accepted (or RebootRequired: the response tells) puts the value in the device model."""
    result = response.set_variable_result[0]  # one variable was set
    if result.attribute_status not in AGREEING_SET_STATUSES:
        return Settlement(
            CommandState.REJECTED,
            error=f"the charger answered {result.attribute_status}"
            f"{reason(result.attribute_status_info)}",
        )
    attribute_type = result.attribute_type or command.params["variable"].get("attribute")
    await configuration.record_variable_values(
        ctx.conn,
        ctx.charger_id,
        [stored_value(result.component, result.variable, attribute_type, command.params["value"])],
        ctx.now,
    )
    return Settlement(CommandState.ACCEPTED)


async def update_firmware(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    return checked(
        OcppVersion.V201,
        "UpdateFirmware",
        m.UpdateFirmwareRequest(
            request_id=command.id,
            firmware=m.Firmware(
                location=params["location"],
                retrieve_date_time=at(params["retrieve_at"]),
                install_date_time=at(params.get("install_at")),
                signing_certificate=params.get("signing_certificate"),
                signature=params.get("signature"),
            ),
            retries=params.get("retries"),
            retry_interval=params.get("retry_interval"),
        ),
    )


async def get_log(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    log_type: m.LogEnum = (
        "SecurityLog" if params.get("log_type") == "security" else ("DiagnosticsLog")
    )
    return checked(
        OcppVersion.V201,
        "GetLog",
        m.GetLogRequest(
            log=m.LogParameters(
                remote_location=params["location"],
                oldest_timestamp=at(params.get("since")),
                latest_timestamp=at(params.get("until")),
            ),
            log_type=log_type,
            request_id=command.id,
            retries=params.get("retries"),
            retry_interval=params.get("retry_interval"),
        ),
    )


async def data_transfer(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    return checked(
        OcppVersion.V201,
        "DataTransfer",
        m.DataTransferRequest(
            vendor_id=params["vendor_id"],
            message_id=params.get("message_id"),
            data=params.get("data"),
        ),
    )


async def get_base_report(ctx: HandlerContext, command: Command) -> OcppCall:
    return checked(
        OcppVersion.V201,
        "GetBaseReport",
        m.GetBaseReportRequest(request_id=command.id, report_base=command.params["report_base"]),
    )


async def set_display_message(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    transaction_id: str | None = None
    if params.get("transaction_id") is not None:
        pk = params["transaction_id"]
        transaction = await transaction_repo.get(ctx.conn, pk)
        if transaction is None or transaction.charger_id != ctx.charger_id:
            raise DomainError(
                ErrorKind.NOT_FOUND, f"charger {ctx.charger_id} has no transaction {pk}"
            )
        transaction_id = transaction.transaction_id
    evse_id = params.get("evse_id")
    # The display of an EVSE, or (0) the charger's own.
    display = None if evse_id is None else m.Component(name="Display", evse=evse(evse_id, None))
    content = params["message"]
    return checked(
        OcppVersion.V201,
        "SetDisplayMessage",
        m.SetDisplayMessageRequest(
            message=m.MessageInfo(
                id=command.id if params.get("id") is None else params["id"],
                priority=params.get("priority", "NormalCycle"),
                message=m.MessageContent(
                    format=content.get("format", "UTF8"),
                    content=content["content"],
                    language=content.get("language"),
                ),
                display=display,
                state=params.get("state"),
                start_date_time=at(params.get("start_at")),
                end_date_time=at(params.get("end_at")),
                transaction_id=transaction_id,
            )
        ),
    )


TRANSLATIONS: Mapping[str, Translation] = {
    "change-availability": Translation(change_availability),
    "clear-cache": Translation(clear_cache),
    "data-transfer": Translation(data_transfer),
    "get-base-report": Translation(get_base_report),
    "get-configuration": Translation(get_variables, settle_get_variables),
    "get-diagnostics": Translation(get_log),
    "remote-start": Translation(remote_start, settle_remote_start),
    "remote-stop": Translation(remote_stop),
    "reset": Translation(reset),
    "set-configuration": Translation(set_variables, settle_set_variables),
    "set-display-message": Translation(set_display_message),
    "trigger-message": Translation(trigger_message),
    "unlock": Translation(unlock),
    "update-firmware": Translation(update_firmware),
    **local_lists201.TRANSLATIONS,
    **reservations201.TRANSLATIONS,
    **profiles201.TRANSLATIONS,
}
