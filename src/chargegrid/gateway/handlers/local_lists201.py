"""Local authorization list commands as OCPP 2.0.1 calls (SendLocalList,
GetLocalListVersion); the charger's answers keep the platform's copy of its list.

A 2.0.1 list entry is an idToken *and* its type; a group is an id token of its own.
"""

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
from chargegrid.gateway.handlers.v201 import GROUP_TOKEN_TYPE
from chargegrid.ocpp.v201 import messages as m
from chargegrid.storage.repositories import id_tokens as id_token_repo
from chargegrid.storage.repositories.local_lists import LocalListEntry

ID_TOKEN_LENGTH = 36
STATUSES: Mapping[str, m.AuthorizationStatusEnum] = {
    s: s for s in get_args(m.AuthorizationStatusEnum)
}
TOKEN_TYPES: Mapping[str, m.IdTokenEnum] = {t: t for t in get_args(m.IdTokenEnum)}


def id_token(value: str, token_type: str | None) -> m.IdToken:
    """A token of the platform as a 2.0.1 IdToken (Central unless its type is a 2.0.1 one)."""
    if len(value) > ID_TOKEN_LENGTH:
        raise token_too_long(value, ID_TOKEN_LENGTH, "2.0.1")
    return m.IdToken(id_token=value, type=TOKEN_TYPES.get(token_type or "", "Central"))


def authorization_data(entry: LocalListEntry) -> m.AuthorizationData:
    group = entry.group_id
    return m.AuthorizationData(
        id_token=id_token(entry.id_token, entry.type),
        id_token_info=m.IdTokenInfo(
            status=STATUSES[entry.status],
            cache_expiry_date_time=entry.expires_at,
            group_id_token=(
                None
                if group is None
                else m.IdToken(id_token=group[:ID_TOKEN_LENGTH], type=GROUP_TOKEN_TYPE)
            ),
        ),
    )


async def removal(ctx: HandlerContext, token: str) -> m.AuthorizationData:
    """An entry without idTokenInfo: a differential update deletes it. Its type is the one
    it was listed with."""
    listed = await local_lists.listed(ctx.conn, ctx.charger_id, token)
    if listed is not None:
        token_type = listed.type
    else:
        stored = await id_token_repo.get(ctx.conn, token)
        token_type = None if stored is None else stored.type
    return m.AuthorizationData(id_token=id_token(token, token_type))


async def send_local_list(ctx: HandlerContext, command: Command) -> OcppCall:
    update = await planned_update(ctx, command)
    data = [await removal(ctx, token) for token in update.removed]
    for entry in update.entries:
        item = authorization_data(entry)
        listed = await local_lists.listed(ctx.conn, ctx.charger_id, entry.id_token)
        if not update.full and listed is not None:
            was = id_token(listed.id_token, listed.type)
            if was != item.id_token:  # its type changed: the listed IdToken is another one
                data.append(m.AuthorizationData(id_token=was))
        data.append(item)
    return OcppCall(
        "SendLocalList",
        m.SendLocalListRequest(
            version_number=update.version,
            update_type="Full" if update.full else "Differential",
            local_authorization_list=data or None,
        ),
    )


def update_sent(request: m.SendLocalListRequest) -> ListUpdate:
    """What a SendLocalList puts on the charger's list."""
    data = request.local_authorization_list or []
    entries = []
    for item in data:
        info = item.id_token_info
        if info is not None:
            group = info.group_id_token
            entries.append(
                LocalListEntry(
                    id_token=item.id_token.id_token,
                    type=item.id_token.type,
                    status=info.status,
                    expires_at=info.cache_expiry_date_time,
                    group_id=None if group is None else group.id_token,
                )
            )
    return ListUpdate(
        version=request.version_number,
        full=request.update_type == "Full",
        entries=entries,
        removed=[item.id_token.id_token for item in data if item.id_token_info is None],
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
    # 0: no list (none sent yet, or the charging station keeps none).
    await local_lists.version_reported(ctx.conn, ctx.charger_id, response.version_number, ctx.now)
    return Settlement(CommandState.ACCEPTED)


TRANSLATIONS: Mapping[str, Translation] = {
    "send-local-list": Translation(send_local_list, settle_send_local_list),
    "get-local-list-version": Translation(get_local_list_version, settle_local_list_version),
}
