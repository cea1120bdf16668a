"""/transactions: every transaction, filtered, sorted and paged; the same list as CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request, Response
from starlette.responses import StreamingResponse

from chargegrid.dashboard.access import DashboardDep, SessionDep
from chargegrid.dashboard.csv_export import csv_text
from chargegrid.dashboard.listing import PAGE_SIZES, ListState, PageInfo, Paging
from chargegrid.dashboard.pages import DashboardRoute, page
from chargegrid.domain.model import TransactionStatus
from chargegrid.storage.repositories import transaction_listing
from chargegrid.storage.repositories.transaction_listing import SORTS, TransactionQuery

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

STATUSES = tuple(status.value for status in TransactionStatus)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def transaction_query(params: dict[str, str]) -> tuple[TransactionQuery, ListState]:
    """The list's filters from the query string (values that make no sense are ignored).

    ``from`` and ``to`` are UTC days, both included, of the transactions' start.
    """
    status = params.get("status", "")
    first, last = _day(params.get("from")), _day(params.get("to"))
    sort = params.get("sort", "started")
    query = TransactionQuery(
        charger_id=params.get("charger", "").strip()[:48] or None,
        id_token=params.get("token", "").strip()[:255] or None,
        status=TransactionStatus(status) if status in STATUSES else None,
        started_from=None if first is None else _midnight(first),
        started_before=None if last is None else _midnight(last) + timedelta(days=1),
        sort=sort if sort in SORTS else "started",
        descending=params.get("dir", "desc") != "asc",
    )
    filters = {
        "charger": query.charger_id or "",
        "token": query.id_token or "",
        "status": status if query.status else "",
        "from": first.isoformat() if first else "",
        "to": last.isoformat() if last else "",
    }
    state = ListState(
        path="/transactions",
        filters=tuple((k, v) for k, v in filters.items() if v),
        sort=query.sort,
        descending=query.descending,
        paging=Paging.of(params),
        default_descending=True,
    )
    return query, state


@router.get("/transactions")
async def transactions_list(
    request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    query, state = transaction_query(dict(request.query_params))
    async with dashboard.platform.db.connect() as conn:
        found = await transaction_listing.list_page(
            conn, query, limit=state.paging.size, offset=state.paging.offset
        )
    info = PageInfo(
        state.paging.number,
        state.paging.size,
        found.total,
        len(found.items),
        counted_to=transaction_listing.COUNT_LIMIT,
    )
    export = "/transactions.csv" + state.url()[len(state.path) :]
    return page(
        request,
        "transactions/page.html",
        section="/transactions",
        rows=found.items,
        info=info,
        state=state,
        filters=dict(state.filters),
        filtered=bool(state.filters),
        statuses=STATUSES,
        page_sizes=PAGE_SIZES,
        export_url=export,
    )


@router.get("/transactions.csv")
async def transactions_csv(
    request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    """Every transaction the list's filters match, in its order, streamed as CSV."""
    query, _ = transaction_query(dict(request.query_params))
    platform = dashboard.platform
    stamp = platform.clock.now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")

    async def body() -> AsyncIterator[str]:
        async with platform.db.connect() as conn:
            async for text in csv_text(transaction_listing.export(conn, query)):
                yield text

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="transactions-{stamp}.csv"'},
    )
