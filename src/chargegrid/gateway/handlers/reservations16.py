"""Reservations as OCPP 1.6 calls (ReserveNow, CancelReservation).

A reservation's id is the id of the reserve-now command that made it.
"""

from __future__ import annotations

from collections.abc import Mapping

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers.commands import OcppCall, Translation, at
from chargegrid.ocpp.v16 import messages as m
from chargegrid.storage.repositories import id_tokens as id_token_repo

ID_TAG_LENGTH = 20


async def reserve_now(ctx: HandlerContext, command: Command) -> OcppCall:
    params = command.params
    if params.get("connector_type") is not None:
        raise DomainError(ErrorKind.INVALID, "an OCPP 1.6 reservation has no connector type")
    id_tag: str = params["id_token"]
    group: str | None = params.get("group_id_token")
    if group is None:  # by default the token's own group, as Authorize gives it
        token = await id_token_repo.get(ctx.conn, id_tag)
        group = None if token is None else token.group_id
    for name, value in (("idTag", id_tag), ("parentIdTag", group)):
        if value is not None and len(value) > ID_TAG_LENGTH:
            raise DomainError(
                ErrorKind.INVALID, f"an OCPP 1.6 {name} has at most {ID_TAG_LENGTH} characters"
            )
    return OcppCall(
        "ReserveNow",
        m.ReserveNowRequest(
            connector_id=params.get("evse_id") or 0,
            expiry_date=at(params["expires_at"]),
            id_tag=id_tag,
            reservation_id=command.id,
            parent_id_tag=group,
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
