"""Request dependencies: the platform, the caller, a database connection, paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.api.sign_in_limits import FailedSignIns
from chargegrid.domain.services.access import Role
from chargegrid.domain.services.access_tokens import AccessTokens
from chargegrid.domain.users import User
from chargegrid.platform import Platform
from chargegrid.values import immutable

_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def read_connection(platform: PlatformDep) -> AsyncIterator[AsyncConnection]:
    async with platform.db.connect() as conn:
        yield conn


async def write_connection(platform: PlatformDep) -> AsyncIterator[AsyncConnection]:
    async with platform.db.begin() as conn:
        yield conn


ReadConn = Annotated[AsyncConnection, Depends(read_connection)]
# scope="function": commit before the response is sent, never after (FastAPI's default
# for dependencies with yield ends them once the response is out: a 201 could then
# precede a failed commit, and a client's next request could miss its own write).
WriteConn = Annotated[AsyncConnection, Depends(write_connection, scope="function")]


def caller_role(request: Request) -> Role:
    """The role the authentication middleware found for this request's bearer token."""
    role: Role | None = getattr(request.state, "role", None)
    if role is None:  # only reachable for a route mounted outside /api/v1
        raise HTTPException(401, "missing bearer token")
    return role


def caller_principal(request: Request) -> str:
    """Who is calling, as recorded with their actions: ``user:<email>`` or ``token:<name>``."""
    principal: str | None = getattr(request.state, "principal", None)
    if principal is None:  # only reachable for a route mounted outside /api/v1
        raise HTTPException(401, "missing bearer token")
    return principal


CallerPrincipal = Annotated[str, Depends(caller_principal)]


def caller_user(request: Request) -> User | None:
    """The signed-in user making this request; None when an API token is used."""
    user: User | None = getattr(request.state, "user", None)
    return user


CallerUser = Annotated[User | None, Depends(caller_user)]


def get_access_tokens(request: Request) -> AccessTokens:
    tokens: AccessTokens = request.app.state.access_tokens
    return tokens


AccessTokensDep = Annotated[AccessTokens, Depends(get_access_tokens)]


def get_failed_sign_ins(request: Request) -> FailedSignIns:
    failures: FailedSignIns = request.app.state.failed_sign_ins
    return failures


FailedSignInsDep = Annotated[FailedSignIns, Depends(get_failed_sign_ins)]


def require(minimum: Role) -> Any:
    """A dependency that allows callers with at least the ``minimum`` role."""

    async def check(role: Annotated[Role, Depends(caller_role)]) -> Role:
        if _RANK[role] < _RANK[minimum]:
            raise HTTPException(403, f"this needs the {minimum.value} role")
        return role

    return Depends(check)


@immutable
class Paging:
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size (max 1000).")] = 100,
    offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0,
) -> Paging:
    return Paging(limit, offset)


PagingDep = Annotated[Paging, Depends(paging)]
