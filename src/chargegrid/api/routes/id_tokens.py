"""/api/v1/id-tokens"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field

from chargegrid.api.deps import PagingDep, PlatformDep, ReadConn, WriteConn, require
from chargegrid.api.schemas import IdTokenIn, IdTokenOut, IdTokenPatch, PageOut, page_out
from chargegrid.domain.model import IdTokenStatus
from chargegrid.domain.services import id_tokens
from chargegrid.domain.services.access import Role
from chargegrid.domain.services.id_token_requests import change_token, forget_token
from chargegrid.domain.services.id_tokens import TokenChange
from chargegrid.storage.repositories import id_tokens as repo

router = APIRouter(prefix="/id-tokens", tags=["id tokens"])


class IdTokenChangeOut(IdTokenOut):
    local_list_commands: list[int] = Field(
        description="The send-local-list commands (ids) queued to bring the local lists "
        "holding this token up to date: one differential update per charger."
    )

    @classmethod
    def of_change(cls, change: TokenChange) -> IdTokenChangeOut:
        return cls(
            **IdTokenOut.of(change.token).model_dump(),
            local_list_commands=[command.id for command in change.list_updates],
        )


PushLocalLists = Annotated[
    bool,
    Query(
        description="Queue a differential send-local-list to every charger whose local "
        "list holds the token (default). With false, the lists are left as they are."
    ),
]


@router.post("", status_code=201, dependencies=[require(Role.OPERATOR)])
async def create_id_token(body: IdTokenIn, conn: WriteConn, platform: PlatformDep) -> IdTokenOut:
    token = await id_tokens.create(
        conn,
        id_token=body.id_token,
        status=IdTokenStatus(body.status),
        now=platform.clock.now(),
        expires_at=body.expires_at,
        group_id=body.group_id,
        type=body.type,
    )
    return IdTokenOut.of(token)


@router.get("", dependencies=[require(Role.VIEWER)])
async def list_id_tokens(
    conn: ReadConn,
    paging: PagingDep,
    status: Annotated[
        IdTokenStatus | None, Query(description="Only tokens with this status.")
    ] = None,
    group_id: Annotated[str | None, Query(description="Only tokens of this group.")] = None,
) -> PageOut[IdTokenOut]:
    page = await repo.list_page(
        conn,
        limit=paging.limit,
        offset=paging.offset,
        status=None if status is None else status.value,
        group_id=group_id,
    )
    return page_out(page, IdTokenOut.of)


@router.get("/{id_token}", dependencies=[require(Role.VIEWER)])
async def get_id_token(id_token: str, conn: ReadConn) -> IdTokenOut:
    return IdTokenOut.of(await id_tokens.get(conn, id_token))


@router.patch("/{id_token}", dependencies=[require(Role.OPERATOR)])
async def update_id_token(
    id_token: str,
    body: IdTokenPatch,
    platform: PlatformDep,
    request: Request,
    push_local_lists: PushLocalLists = True,
) -> IdTokenChangeOut:
    """Change a token's status (e.g. block it), expiry, group or type. Authorization
    follows at once; local lists holding the token get a differential update."""
    change = await change_token(
        platform,
        id_token,
        body.model_dump(exclude_unset=True),
        requested_by=getattr(request.state, "principal", None),
        push_local_lists=push_local_lists,
    )
    return IdTokenChangeOut.of_change(change)


@router.delete("/{id_token}", dependencies=[require(Role.OPERATOR)])
async def delete_id_token(
    id_token: str,
    platform: PlatformDep,
    request: Request,
    push_local_lists: PushLocalLists = True,
) -> IdTokenChangeOut:
    """Forget a token (returned as it was); local lists holding it get a differential
    update that removes it."""
    change = await forget_token(
        platform,
        id_token,
        requested_by=getattr(request.state, "principal", None),
        push_local_lists=push_local_lists,
    )
    return IdTokenChangeOut.of_change(change)
