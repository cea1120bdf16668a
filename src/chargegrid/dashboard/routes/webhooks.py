"""/webhooks: where platform events are posted; operators add and pause them and send a
delivery again. Changes go through the same service as ``/api/v1/webhooks``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from chargegrid.dashboard.access import Dashboard, DashboardDep, SessionDep, require
from chargegrid.dashboard.forms import Form, read_form
from chargegrid.dashboard.listing import ListState, PageInfo, Paging
from chargegrid.dashboard.pages import DashboardRoute, page
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.services import webhooks
from chargegrid.domain.services.access import Role
from chargegrid.domain.services.webhooks import DeliveryState, EventType, Webhook
from chargegrid.storage.repositories import webhook_stats
from chargegrid.storage.repositories import webhooks as webhook_repo

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

EVENT_TYPES = tuple(event.value for event in EventType)
DELIVERY_STATES = tuple(state.value for state in DeliveryState)
NOTICES = {
    "paused": "The webhook is paused: no events are queued for it until it is resumed.",
    "resumed": "The webhook is active again: new events are queued for it.",
    "retried": "The delivery will be sent again in a moment.",
}


async def _list(
    request: Request,
    dashboard: Dashboard,
    *,
    form: Form | None = None,
    created: Webhook | None = None,
    status: int = 200,
) -> Response:
    params = dict(request.query_params)
    state = ListState(
        path="/webhooks", filters=(), sort="id", descending=False, paging=Paging.of(params)
    )
    async with dashboard.platform.db.connect() as conn:
        found = await webhook_repo.list_page(
            conn, limit=state.paging.size, offset=state.paging.offset
        )
        waiting = await webhook_stats.open_deliveries(conn, [hook.id for hook in found.items])
    return page(
        request,
        "webhooks/page.html",
        status=status,
        section="/webhooks",
        rows=found.items,
        waiting=waiting,
        info=PageInfo(state.paging.number, state.paging.size, found.total, len(found.items)),
        state=state,
        event_types=EVENT_TYPES,
        form=form or Form(lists={"event_types": list(EVENT_TYPES)}),
        created=created,
        notice=NOTICES.get(params.get("notice", "")),
    )


@router.get("/webhooks")
async def webhooks_list(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    return await _list(request, dashboard)


def _checked(form: Form) -> dict[str, Any]:
    url = form.text("url", "The URL", max_length=webhooks.MAX_URL_LENGTH, required=True)
    if url is not None and not url.lower().startswith(("http://", "https://")):
        form.problem("url", "The URL must start with http:// or https://.")
    chosen = [value for value in form.lists.get("event_types", []) if value in EVENT_TYPES]
    if not chosen:
        form.problem("event_types", "Choose one event at least.")
    secret = form.text("secret", "The secret", max_length=128)
    if secret is not None and len(secret) < 16:
        form.problem("secret", "The secret needs 16 characters at least, or leave it empty.")
    description = form.text("description", "The description", max_length=255)
    return {"url": url, "event_types": chosen, "secret": secret, "description": description}


@router.post("/webhooks", dependencies=[require(Role.OPERATOR)])
async def create_webhook(
    request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    form = await read_form(request)
    values = _checked(form)
    created = None
    if form.ok:
        platform = dashboard.platform
        try:
            async with platform.db.begin() as conn:
                created = await webhooks.create(conn, now=platform.clock.now(), **values)
        except DomainError as refused:
            if refused.kind is not ErrorKind.INVALID:
                raise
            form.problem("url", refused.message[:1].upper() + refused.message[1:] + ".")
    if created is None:
        return await _list(request, dashboard, form=form, status=422)
    # The secret is shown this once: the page is the answer, not a redirect.
    return await _list(request, dashboard, created=created)


@router.post("/webhooks/{webhook_id}/active", dependencies=[require(Role.OPERATOR)])
async def set_active(
    request: Request, webhook_id: int, session: SessionDep, dashboard: DashboardDep
) -> Response:
    form = await read_form(request)
    active = form.get("active") == "true"
    platform = dashboard.platform
    async with platform.db.begin() as conn:
        await webhooks.update(conn, webhook_id, now=platform.clock.now(), active=active)
    back = form.get("back")
    target = f"/webhooks/{webhook_id}" if back == "webhook" else "/webhooks"
    notice = "resumed" if active else "paused"
    return RedirectResponse(f"{target}?notice={notice}", status_code=303)


@router.get("/webhooks/{webhook_id}")
async def webhook_page(
    request: Request, webhook_id: int, session: SessionDep, dashboard: DashboardDep
) -> Response:
    return await _webhook(request, dashboard, webhook_id)


async def _webhook(
    request: Request,
    dashboard: Dashboard,
    webhook_id: int,
    *,
    problem: tuple[int, str] | None = None,
    status: int = 200,
) -> Response:
    params = dict(request.query_params)
    shown = params.get("state", "")
    delivery_state = DeliveryState(shown) if shown in DELIVERY_STATES else None
    state = ListState(
        path=f"/webhooks/{webhook_id}",
        filters=(("state", shown),) if delivery_state else (),
        sort="id",
        descending=True,
        paging=Paging.of(params),
        default_descending=True,
    )
    async with dashboard.platform.db.connect() as conn:
        webhook = await webhooks.get(conn, webhook_id)
        found = await webhook_repo.deliveries_page(
            conn,
            webhook_id,
            limit=state.paging.size,
            offset=state.paging.offset,
            state=None if delivery_state is None else delivery_state.value,
        )
    return page(
        request,
        "webhooks/webhook.html",
        status=status,
        section="/webhooks",
        webhook=webhook,
        rows=found.items,
        info=PageInfo(state.paging.number, state.paging.size, found.total, len(found.items)),
        state=state,
        states=DELIVERY_STATES,
        shown=shown if delivery_state else "",
        problem=problem,
        notice=NOTICES.get(params.get("notice", "")),
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    dependencies=[require(Role.OPERATOR)],
)
async def retry_delivery(
    request: Request,
    webhook_id: int,
    delivery_id: int,
    session: SessionDep,
    dashboard: DashboardDep,
) -> Response:
    platform = dashboard.platform
    try:
        async with platform.db.begin() as conn:
            await webhooks.retry(conn, webhook_id, delivery_id, platform.clock.now())
    except DomainError as refused:
        if refused.kind is not ErrorKind.CONFLICT:
            raise
        message = "This delivery is already waiting to be sent."
        return await _webhook(
            request, dashboard, webhook_id, problem=(delivery_id, message), status=409
        )
    return RedirectResponse(f"/webhooks/{webhook_id}?notice=retried", status_code=303)
