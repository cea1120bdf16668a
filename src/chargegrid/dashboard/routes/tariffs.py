"""/tariffs: the tariffs as OCPI 2.2.1 objects, where they apply, and what a sample
session would cost with each.

Changes go through the same service as ``/api/v1/tariffs``: a tariff is written as its
OCPI JSON and checked field by field; transactions that started with a tariff keep the
copy frozen onto them whatever happens to it later.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from chargegrid.dashboard.access import Dashboard, DashboardDep, SessionDep, require
from chargegrid.dashboard.forms import Form, form_of, read_form
from chargegrid.dashboard.listing import ListState, PageInfo, Paging, query_string
from chargegrid.dashboard.pages import DashboardRoute, fragment, is_htmx, page
from chargegrid.dashboard.tariff_text import elements_of
from chargegrid.dashboard.templating import pretty_json
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.services import tariffs as tariff_service
from chargegrid.domain.services.access import Role
from chargegrid.storage.repositories import tariffs as tariff_repo
from chargegrid.tariffs import (
    OcpiDataError,
    PricedSession,
    SampleSession,
    Tariff,
    price_session,
    tariff_json,
)

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

PLACES = 50  # connectors listed on a tariff's page
NOTICES = {
    "created": "Tariff {tariff} was added.",
    "saved": "Tariff {tariff} was saved. Sessions that started before keep the old one.",
    "deleted": "Tariff {tariff} was deleted.",
}
EXAMPLE = """{
  "id": "STANDARD",
  "currency": "EUR",
  "type": "REGULAR",
  "tariff_alt_text": [{"language": "en", "text": "0.35 EUR/kWh, parking 2 EUR/h after charging"}],
  "elements": [
    {"price_components": [{"type": "ENERGY", "price": 0.35, "vat": 21.0, "step_size": 1}]},
    {"price_components": [{"type": "PARKING_TIME", "price": 2.00, "vat": 21.0, "step_size": 60}]}
  ]
}"""
SAMPLE_DEFAULTS = {"start": "18:00", "hours": "2", "power": "11", "parking": "30"}


def _done(notice: str, tariff_id: str, path: str = "/tariffs") -> Response:
    values = {"notice": notice, "tariff": tariff_id}
    return RedirectResponse(f"{path}?{query_string(values)}", status_code=303)


def _notice(request: Request) -> str | None:
    params = request.query_params
    notice = NOTICES.get(params.get("notice", ""))
    return None if notice is None else notice.format(tariff=params.get("tariff", ""))


async def _list(
    request: Request, dashboard: Dashboard, *, form: Form | None = None, status: int = 200
) -> Response:
    paging = Paging.of(dict(request.query_params))
    async with dashboard.platform.db.connect() as conn:
        found = await tariff_service.list_page(conn, limit=paging.size, offset=paging.offset)
        counts = await tariff_repo.assignment_counts(conn, [t.id for t in found.items])
    return page(
        request,
        "tariffs/page.html",
        status=status,
        section="/tariffs",
        rows=[(t, counts.get(t.id, 0)) for t in found.items],
        info=PageInfo(paging.number, paging.size, found.total, len(found.items)),
        state=ListState(path="/tariffs", filters=(), sort="id", descending=False, paging=paging),
        form=form or form_of({"document": EXAMPLE}),
        notice=_notice(request),
    )


def _problem(form: Form, refused: DomainError) -> None:
    """A refusal of the service (its message names the field at fault), by the JSON."""
    form.problem("document", refused.message)


@router.get("/tariffs")
async def tariffs_list(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    return await _list(request, dashboard)


@router.post("/tariffs", dependencies=[require(Role.OPERATOR)])
async def create_tariff(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    form = await read_form(request)
    platform = dashboard.platform
    try:
        async with platform.db.begin() as conn:
            created = await tariff_service.create(
                conn,
                form.get("document").encode(),
                platform.settings.billing_terms(),
                platform.clock.now(),
            )
    except DomainError as refused:
        if refused.kind not in (ErrorKind.INVALID, ErrorKind.CONFLICT):
            raise
        _problem(form, refused)
        return await _list(request, dashboard, form=form, status=422)
    return _done("created", created.id, f"/tariffs/{quote(created.id, safe='')}")


def sample_of(form: Form, time_zone: str, today: dt.date) -> SampleSession | None:
    """The sample session typed in the preview form (problems noted on ``form``)."""
    start = _clock_time(form, "start", "The start")
    charging = _number(form, "hours", "The charging time", high=Decimal(72))
    power = _number(form, "power", "The power", high=Decimal(1000))
    parking = _number(form, "parking", "The parking time", high=Decimal(7 * 24 * 60))
    day = _date(form, "day", today)
    if start is None or charging is None or power is None or parking is None or not form.ok:
        return None
    try:
        return SampleSession(
            start=dt.datetime.combine(day, start),
            time_zone=time_zone,
            charging=dt.timedelta(hours=float(charging)),
            power_kw=power,
            parking=dt.timedelta(minutes=float(parking)),
        )
    except OcpiDataError as refused:
        field = {"charging": "hours", "power_kw": "power"}.get(refused.path, refused.path)
        form.problem(field, refused.reason.capitalize() + ".")
        return None


def _clock_time(form: Form, name: str, label: str) -> dt.time | None:
    try:
        return dt.time.fromisoformat(form.get(name).strip())
    except ValueError:
        form.problem(name, f"{label} is a time of day, like 18:30.")
        return None


def _date(form: Form, name: str, default: dt.date) -> dt.date:
    value = form.get(name).strip()
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        form.problem(name, "The day is a date, like 2030-01-31.")
        return default


def _number(form: Form, name: str, label: str, *, high: Decimal) -> Decimal | None:
    try:
        value = Decimal(form.get(name).strip())
    except InvalidOperation:
        form.problem(name, f"{label} is a number.")
        return None
    if not value.is_finite() or not Decimal(0) <= value <= high:
        form.problem(name, f"{label} is a number from 0 to {high}.")
        return None
    return value


def _preview(
    tariff: Tariff, sample: SampleSession | None
) -> tuple[PricedSession | None, str | None]:
    """The sample priced, or why the tariff cannot price it (e.g. not in force then)."""
    if sample is None:
        return None, None
    try:
        return price_session(tariff, sample.time_zone, sample.timeline()), None
    except OcpiDataError as refused:
        return None, str(refused)


async def _tariff_view(
    request: Request,
    dashboard: Dashboard,
    tariff_id: str,
    *,
    form: Form | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    """A tariff's page; ``form`` is an edit that was refused, ``problem`` a refused delete."""
    platform = dashboard.platform
    params = dict(request.query_params)
    async with platform.db.connect() as conn:
        stored = await tariff_repo.get_tariff(conn, tariff_id)
        if stored is None:
            raise DomainError(ErrorKind.NOT_FOUND, f"There is no tariff {tariff_id}.")
        places = await tariff_repo.assignments_of(conn, stored.pk, limit=PLACES)
        counts = await tariff_repo.assignment_counts(conn, [tariff_id])
    tariff = tariff_service.parsed(stored)
    asked = {key: params[key] for key in (*SAMPLE_DEFAULTS, "day", "zone") if key in params}
    sample_form = form_of({**SAMPLE_DEFAULTS, **asked})
    time_zone = asked.get("zone") or platform.settings.billing_terms().time_zone
    sample = sample_of(sample_form, time_zone, platform.clock.now().date())
    priced, preview_problem = _preview(tariff, sample)
    context: dict[str, Any] = {
        "tariff": tariff,
        "sample": sample,
        "sample_form": sample_form,
        "time_zone": time_zone,
        "priced": priced,
        "preview_problem": preview_problem,
    }
    if is_htmx(request):
        return fragment(request, "tariffs/_preview.html", **context)
    document = pretty_json(tariff_json(tariff).decode())
    return page(
        request,
        "tariffs/tariff.html",
        status=status,
        section="/tariffs",
        document=document,
        elements=elements_of(tariff),
        places=places,
        assigned=counts.get(tariff_id, 0),
        form=form or form_of({"document": document}),
        notice=_notice(request),
        delete_problem=problem,
        **context,
    )


