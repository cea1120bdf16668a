"""/chargers: every charger, searchable, filterable, sortable and paged; their status live."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.dashboard import live
from chargegrid.dashboard.access import DashboardDep, SessionDep
from chargegrid.dashboard.listing import PAGE_SIZES, ListState, PageInfo, Paging
from chargegrid.dashboard.pages import DashboardRoute, page
from chargegrid.dashboard.routes.overview import STATUS_ORDER
from chargegrid.dashboard.templating import render
from chargegrid.storage.repositories import charger_listing
from chargegrid.storage.repositories.charger_listing import SORTS, ChargerQuery, LiveState

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

VERSIONS = ("1.6", "2.0.1")
MAX_LIVE = max(PAGE_SIZES)


def charger_query(params: dict[str, str]) -> tuple[ChargerQuery, ListState]:
    """The list's filters from the query string (unknown values are ignored)."""
    status = params.get("status", "")
    version = params.get("version", "")
    connection = params.get("connection", "")
    sort = params.get("sort", "id")
    query = ChargerQuery(
        search=params.get("q", "").strip()[:100] or None,
        status=status if status in STATUS_ORDER else None,
        version=version if version in VERSIONS else None,
        online={"online": True, "offline": False}.get(connection),
        location_id=params.get("location") or None,
        sort=sort if sort in SORTS else "id",
        descending=params.get("dir") == "desc",
    )
    filters = {
        "q": query.search or "",
        "status": query.status or "",
        "version": query.version or "",
        "connection": connection if query.online is not None else "",
        "location": query.location_id or "",
    }
    state = ListState(
        path="/chargers",
        filters=tuple((k, v) for k, v in filters.items() if v),
        sort=query.sort,
        descending=query.descending,
        paging=Paging.of(params),
    )
    return query, state


def live_fragments(states: dict[str, LiveState], context: dict[str, Any]) -> dict[str, str]:
    return {
        charger_id: render("chargers/_live.html", live=state, oob=True, **context)
        for charger_id, state in states.items()
    }


@router.get("/chargers")
async def chargers_list(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    query, state = charger_query(dict(request.query_params))
    async with dashboard.platform.db.connect() as conn:
        found = await charger_listing.list_page(
            conn, query, limit=state.paging.size, offset=state.paging.offset
        )
    info = PageInfo(state.paging.number, state.paging.size, found.total, len(found.items))
    filtered = bool(state.filters)
    return page(
        request,
        "chargers/page.html",
        section="/chargers",
        rows=found.items,
        info=info,
        state=state,
        filters=dict(state.filters),
        filtered=filtered,
        statuses=STATUS_ORDER,
        versions=VERSIONS,
        page_sizes=PAGE_SIZES,
        live_url="/live/chargers?" + urlencode([("id", row.id) for row in found.items]),
        oob=False,
    )


@router.get("/live/chargers")
async def chargers_stream(
    request: Request,
    session: SessionDep,
    dashboard: DashboardDep,
    id: Annotated[list[str] | None, Query()] = None,
) -> Response:
    charger_ids = list(dict.fromkeys(id or []))[:MAX_LIVE]
    changes = live.Changes()

    async def tick(conn: AsyncConnection) -> dict[str, str]:
        states = await charger_listing.live_states(conn, charger_ids)
        context = {"now": dashboard.platform.clock.now()}
        return {live.UPDATE: changes.of(live_fragments(states, context))}

    return live.stream(request, dashboard, tick)
