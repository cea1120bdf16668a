"""/api/v1/users: operator users (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from chargegrid.api.deps import PagingDep, PlatformDep, ReadConn, WriteConn, require
from chargegrid.api.schemas import PageOut, UserIn, UserOut, UserPatch, page_out
from chargegrid.domain.services import users
from chargegrid.domain.services.access import Role
from chargegrid.storage.repositories import users as repo

router = APIRouter(prefix="/users", tags=["users"], dependencies=[require(Role.ADMIN)])


@router.get("")
async def list_users(conn: ReadConn, paging: PagingDep) -> PageOut[UserOut]:
    page = await repo.list_page(conn, limit=paging.limit, offset=paging.offset)
    return page_out(page, UserOut.of)


@router.post("", status_code=201)
async def create_user(body: UserIn, conn: WriteConn, platform: PlatformDep) -> UserOut:
    """Create a user; 409 if the email is taken."""
    user = await users.create(
        conn,
        email=body.email,
        password=body.password,
        role=body.role,
        name=body.name,
        now=platform.clock.now(),
    )
    return UserOut.of(user)


@router.get("/{user_id}")
async def get_user(user_id: int, conn: ReadConn) -> UserOut:
    return UserOut.of(await users.get(conn, user_id))


@router.patch("/{user_id}")
async def update_user(
    user_id: int, body: UserPatch, conn: WriteConn, platform: PlatformDep
) -> UserOut:
    """Change a user's role, password, name or disabled flag.

    409 when it would leave no enabled admin.
    """
    given = body.model_fields_set
    user = await users.update(
        conn,
        user_id,
        now=platform.clock.now(),
        role=body.role if body.role is not None else users.KEEP,
        password=body.password if body.password is not None else users.KEEP,
        name=body.name if "name" in given else users.KEEP,
        disabled=body.disabled if body.disabled is not None else users.KEEP,
    )
    return UserOut.of(user)


@router.delete("/{user_id}", status_code=204, response_class=Response)
async def delete_user(user_id: int, conn: WriteConn) -> None:
    """Delete a user; their access tokens stop working at once. 409 for the last admin."""
    await users.delete(conn, user_id)
