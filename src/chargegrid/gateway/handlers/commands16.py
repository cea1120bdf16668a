"""Version-neutral commands as OCPP 1.6 calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import msgspec

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command, CommandState
from chargegrid.domain.services import configuration
from chargegrid.gateway.handlers import (
    HandlerContext,
    local_lists16,
    profiles16,
    reservations16,
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
from chargegrid.ocpp.v16 import messages as m
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.storage.repositories.configuration import ConfigurationKey

# What TriggerMessage asks for; the security extension's ExtendedTriggerMessage adds more.
TRIGGERS: frozenset[str] = frozenset(get_args(m.MessageTrigger))
EXTENDED_TRIGGERS: frozenset[str] = frozenset(get_args(m.MessageTriggerEnum))
# Asked for by the message it triggers: ExtendedTriggerMessage(FirmwareStatusNotification)
# triggers a SignedFirmwareStatusNotification.
TRIGGER_ALIASES: Mapping[str, str] = {
    "SignedFirmwareStatusNotification": "FirmwareStatusNotification",
}


def no_connector_id(params: Mapping[str, Any]) -> None:
    if params.get("connector_id") is not None:
        raise DomainError(
            ErrorKind.INVALID,
            "connector_id is OCPP 2.0.1 only: an OCPP 1.6 connector is addressed by evse_id",
        )


async def reset(ctx: HandlerContext, command: Command) -> OcppCall:
    kind: m.ResetType = "Hard" if command.params["type"] == "hard" else "Soft"
    return OcppCall("Reset", m.ResetRequest(type=kind))


async def clear_cache(ctx: HandlerContext, command: Command) -> OcppCall:
    return OcppCall("ClearCache", m.ClearCacheRequest())


async def remote_start(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    if len(params["id_token"]) > 20:
        raise DomainError(ErrorKind.INVALID, "an OCPP 1.6 idTag has at most 20 characters")
    return OcppCall(
        "RemoteStartTransaction",
        m.RemoteStartTransactionRequest(
            id_tag=params["id_token"],
            connector_id=params.get("evse_id"),
            charging_profile=profiles16.remote_start_profile(params),
        ),
    )


async def remote_stop(ctx: HandlerContext, command: Command) -> OcppCall:
    transaction = await addressed_transaction(ctx, command)
    return OcppCall(
        "RemoteStopTransaction", m.RemoteStopTransactionRequest(transaction_id=int(transaction))
    )


async def unlock(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    if params.get("connector_id", 1) != 1:
        raise DomainError(
            ErrorKind.INVALID,
            "an OCPP 1.6 EVSE is one connector: give its connector id as evse_id, "
            "and no connector_id",
        )
    return checked(
        OcppVersion.V16, "UnlockConnector", m.UnlockConnectorRequest(connector_id=params["evse_id"])
    )


async def change_availability(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    no_connector_id(params)
    kind: m.AvailabilityType = "Operative" if params["operative"] else "Inoperative"
    return checked(
        OcppVersion.V16,
        "ChangeAvailability",
        m.ChangeAvailabilityRequest(connector_id=params.get("evse_id") or 0, type=kind),
    )


async def trigger_message(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    no_connector_id(params)
    message = params["message"]
    if message in TRIGGERS:
        return checked(
            OcppVersion.V16,
            "TriggerMessage",
            m.TriggerMessageRequest(requested_message=message, connector_id=params.get("evse_id")),
        )
    extended = TRIGGER_ALIASES.get(message, message)
    if message in TRIGGER_ALIASES or extended in EXTENDED_TRIGGERS:
        return checked(
            OcppVersion.V16,
            "ExtendedTriggerMessage",
            m.ExtendedTriggerMessageRequest(
                requested_message=extended, connector_id=params.get("evse_id")
            ),
        )
    known = sorted(TRIGGERS | EXTENDED_TRIGGERS | set(TRIGGER_ALIASES))
    raise DomainError(
        ErrorKind.INVALID,
        f"an OCPP 1.6 charger cannot be asked to send {message}; it can be asked for "
        f"{', '.join(known)} (those not in TriggerMessage through the security extension's "
        "ExtendedTriggerMessage)",
    )


async def get_configuration(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    if params.get("variables") is not None:
        raise DomainError(
            ErrorKind.INVALID,
            "an OCPP 1.6 charger has configuration keys, not variables: give keys",
        )
    return checked(
        OcppVersion.V16,
        "GetConfiguration",
        m.GetConfigurationRequest(key=params.get("keys") or None),
    )


async def settle_get_configuration(
    ctx: HandlerContext, command: Command, response: m.GetConfigurationResponse
) -> Settlement:
    unknown = list(response.unknown_key or ())
    await configuration.record_read(
        ctx.conn,
        ctx.charger_id,
        [
            ConfigurationKey(key=key.key, value=key.value, readonly=key.readonly)
            for key in response.configuration_key or ()
        ],
        unknown=unknown,
        complete=not command.params.get("keys"),
        now=ctx.now,
    )
    if unknown:
        return Settlement(
            CommandState.ACCEPTED, error=f"the charger does not know {', '.join(unknown)}"
        )
    return Settlement(CommandState.ACCEPTED)


async def set_configuration(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    if params.get("key") is None:
        raise DomainError(
            ErrorKind.INVALID,
            "an OCPP 1.6 charger has configuration keys, not variables: give key",
        )
    return checked(
        OcppVersion.V16,
        "ChangeConfiguration",
        m.ChangeConfigurationRequest(key=params["key"], value=params["value"]),
    )


async def settle_set_configuration(
    ctx: HandlerContext, command: Command, response: m.ChangeConfigurationResponse
) -> Settlement:
    # Accepted and RebootRequired both agree; the response tells which.
    settlement = await settle_by_status(ctx, command, response)
    if settlement.state is CommandState.ACCEPTED:
        await configuration.record_change(
            ctx.conn, ctx.charger_id, command.params["key"], command.params["value"], ctx.now
        )
    return settlement


async def update_firmware(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    signature, certificate = params.get("signature"), params.get("signing_certificate")
    if (signature is None) != (certificate is None):
        raise DomainError(
            ErrorKind.INVALID,
            "a signed OCPP 1.6 firmware update (SignedUpdateFirmware) needs both signature "
            "and signing_certificate",
        )
    if signature is not None:
        return checked(
            OcppVersion.V16,
            "SignedUpdateFirmware",
            m.SignedUpdateFirmwareRequest(
                request_id=command.id,
                firmware=m.Firmware(
                    location=params["location"],
                    retrieve_date_time=at(params["retrieve_at"]),
                    install_date_time=at(params.get("install_at")),
                    signing_certificate=params["signing_certificate"],
                    signature=params["signature"],
                ),
                retries=params.get("retries"),
                retry_interval=params.get("retry_interval"),
            ),
        )
    if params.get("install_at") is not None:
        raise DomainError(
            ErrorKind.INVALID,
            "an unsigned OCPP 1.6 UpdateFirmware has no install time: install_at goes with "
            "a signed update (signature and signing_certificate)",
        )
    return checked(
        OcppVersion.V16,
        "UpdateFirmware",
        m.UpdateFirmwareRequest(
            location=params["location"],
            retrieve_date=at(params["retrieve_at"]),
            retries=params.get("retries"),
            retry_interval=params.get("retry_interval"),
        ),
    )


async def get_diagnostics(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    if params.get("log_type") == "security":
        return checked(
            OcppVersion.V16,
            "GetLog",
            m.GetLogRequest(
                log=m.LogParameters(
                    remote_location=params["location"],
                    oldest_timestamp=at(params.get("since")),
                    latest_timestamp=at(params.get("until")),
                ),
                log_type="SecurityLog",
                request_id=command.id,
                retries=params.get("retries"),
                retry_interval=params.get("retry_interval"),
            ),
        )
    # The answer's fileName (absent: nothing to upload) stays in the command's response.
    return checked(
        OcppVersion.V16,
        "GetDiagnostics",
        m.GetDiagnosticsRequest(
            location=params["location"],
            start_time=at(params.get("since")),
            stop_time=at(params.get("until")),
            retries=params.get("retries"),
            retry_interval=params.get("retry_interval"),
        ),
    )


async def data_transfer(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    data = params.get("data")
    if data is not None and not isinstance(data, str):
        data = msgspec.json.encode(data).decode()  # OCPP 1.6 data is a string
    return checked(
        OcppVersion.V16,
        "DataTransfer",
        m.DataTransferRequest(
            vendor_id=params["vendor_id"], message_id=params.get("message_id"), data=data
        ),
    )


TRANSLATIONS: Mapping[str, Translation] = {
    "change-availability": Translation(change_availability),
    "clear-cache": Translation(clear_cache),
    "data-transfer": Translation(data_transfer),
    "get-configuration": Translation(get_configuration, settle_get_configuration),
    "get-diagnostics": Translation(get_diagnostics),
    "remote-start": Translation(remote_start),
    "remote-stop": Translation(remote_stop),
    "reset": Translation(reset),
    "set-configuration": Translation(set_configuration, settle_set_configuration),
    "trigger-message": Translation(trigger_message),
    "unlock": Translation(unlock),
    "update-firmware": Translation(update_firmware),
    **local_lists16.TRANSLATIONS,
    **reservations16.TRANSLATIONS,
    **profiles16.TRANSLATIONS,
}
