"""/id-tokens: the tokens that may charge; operators add, change and remove them.

Changes go through the same services as ``/api/v1/id-tokens``: a changed or removed
token reaches the local lists of the chargers that hold it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from chargegrid.dashboard.access import Dashboard, DashboardDep, SessionDep, require
from chargegrid.dashboard.forms import Form, form_of, local_input, read_form
from chargegrid.dashboard.listing import ListState, PageInfo, Paging, query_string
from chargegrid.dashboard.pages import DashboardRoute, page
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import IdTokenStatus
from chargegrid.domain.services import id_tokens
from chargegrid.domain.services.access import Role
from chargegrid.domain.services.id_token_requests import change_token, forget_token
from chargegrid.storage.repositories import token_listing
from chargegrid.storage.repositories.token_listing import SORTS, TokenQuery

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

STATUSES = tuple(status.value for status in IdTokenStatus)
# OCPP 2.0.1 IdTokenEnumType; a token may also have none.
TYPES = ("ISO14443", "ISO15693", "eMAID", "Central", "KeyCode", "Local", "MacAddress")
NOTICES = {
    "created": "Id token {token} was added.",
    "saved": "Id token {token} was saved.",
    "deleted": "Id token {token} was removed.",
}


def token_query(params: dict[str, str]) -> tuple[TokenQuery, ListState]:
    status = params.get("status", "")
    sort = params.get("sort", "token")
    query = TokenQuery(
        search=params.get("q", "").strip()[:255] or None,
        status=IdTokenStatus(status) if status in STATUSES else None,
        group_id=params.get("group", "").strip()[:255] or None,
        sort=sort if sort in SORTS else "token",
        descending=params.get("dir") == "desc",
    )
    filters = {
        "q": query.search or "",
        "status": status if query.status else "",
        "group": query.group_id or "",
    }
    state = ListState(
        path="/id-tokens",
        filters=tuple((k, v) for k, v in filters.items() if v),
        sort=query.sort,
        descending=query.descending,
        paging=Paging.of(params),
    )
    return query, state


def _values(form: Form, *, new: bool) -> dict[str, Any]:
    """The token's fields from the form, checked as the API checks them."""
    values: dict[str, Any] = {}
    if new:
        values["id_token"] = form.text("id_token", "The token", max_length=255, required=True)
    values["status"] = form.choice("status", "Status", STATUSES)
    values["expires_at"] = form.utc_time("expires_at", "Expiry")
    values["group_id"] = form.text("group_id", "The group", max_length=255)
    values["type"] = form.text("type", "The type", max_length=20)
    return values


async def _list(
    request: Request, dashboard: Dashboard, *, form: Form | None = None, status: int = 200
) -> Response:
    params = dict(request.query_params)
    query, state = token_query(params)
    async with dashboard.platform.db.connect() as conn:
        found = await token_listing.list_page(
            conn, query, limit=state.paging.size, offset=state.paging.offset
        )
        groups = await token_listing.groups(conn)
    notice = NOTICES.get(params.get("notice", ""))
    return page(
        request,
        "id_tokens/page.html",
        status=status,
        section="/id-tokens",
        rows=found.items,
        info=PageInfo(state.paging.number, state.paging.size, found.total, len(found.items)),
        state=state,
        filters=dict(state.filters),
        filtered=bool(state.filters),
        statuses=STATUSES,
        types=TYPES,
        groups=groups,
        form=form or form_of({"status": "Accepted"}),
        notice=None if notice is None else notice.format(token=params.get("token", "")),
        list_updates=params.get("lists", ""),
    )


def _done(notice: str, token: str, list_updates: int = 0) -> Response:
    values = {"q": token, "notice": notice, "token": token, "lists": list_updates}
    return RedirectResponse(f"/id-tokens?{query_string(values)}", status_code=303)


@router.get("/id-tokens")
async def id_tokens_list(
    request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    return await _list(request, dashboard)


@router.post("/id-tokens", dependencies=[require(Role.OPERATOR)])
async def create_id_token(
    request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    form = await read_form(request)
    values = _values(form, new=True)
    if form.ok:
        platform = dashboard.platform
        try:
            async with platform.db.begin() as conn:
                await id_tokens.create(
                    conn,
                    id_token=values["id_token"],
                    status=IdTokenStatus(values["status"]),
                    expires_at=values["expires_at"],
                    group_id=values["group_id"],
                    type=values["type"],
                    now=platform.clock.now(),
                )
        except DomainError as refused:
            if refused.kind is not ErrorKind.CONFLICT:
                raise
            form.problem("id_token", "This token exists already: find it in the list to edit it.")
    if not form.ok:
        return await _list(request, dashboard, form=form, status=422)
    return _done("created", values["id_token"])


@router.get("/id-tokens/edit", dependencies=[require(Role.OPERATOR)])
async def edit_id_token(
    request: Request, session: SessionDep, dashboard: DashboardDep, token: str = ""
) -> Response:
    async with dashboard.platform.db.connect() as conn:
        found = await id_tokens.get(conn, token)
    form = form_of(
        {
            "status": found.status.value,
            "expires_at": local_input(found.expires_at),
            "group_id": found.group_id,
            "type": found.type,
        }
    )
    return _edit_page(request, found.id_token, form)


def _edit_page(request: Request, token: str, form: Form, status: int = 200) -> Response:
    return page(
        request,
        "id_tokens/edit.html",
        status=status,
        section="/id-tokens",
        token=token,
        form=form,
        statuses=STATUSES,
        types=TYPES,
    )


@router.post("/id-tokens/edit", dependencies=[require(Role.OPERATOR)])
async def save_id_token(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    form = await read_form(request)
    token = form.get("token")
    changes = _values(form, new=False)
    if not form.ok:
        return _edit_page(request, token, form, status=422)
    change = await change_token(
        dashboard.platform, token, changes, requested_by=session.user.principal
    )
    return _done("saved", token, len(change.list_updates))


@router.post("/id-tokens/delete", dependencies=[require(Role.OPERATOR)])
async def delete_id_token(
    request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    form = await read_form(request)
    token = form.get("token")
    change = await forget_token(dashboard.platform, token, requested_by=session.user.principal)
    values = {"notice": "deleted", "token": token, "lists": len(change.list_updates)}
    return RedirectResponse(f"/id-tokens?{query_string(values)}", status_code=303)
