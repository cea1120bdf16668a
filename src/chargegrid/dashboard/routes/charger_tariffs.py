"""/chargers/{id}/tariffs: the tariffs of a charger's connectors, set from its page.

A connector's list (OCPI ``tariff_ids``) is in order of preference; the charger's default
list applies to connectors without one. The same service as the API's checks them.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.dashboard.access import DashboardDep, SessionDep, require
from chargegrid.dashboard.forms import read_form
from chargegrid.dashboard.pages import DashboardRoute, fragment, is_htmx
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Connector
from chargegrid.domain.services import tariffs as tariff_service
from chargegrid.domain.services.access import Role
from chargegrid.storage.repositories import charger_listing
from chargegrid.storage.repositories import tariffs as tariff_repo
from chargegrid.values import immutable

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

_SEPARATORS = re.compile(r"[\s,]+")


@immutable
class TariffRow:
    """One list of tariffs of the charger: its default (EVSE 0) or a connector's."""

    evse_id: int
    connector_id: int
    tariff_ids: tuple[str, ...]

    @property
    def is_default(self) -> bool:
        return self.evse_id == tariff_service.CHARGER_DEFAULT


async def tariff_rows(
    conn: AsyncConnection, charger_id: str, connectors: tuple[Connector, ...]
) -> list[TariffRow]:
    """The charger's default, then each known connector, with their tariffs."""
    assigned = await tariff_repo.tariffs_of_charger(conn, charger_id)
    places = {(0, 0), *assigned, *((c.evse_id, c.connector_id) for c in connectors)}
    return [
        TariffRow(evse, connector, tuple(assigned.get((evse, connector), ())))
        for evse, connector in sorted(places)
    ]


def tariff_ids_of(text: str) -> list[str]:
    """Tariff ids as typed: separated by commas or spaces, in order."""
    return [part for part in _SEPARATORS.split(text.strip()) if part]


@router.post("/chargers/{charger_id}/tariffs", dependencies=[require(Role.OPERATOR)])
async def set_tariffs(
    request: Request, charger_id: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    form = await read_form(request)
    try:
        evse_id, connector_id = int(form.get("evse_id")), int(form.get("connector_id"))
    except ValueError:
        raise DomainError(ErrorKind.INVALID, "The EVSE and connector are numbers.") from None
    platform = dashboard.platform
    problem: str | None = None
    try:
        async with platform.db.begin() as conn:
            await tariff_service.assign(
                conn,
                charger_id,
                evse_id,
                connector_id,
                tariff_ids_of(form.get("tariff_ids")),
                platform.clock.now(),
            )
    except DomainError as refused:
        if refused.kind is not ErrorKind.INVALID or not is_htmx(request):
            raise
        problem = refused.message
    if not is_htmx(request):
        return RedirectResponse(f"/chargers/{quote(charger_id, safe='')}#tariffs", 303)
    async with platform.db.connect() as conn:
        state = (await charger_listing.live_states(conn, [charger_id]))[charger_id]
        rows = await tariff_rows(conn, charger_id, state.connectors)
    return fragment(
        request,
        "charger/_tariffs.html",
        status=422 if problem else 200,
        charger_id=charger_id,
        tariff_rows=rows,
        tariff_problem=problem,
        tariff_saved=None if problem else (evse_id, connector_id),
    )
