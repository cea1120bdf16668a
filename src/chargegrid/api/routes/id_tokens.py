"""/api/v1/id-tokens"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chargegrid.api.deps import PagingDep, PlatformDep, ReadConn, WriteConn, require
from chargegrid.api.schemas import IdTokenIn, IdTokenOut, PageOut, page_out
from chargegrid.domain.model import IdTokenStatus
from chargegrid.domain.services import id_tokens
from chargegrid.domain.services.access import Role
from chargegrid.storage.repositories import id_tokens as repo

router = APIRouter(prefix="/id-tokens", tags=["id tokens"])


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
) -> PageOut[IdTokenOut]:
    page = await repo.list_page(
        conn,
        limit=paging.limit,
        offset=paging.offset,
        status=None if status is None else status.value,
    )
    return page_out(page, IdTokenOut.of)
