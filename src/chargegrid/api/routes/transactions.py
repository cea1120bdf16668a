"""/api/v1/transactions"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chargegrid.api.deps import PagingDep, PlatformDep, ReadConn, require
from chargegrid.api.schemas import PageOut, TransactionEventOut, TransactionOut, page_out
from chargegrid.api.schemas_billing import TransactionDetailOut
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import TransactionStatus
from chargegrid.domain.services import costs
from chargegrid.domain.services.access import Role
from chargegrid.storage.repositories import transactions as repo

router = APIRouter(prefix="/transactions", tags=["transactions"])


@router.get("", dependencies=[require(Role.VIEWER)])
async def list_transactions(
    conn: ReadConn,
    paging: PagingDep,
    charger_id: Annotated[str | None, Query(description="Only this charger's.")] = None,
    status: Annotated[TransactionStatus | None, Query(description="active or completed")] = None,
    id_token: Annotated[str | None, Query(description="Only this token's.")] = None,
) -> PageOut[TransactionOut]:
    page = await repo.list_page(
        conn,
        limit=paging.limit,
        offset=paging.offset,
        charger_id=charger_id,
        status=None if status is None else status.value,
        id_token=id_token,
    )
    return page_out(page, TransactionOut.of)


@router.get("/{transaction_pk}", dependencies=[require(Role.VIEWER)])
async def get_transaction(
    transaction_pk: int, conn: ReadConn, platform: PlatformDep
) -> TransactionDetailOut:
    """A transaction with what it costs: so far while it runs, its CDR's once it has one."""
    transaction = await repo.get(conn, transaction_pk)
    if transaction is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"transaction {transaction_pk} not found")
    cost = await costs.cost_of(conn, transaction, platform.clock.now())
    return TransactionDetailOut.of_cost(transaction, cost)


@router.get("/{transaction_pk}/events", dependencies=[require(Role.VIEWER)])
async def list_transaction_events(
    transaction_pk: int, conn: ReadConn, paging: PagingDep
) -> PageOut[TransactionEventOut]:
    """What the charger reported about the transaction, in its order (sequence number)."""
    if await repo.get(conn, transaction_pk) is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"transaction {transaction_pk} not found")
    page = await repo.events_page(conn, transaction_pk, limit=paging.limit, offset=paging.offset)
    return page_out(page, TransactionEventOut.of)
