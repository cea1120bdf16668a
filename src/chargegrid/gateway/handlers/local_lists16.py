"""Local authorization list commands as OCPP 1.6 calls (SendLocalList,
GetLocalListVersion); the charger's answers keep the platform's copy of its list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

import msgspec

from chargegrid.domain.model import Command, CommandState
from chargegrid.domain.services import local_lists
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers.commands import (
    OcppCall,
    Settlement,
    Translation,
    settle_by_status,
)
from chargegrid.gateway.handlers.local_lists import (
    ListUpdate,
    planned_update,
    sent_request,
    taken,
    token_too_long,
)
from chargegrid.ocpp.v16 import messages as m
from chargegrid.storage.repositories.local_lists import LocalListEntry

ID_TAG_LENGTH = 20
STATUSES: Mapping[str, m.AuthorizationStatus] = {s: s for s in get_args(m.AuthorizationStatus)}


def authorization_data(entry: LocalListEntry) -> m.AuthorizationData:
    """A list entry as 1.6 AuthorizationData (a group becomes the parentIdTag)."""
    if len(entry.id_token) > ID_TAG_LENGTH:
        raise token_too_long(entry.id_token, ID_TAG_LENGTH, "1.6")
    group = entry.group_id
    return m.AuthorizationData(
        id_tag=entry.id_token,
        id_tag_info=m.IdTagInfo(
            status=STATUSES[entry.status],
            expiry_date=entry.expires_at,
            parent_id_tag=None if group is None else group[:ID_TAG_LENGTH],
        ),
    )


def removal(id_token: str) -> m.AuthorizationData:
    """An entry without idTagInfo: a differential update deletes it."""
    if len(id_token) > ID_TAG_LENGTH:
        raise token_too_long(id_token, ID_TAG_LENGTH, "1.6")
    return m.AuthorizationData(id_tag=id_token)


async def send_local_list(ctx: HandlerContext, command: Command) -> OcppCall:
    update = await planned_update(ctx, command)
    data = [*map(removal, update.removed), *map(authorization_data, update.entries)]
    return OcppCall(
        "SendLocalList",
        m.SendLocalListRequest(
            list_version=update.version,
            update_type="Full" if update.full else "Differential",
            local_authorization_list=data or None,
        ),
    )


def update_sent(request: m.SendLocalListRequest) -> ListUpdate:
    """What a SendLocalList puts on the charger's list."""
    data = request.local_authorization_list or []
    return ListUpdate(
        version=request.list_version,
        full=request.update_type == "Full",
        entries=[
            LocalListEntry(
                id_token=item.id_tag,
                status=item.id_tag_info.status,
                expires_at=item.id_tag_info.expiry_date,
                group_id=item.id_tag_info.parent_id_tag,
            )
            for item in data
            if item.id_tag_info is not None
        ],
        removed=[item.id_tag for item in data if item.id_tag_info is None],
    )


async def settle_send_local_list(
    ctx: HandlerContext, command: Command, response: m.SendLocalListResponse
) -> Settlement:
    settlement = await settle_by_status(ctx, command, response)
    if settlement.state is CommandState.ACCEPTED:
        request = msgspec.convert(await sent_request(ctx, command), m.SendLocalListRequest)
        await taken(ctx, update_sent(request))
    return settlement


async def get_local_list_version(ctx: HandlerContext, command: Command) -> OcppCall:
    return OcppCall("GetLocalListVersion", m.GetLocalListVersionRequest())


async def settle_local_list_version(
    ctx: HandlerContext, command: Command, response: m.GetLocalListVersionResponse
) -> Settlement:
    # 0: the list is empty; -1: the charger has no local list.
    await local_lists.version_reported(ctx.conn, ctx.charger_id, response.list_version, ctx.now)
    return Settlement(CommandState.ACCEPTED)


TRANSLATIONS: Mapping[str, Translation] = {
    "send-local-list": Translation(send_local_list, settle_send_local_list),
    "get-local-list-version": Translation(get_local_list_version, settle_local_list_version),
}
