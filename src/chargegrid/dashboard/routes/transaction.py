"""/transactions/{id}: one transaction, its power and energy charts, its events, the
commands that touched it and its cost; while it is active, its figures update live."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.dashboard import live
from chargegrid.dashboard.access import DashboardDep, SessionDep
from chargegrid.dashboard.meter_chart import MeterCharts, charts
from chargegrid.dashboard.pages import DashboardRoute, page
from chargegrid.dashboard.templating import render
from chargegrid.dashboard.transaction_cost import TransactionCost, transaction_cost
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Transaction, TransactionStatus
from chargegrid.storage.repositories import commands as command_repo
from chargegrid.storage.repositories import meter_series
from chargegrid.storage.repositories import transactions as transaction_repo

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

EVENTS = 200  # events shown in the timeline (a long 2.0.1 session has one per update)
COMMANDS = 20


async def _transaction(conn: AsyncConnection, pk: int) -> Transaction:
    transaction = await transaction_repo.get(conn, pk)
    if transaction is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"There is no transaction {pk}.")
    return transaction


def energy_of(transaction: Transaction, meter: MeterCharts) -> float | None:
    """The final energy once ended, else what the readings so far add up to."""
    if transaction.status is TransactionStatus.COMPLETED and transaction.energy_wh is not None:
        return transaction.energy_wh
    return meter.energy_wh


def live_parts(
    transaction: Transaction, energy_wh: float | None, cost: TransactionCost, now: datetime
) -> dict[str, str]:
    """The page's parts that change while the transaction runs, as out-of-band fragments."""
    values: dict[str, Any] = {
        "transaction": transaction,
        "energy_wh": energy_wh,
        "cost": cost,
        "now": now,
        "oob": True,
    }
    return {
        "summary": render("transaction/_summary.html", **values),
        "cost": render("transaction/transaction_cost.html", **values),
    }


@router.get("/transactions/{transaction_pk}")
async def transaction_page(
    request: Request, transaction_pk: int, session: SessionDep, dashboard: DashboardDep
) -> Response:
    now = dashboard.platform.clock.now()
    async with dashboard.platform.db.connect() as conn:
        transaction = await _transaction(conn, transaction_pk)
        samples = await meter_series.chart_samples(conn, transaction_pk)
        meter = charts(samples, meter_start_wh=transaction.meter_start_wh)
        energy_wh = energy_of(transaction, meter)
        events = await transaction_repo.events_page(conn, transaction_pk, limit=EVENTS, offset=0)
        touched = await command_repo.list_page(
            conn, limit=COMMANDS, offset=0, transaction_pk=transaction_pk
        )
        cost = await transaction_cost(conn, transaction, now=now)
    live_url = None
    if transaction.status is TransactionStatus.ACTIVE:
        known = {"after": meter.last_id, "base": meter.base_wh, "last": meter.last_wh}
        given = {key: value for key, value in known.items() if value is not None}
        live_url = f"/live/transactions/{transaction_pk}?" + urlencode(given)
    return page(
        request,
        "transaction/page.html",
        section="/transactions",
        transaction=transaction,
        energy_wh=energy_wh,
        energy_chart=meter.energy.chart("Energy", "kWh"),
        power_chart=meter.power.chart("Power", "kW"),
        events=events,
        commands=touched.items,
        commands_total=touched.total,
        cost=cost,
        live_url=live_url,
        oob=False,
    )


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


@router.get("/live/transactions/{transaction_pk}")
async def transaction_stream(
    request: Request, transaction_pk: int, session: SessionDep, dashboard: DashboardDep
) -> Response:
    """The transaction's status, energy and cost when they change, and its new readings."""
    params = request.query_params
    after = int(params["after"]) if params.get("after", "").isdigit() else 0
    base, last_wh = _number(params.get("base")), _number(params.get("last"))
    changes = live.Changes()

    async def tick(conn: AsyncConnection) -> dict[str, str]:
        nonlocal after, base, last_wh
        now = dashboard.platform.clock.now()
        transaction = await _transaction(conn, transaction_pk)
        fresh = await meter_series.chart_samples(conn, transaction_pk, after_id=after)
        appended = ""
        if fresh:
            meter = charts(fresh, meter_start_wh=transaction.meter_start_wh, base_wh=base)
            after, base = meter.last_id, meter.base_wh
            last_wh = meter.last_wh if meter.last_wh is not None else last_wh
            appended = render(
                "transaction/_append.html",
                energy_chart=meter.energy.chart("Energy", "kWh"),
                power_chart=meter.power.chart("Power", "kW"),
            )
        so_far = None if base is None or last_wh is None else max(0.0, last_wh - base)
        energy_wh = (
            transaction.energy_wh
            if transaction.status is TransactionStatus.COMPLETED
            and transaction.energy_wh is not None
            else so_far
        )
        cost = await transaction_cost(conn, transaction, now=now)
        changed = changes.of(live_parts(transaction, energy_wh, cost, now))
        return {live.UPDATE: "\n".join(part for part in (changed, appended) if part)}

    return live.stream(request, dashboard, tick)
