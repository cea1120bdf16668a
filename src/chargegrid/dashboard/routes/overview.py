"""/ : the whole network at a glance, with its live part streamed from /live/overview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.dashboard import live
from chargegrid.dashboard.access import DashboardDep, SessionDep
from chargegrid.dashboard.pages import DashboardRoute, page
from chargegrid.dashboard.templating import render
from chargegrid.storage.repositories import network
from chargegrid.storage.repositories.network import Alert, ChargerCounts, Revenue
from chargegrid.values import immutable

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

CHART_DAYS = 30
STATUS_ORDER = (
    "Available",
    "Preparing",
    "Charging",
    "Occupied",
    "SuspendedEV",
    "SuspendedEVSE",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
)


@immutable
class NetworkNow:
    """The overview's live part."""

    counts: ChargerCounts
    statuses: list[tuple[str, int]]
    connectors: int
    active_sessions: int
    energy_today_wh: float
    revenue_today: list[tuple[str, Decimal]]  # by currency, the operator's first
    alerts: list[Alert]


def day_starts(now: datetime, days: int) -> list[datetime]:
    """Midnights (UTC) of the last ``days`` days, today included, and tomorrow's."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=days - 1 - n) for n in range(days + 1)]


def by_currency(days: list[Revenue], currency: str) -> list[tuple[str, Decimal]]:
    """The total of ``days`` per currency: ``currency`` (the operator's) first, even when
    nothing was billed in it, then the others by amount."""
    totals: dict[str, Decimal] = {currency: Decimal(0)}
    for day in days:
        for code, amount in day.items():
            totals[code] = totals.get(code, Decimal(0)) + amount
    first = [(currency, totals.pop(currency))]
    return first + sorted(totals.items(), key=lambda item: (-item[1], item[0]))


async def network_now(conn: AsyncConnection, now: datetime, currency: str) -> NetworkNow:
    by_status = await network.connectors_by_status(conn)
    ordered = [(s, by_status[s]) for s in STATUS_ORDER if s in by_status]
    ordered += sorted((s, n) for s, n in by_status.items() if s not in STATUS_ORDER)
    today = day_starts(now, 1)
    (energy_today,) = await network.energy_by_day(conn, today)
    return NetworkNow(
        counts=await network.charger_counts(conn),
        statuses=ordered,
        connectors=sum(by_status.values()),
        active_sessions=await network.active_transactions(conn),
        energy_today_wh=energy_today,
        revenue_today=by_currency(await network.revenue_by_day(conn, today), currency),
        alerts=await network.recent_alerts(conn),
    )


def revenue_charts(
    starts: list[datetime], days: list[Revenue], totals: list[tuple[str, Decimal]]
) -> list[dict[str, Any]]:
    """One bar chart per currency billed in (the operator's even when nothing was)."""
    return [
        {
            "x": [int(start.timestamp()) for start in starts[:-1]],
            "y": [float(day.get(currency, Decimal(0))) for day in days],
            "label": "Revenue",
            "unit": currency,
            "bars": True,
            "currency": currency,
            "total": total,
        }
        for currency, total in totals
    ]


def live_fragments(state: NetworkNow, context: dict[str, Any]) -> dict[str, str]:
    """The overview's live parts as out-of-band fragments, by element."""
    values = {**context, "live": state, "oob": True}
    return {
        name: render(f"overview/_{name}.html", **values) for name in ("stats", "statuses", "alerts")
    }


@router.get("/")
async def overview(request: Request, session: SessionDep, dashboard: DashboardDep) -> Response:
    platform = dashboard.platform
    now = platform.clock.now()
    currency = platform.settings.billing_terms().currency
    starts = day_starts(now, CHART_DAYS)
    async with platform.db.connect() as conn:
        state = await network_now(conn, now, currency)
        energy = await dashboard.energy.per_day(conn, starts)
        revenue = await dashboard.revenue.per_day(conn, starts)
        places = await network.mapped_locations(conn)
    revenue_totals = by_currency(revenue, currency)
    chart = {
        "x": [int(start.timestamp()) for start in starts[:-1]],
        "y": [round(wh / 1000, 3) for wh in energy],
        "label": "Energy",
        "unit": "kWh",
        "bars": True,
    }
    markers = [
        {
            "id": p.id,
            "name": p.name,
            "lat": p.latitude,
            "lon": p.longitude,
            "chargers": p.chargers,
            "online": p.online,
        }
        for p in places
    ]
    return page(
        request,
        "overview/page.html",
        section="/",
        live=state,
        oob=False,
        chart=chart,
        days=list(zip(starts, energy, strict=False)),
        energy_30_days_wh=sum(energy),
        revenue_charts=revenue_charts(starts, revenue, revenue_totals),
        revenue_days=list(zip(starts, revenue, strict=False)),
        places=places,
        markers=markers,
    )


@router.get("/live/overview")
async def overview_stream(
    request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    context: dict[str, Any] = {}
    changes = live.Changes()
    currency = dashboard.platform.settings.billing_terms().currency

    async def tick(conn: AsyncConnection) -> dict[str, str]:
        now = dashboard.platform.clock.now()
        context["now"] = now
        state = await network_now(conn, now, currency)
        return {live.UPDATE: changes.of(live_fragments(state, context))}

    return live.stream(request, dashboard, tick)
