"""Version-neutral commands as OCPP 1.6 calls."""

from __future__ import annotations

from collections.abc import Mapping

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers.commands import OcppCall, Translation, addressed_transaction
from chargegrid.ocpp.v16 import messages as m


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
            id_tag=params["id_token"], connector_id=params.get("evse_id")
        ),
    )


async def remote_stop(ctx: HandlerContext, command: Command) -> OcppCall:
    transaction = await addressed_transaction(ctx, command)
    return OcppCall(
        "RemoteStopTransaction", m.RemoteStopTransactionRequest(transaction_id=int(transaction))
    )


TRANSLATIONS: Mapping[str, Translation] = {
    "clear-cache": Translation(clear_cache),
    "remote-start": Translation(remote_start),
    "remote-stop": Translation(remote_stop),
    "reset": Translation(reset),
}
