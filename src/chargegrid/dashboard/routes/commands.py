"""Sending commands from the dashboard, and following them until the charger answers.

Commands go through the same service as the API's (checked, queued, recorded with who
asked); the result fragment polls its command until it has come to an end.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from chargegrid.dashboard.access import DashboardDep, Refused, SessionDep, require
from chargegrid.dashboard.command_forms import FORMS, FormProblem, params_of
from chargegrid.dashboard.pages import DashboardRoute, fragment, is_htmx
from chargegrid.domain.services import commands
from chargegrid.domain.services.access import Role
from chargegrid.domain.services.command_requests import request_command

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

# Seconds a request waits for the charger's answer before the page polls for it.
ANSWER_WAIT = 2.0


@router.post("/chargers/{charger_id}/commands/{name}", dependencies=[require(Role.OPERATOR)])
async def send_command(
    request: Request, charger_id: str, name: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    if name not in FORMS:
        raise Refused(404, f"There is no command {name!r}.")
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        params = params_of(name, values)
    except FormProblem as problem:
        return fragment(
            request, "commands/_problem.html", status=422, name=name, problems=problem.problems
        )
    command = await request_command(
        dashboard.platform,
        charger_id=charger_id,
        name=name,
        params=params,
        requested_by=session.user.principal,
        wait=ANSWER_WAIT,
    )
    if not is_htmx(request):
        return RedirectResponse(f"/chargers/{charger_id}#commands", status_code=303)
    return fragment(request, "commands/_result.html", command=command)


@router.get("/commands/{command_id}")
async def command_result(
    request: Request, command_id: int, session: SessionDep, dashboard: DashboardDep
) -> Response:
    async with dashboard.platform.db.connect() as conn:
        command = await commands.get(conn, command_id)
    return fragment(request, "commands/_result.html", command=command)
