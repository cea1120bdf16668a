"""Helpers for tests of tariffs and CDRs: a charger at a location, tariffs through the API,
and the expected price of a session from the engine itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from chargegrid.domain.model import Location
from chargegrid.domain.services import locations
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import chargers as charger_repo
from chargegrid.tariffs import (
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    PricedSession,
    SessionTimeline,
    parse_tariff,
    price_session,
)
from tests.integration.harness import ServerProcess

D = CdrDimensionType
AMSTERDAM = Location(
    id="LOC-AMS",
    name="Stationsplein",
    time_zone="Europe/Amsterdam",
    address="Stationsplein 1",
    city="Amsterdam",
    postal_code="1012 AB",
    country="NLD",
    latitude=52.378901,
    longitude=4.900272,
)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def place(server: ServerProcess, charger_id: str, location: Location = AMSTERDAM) -> None:
    """Put a registered charger at ``location`` (created when new)."""
    db = Database(server.database_url)
    try:
        async with db.begin() as conn:
            if await locations.get(conn, location.id) is None:
                await locations.create(conn, location, datetime.now(UTC))
            await charger_repo.update_fields(conn, charger_id, location_id=location.id)
    finally:
        await db.dispose()


async def add_tariff(api: Any, tariff: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/tariffs", json=tariff)
    assert response.status_code == 201, response.text
    stored: dict[str, Any] = response.json()
    return stored


async def assign(api: Any, charger_id: str, evse_id: int, *tariff_ids: str) -> None:
    response = await api.put(
        f"/chargers/{charger_id}/evses/{evse_id}/connectors/1/tariffs",
        json={"tariff_ids": list(tariff_ids)},
    )
    assert response.status_code == 200, response.text


def period(
    at: datetime, *, energy: str = "0", time: str = "0", parking: str = "0"
) -> ChargingPeriod:
    """A charging period with its energy (kWh) and its charging or parking hours."""
    dimensions = [CdrDimension(type=D.ENERGY, volume=Decimal(energy))]
    if Decimal(parking):
        dimensions.append(CdrDimension(type=D.PARKING_TIME, volume=Decimal(parking)))
    else:
        dimensions.append(CdrDimension(type=D.TIME, volume=Decimal(time)))
    return ChargingPeriod(start_date_time=at, dimensions=tuple(dimensions))


def engine_price(
    tariff: dict[str, Any],
    time_zone: str,
    start: datetime,
    end: datetime,
    periods: Sequence[ChargingPeriod],
) -> PricedSession:
    """What the tariff engine makes of the session the test drove."""
    timeline = SessionTimeline(
        start_date_time=start, end_date_time=end, charging_periods=tuple(periods)
    )
    return price_session(parse_tariff(tariff), time_zone, timeline)


TOTALS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy",
    "total_energy_cost",
    "total_time",
    "total_time_cost",
    "total_parking_time",
    "total_parking_cost",
    "total_reservation_cost",
)


def totals(priced: PricedSession) -> dict[str, Any]:
    """The engine's totals as a CDR of the API shows them (JSON numbers)."""
    found: dict[str, Any] = {}
    for name in TOTALS:
        value = getattr(priced, name)
        if value is None:
            continue
        if isinstance(value, Decimal):
            found[name] = float(value)
        else:
            found[name] = {
                key: float(amount)
                for key, amount in (("excl_vat", value.excl_vat), ("incl_vat", value.incl_vat))
                if amount is not None
            }
    return found


def cdr_totals(cdr: dict[str, Any]) -> dict[str, Any]:
    return {name: cdr[name] for name in TOTALS if name in cdr}


def amounts(periods: Sequence[Any]) -> list[tuple[str, dict[str, float]]]:
    """(start, {ENERGY, TIME, PARKING_TIME volumes}) of charging periods, API or engine."""
    found = []
    for item in periods:
        if isinstance(item, ChargingPeriod):
            start = iso(item.start_date_time)
            dimensions = {d.type.value: float(d.volume) for d in item.dimensions}
        else:
            start = item["start_date_time"]
            dimensions = {d["type"]: float(d["volume"]) for d in item["dimensions"]}
        kept = {k: v for k, v in dimensions.items() if k in ("ENERGY", "TIME", "PARKING_TIME")}
        found.append((start, kept))
    return found


async def cdrs_of(api: Any, charger_id: str) -> list[dict[str, Any]]:
    response = await api.get("/cdrs", params={"charger_id": charger_id})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def wait_for_cdrs(
    api: Any, charger_id: str, count: int, within: float = 15
) -> list[dict[str, Any]]:
    """The charger's CDRs once there are ``count`` (newest first)."""
    deadline = time.monotonic() + within
    while True:
        found = await cdrs_of(api, charger_id)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


MINUTE = timedelta(minutes=1)
