"""Version-neutral commands as OCPP 2.0.1 calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers.commands import (
    OcppCall,
    Settlement,
    Translation,
    addressed_transaction,
    settle_by_status,
)
from chargegrid.ocpp.v201 import messages as m
from chargegrid.storage.repositories import id_tokens as id_token_repo
from chargegrid.storage.repositories import transactions as transaction_repo

TOKEN_TYPES: frozenset[str] = frozenset(get_args(m.IdTokenEnum))


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


TRANSLATIONS: Mapping[str, Translation] = {
    "clear-cache": Translation(clear_cache),
    "remote-start": Translation(remote_start, settle_remote_start),
    "remote-stop": Translation(remote_stop),
    "reset": Translation(reset),
}