@router.get("/tariffs/{tariff_id}")
async def tariff_page(
    request: Request, tariff_id: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    return await _tariff_view(request, dashboard, tariff_id)


@router.post("/tariffs/{tariff_id}", dependencies=[require(Role.OPERATOR)])
async def save_tariff(
    request: Request, tariff_id: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    form = await read_form(request)
    platform = dashboard.platform
    try:
        async with platform.db.begin() as conn:
            await tariff_service.replace_tariff(
                conn,
                tariff_id,
                form.get("document").encode(),
                platform.settings.billing_terms(),
                platform.clock.now(),
            )
    except DomainError as refused:
        if refused.kind is not ErrorKind.INVALID:
            raise
        _problem(form, refused)
        return await _tariff_view(request, dashboard, tariff_id, form=form, status=422)
    return _done("saved", tariff_id, f"/tariffs/{quote(tariff_id, safe='')}")


@router.post("/tariffs/{tariff_id}/delete", dependencies=[require(Role.OPERATOR)])
async def delete_tariff(
    request: Request, tariff_id: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    await read_form(request)
    try:
        async with dashboard.platform.db.begin() as conn:
            await tariff_service.delete(conn, tariff_id)
    except DomainError as refused:
        if refused.kind is not ErrorKind.CONFLICT:
            raise
        return await _tariff_view(
            request, dashboard, tariff_id, problem=refused.message, status=409
        )
    return _done("deleted", tariff_id)
