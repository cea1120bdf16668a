"""Reservations as OCPP 2.0.1 calls (ReserveNow, CancelReservation).

A reservation's id is the id of the reserve-now command that made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers.commands import OcppCall, Translation, at
from chargegrid.gateway.handlers.local_lists201 import TOKEN_TYPES, id_token
from chargegrid.gateway.handlers.v201 import GROUP_TOKEN_TYPE
from chargegrid.ocpp.v201 import messages as m
from chargegrid.storage.repositories import id_tokens as id_token_repo

CONNECTOR_TYPES: Mapping[str, m.ConnectorEnum] = {c: c for c in get_args(m.ConnectorEnum)}


async def reserve_now(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    token = await id_token_repo.get(ctx.conn, params["id_token"])
    token_type: str | None = params.get("id_token_type")
    if token_type is not None and token_type not in TOKEN_TYPES:
        raise DomainError(ErrorKind.INVALID, f"{token_type} is not an OCPP 2.0.1 IdTokenEnum")
    if token_type is None and token is not None:
        token_type = token.type
    group: str | None = params.get("group_id_token")
    if group is None and token is not None:  # by default the token's own group
        group = token.group_id
    connector: str | None = params.get("connector_type")
    if connector is not None and connector not in CONNECTOR_TYPES:
        raise DomainError(ErrorKind.INVALID, f"{connector} is not an OCPP 2.0.1 ConnectorEnum")
    return OcppCall(
        "ReserveNow",
        m.ReserveNowRequest(
            id=command.id,
            expiry_date_time=at(params["expires_at"]),
            id_token=id_token(params["id_token"], token_type),
            evse_id=params.get("evse_id") or None,  # absent (or 0): any EVSE
            connector_type=None if connector is None else CONNECTOR_TYPES[connector],
            group_id_token=None if group is None else id_token(group, GROUP_TOKEN_TYPE),
        ),
    )


async def cancel_reservation(ctx: HandlerContext, command: Command) -> OcppCall:
    return OcppCall(
        "CancelReservation",
        m.CancelReservationRequest(reservation_id=command.params["reservation_id"]),
    )


TRANSLATIONS: Mapping[str, Translation] = {
    "reserve-now": Translation(reserve_now),
    "cancel-reservation": Translation(cancel_reservation),
}
