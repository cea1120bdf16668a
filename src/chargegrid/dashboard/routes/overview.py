"""/ : the whole network at a glance, with its live part streamed from /live/overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.dashboard import live
from chargegrid.dashboard.access import DashboardDep, SessionDep
from chargegrid.dashboard.pages import DashboardRoute, page
from chargegrid.dashboard.templating import render
from chargegrid.storage.repositories import network
from chargegrid.storage.repositories.network import Alert, ChargerCounts

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


@dataclass(frozen=True, slots=True)
class NetworkNow:
    """The overview's live part."""

    counts: ChargerCounts
    statuses: list[tuple[str, int]]
    connectors: int
    active_sessions: int
    energy_today_wh: float
    alerts: list[Alert]


def day_starts(now: datetime, days: int) -> list[datetime]:
    """Midnights (UTC) of the last ``days`` days, today included, and tomorrow's."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=days - 1 - n) for n in range(days + 1)]


async def network_now(conn: AsyncConnection, now: datetime) -> NetworkNow:
    by_status = await network.connectors_by_status(conn)
    ordered = [(s, by_status[s]) for s in STATUS_ORDER if s in by_status]
    ordered += sorted((s, n) for s, n in by_status.items() if s not in STATUS_ORDER)
    (energy_today,) = await network.energy_by_day(conn, day_starts(now, 1))
    return NetworkNow(
        counts=await network.charger_counts(conn),
        statuses=ordered,
        connectors=sum(by_status.values()),
        active_sessions=await network.active_transactions(conn),
        energy_today_wh=energy_today,
        alerts=await network.recent_alerts(conn),
    )


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
    starts = day_starts(now, CHART_DAYS)
    async with platform.db.connect() as conn:
        state = await network_now(conn, now)
        energy = await dashboard.energy.per_day(conn, starts)
        places = await network.mapped_locations(conn)
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
        places=places,
        markers=markers,
    )


@router.get("/live/overview")
async def overview_stream(
    request: Request, session: SessionDep, dashboard: DashboardDep
) -> Response:
    context: dict[str, Any] = {}
    changes = live.Changes()

    async def tick(conn: AsyncConnection) -> dict[str, str]:
        now = dashboard.platform.clock.now()
        context["now"] = now
        return {live.UPDATE: changes.of(live_fragments(await network_now(conn, now), context))}

    return live.stream(request, dashboard, tick)
