"""/chargers/{id}: one charger, its EVSEs live, its settings, security and message log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.dashboard import live
from chargegrid.dashboard.access import DashboardDep, SessionDep
from chargegrid.dashboard.command_forms import forms_for
from chargegrid.dashboard.pages import DashboardRoute, fragment, page
from chargegrid.dashboard.routes.charger_tariffs import tariff_rows
from chargegrid.dashboard.templating import render
from chargegrid.domain.model import Direction, TransactionStatus
from chargegrid.domain.services import chargers, configuration, local_lists, locations
from chargegrid.storage.repositories import charger_listing, charger_security, message_log
from chargegrid.storage.repositories import commands as command_repo
from chargegrid.storage.repositories import device_model as device_model_repo
from chargegrid.storage.repositories import transactions as transaction_repo
from chargegrid.storage.repositories.message_log import LoggedMessage, MessageFilter

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

LOG_ROWS = 50
LIVE_LOG_ROWS = 50
VARIABLES_PER_PAGE = 100
CONFIGURATION_KEYS = 500
RECENT_COMMANDS = 10


def message_filter(params: dict[str, str]) -> MessageFilter:
    direction = params.get("direction", "")
    return MessageFilter(
        direction=Direction(direction) if direction in ("in", "out") else None,
        action=params.get("action", "").strip()[:64] or None,
    )


def _cursor(text: str | None) -> tuple[datetime, int] | None:
    """An 'older than' cursor, ``<ISO time>~<row id>``."""
    at, _, row_id = (text or "").partition("~")
    try:
        return datetime.fromisoformat(at), int(row_id)
    except ValueError:
        return None


def cursor_of(message: LoggedMessage) -> str:
    return f"{message.record.received_at.isoformat()}~{message.id}"


def log_query(filter: MessageFilter, **more: str) -> str:
    values = {
        "direction": filter.direction.value if filter.direction else "",
        "action": filter.action or "",
        **more,
    }
    return urlencode({k: v for k, v in values.items() if v})


async def _messages(
    conn: AsyncConnection, charger_id: str, filter: MessageFilter, before: str | None
) -> dict[str, Any]:
    cursor = _cursor(before)
    rows = await message_log.newest(conn, charger_id, filter, limit=LOG_ROWS, before=cursor)
    newest = rows[0].record.received_at if rows else None
    return {
        "messages": rows,
        "older_view": cursor is not None,
        "log_filter": filter,
        "older": cursor_of(rows[-1]) if len(rows) == LOG_ROWS else None,
        "log_query": log_query(filter),
        "live_since": newest.isoformat() if newest else "",
        "seen": [
            row.id
            for row in rows
            if newest and row.record.received_at >= newest - message_log.LATE_COMMIT_MARGIN
        ],
    }


@router.get("/chargers/{charger_id}")
async def charger_page(
    request: Request, charger_id: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    params = dict(request.query_params)
    async with dashboard.platform.db.connect() as conn:
        charger = await chargers.get(conn, charger_id)
        location = await locations.get(conn, charger.location_id) if charger.location_id else None
        state = (await charger_listing.live_states(conn, [charger_id]))[charger_id]
        if charger.ocpp_version == "1.6":
            keys = await configuration.list_keys(
                conn, charger_id, limit=CONFIGURATION_KEYS, offset=0
            )
            variables = None
        else:
            keys = None
            variables = await device_model_repo.list_page(
                conn, charger_id, limit=VARIABLES_PER_PAGE, offset=0
            )
        context = {
            "charger": charger,
            "location": location,
            "live": state,
            "keys": keys,
            "variables": variables,
            "local_list": await local_lists.get(conn, charger_id),
            "certificates": await charger_security.certificates_of(conn, charger_id),
            "signing_requests": await charger_security.signing_requests_of(conn, charger_id),
            "security_events": await charger_security.security_events_of(conn, charger_id),
            "commands": (
                await command_repo.list_page(
                    conn, limit=RECENT_COMMANDS, offset=0, charger_id=charger_id
                )
            ).items,
            "active": (
                await transaction_repo.list_page(
                    conn,
                    limit=10,
                    offset=0,
                    charger_id=charger_id,
                    status=TransactionStatus.ACTIVE.value,
                )
            ).items,
            "actions": await message_log.actions(conn, charger_id),
            "charger_id": charger_id,
            "tariff_rows": await tariff_rows(conn, charger_id, state.connectors),
            "tariff_problem": None,
            "tariff_saved": None,
            **await _messages(conn, charger_id, message_filter(params), params.get("before")),
        }
    version = charger.ocpp_version
    catalog = dashboard.platform.catalog
    return page(
        request,
        "charger/page.html",
        section="/chargers",
        forms=forms_for(None if version is None else catalog.names(version)),
        oob=False,
        **context,
    )


@router.get("/chargers/{charger_id}/messages")
async def message_log_part(
    request: Request, charger_id: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    """The message log with other filters, or older rows (htmx swaps it in)."""
    params = dict(request.query_params)
    async with dashboard.platform.db.connect() as conn:
        charger = await chargers.get(conn, charger_id)
        context = {
            "charger": charger,
            "actions": await message_log.actions(conn, charger_id),
            **await _messages(conn, charger_id, message_filter(params), params.get("before")),
        }
    return fragment(request, "charger/_log.html", **context)


@router.get("/live/chargers/{charger_id}")
async def charger_stream(
    request: Request, charger_id: str, session: SessionDep, dashboard: DashboardDep
) -> Response:
    """The charger's state and EVSEs when they change, and its new messages."""
    params = dict(request.query_params)
    filter = message_filter(params)
    after = _cursor(f"{params.get('since', '')}~0")
    since = after[0] if after else dashboard.platform.clock.now()
    seen: dict[int, datetime] = {
        int(i): since for i in request.query_params.getlist("seen")[:200] if i.isdigit()
    }
    changes = live.Changes()

    async def tick(conn: AsyncConnection) -> dict[str, str]:
        nonlocal since
        now = dashboard.platform.clock.now()
        states = await charger_listing.live_states(conn, [charger_id])
        parts = changes.of(
            {
                name: render(f"charger/_{name}.html", live=state, now=now, oob=True)
                for state in states.values()
                for name in ("state", "evses")
            }
        )
        fresh = await message_log.since(
            conn, charger_id, filter, after=since, seen=seen.keys(), limit=LIVE_LOG_ROWS
        )
        if fresh:
            since = max(since, fresh[-1].record.received_at)
            seen.update((row.id, row.record.received_at) for row in fresh)
            horizon = since - message_log.LATE_COMMIT_MARGIN
            for row_id in [i for i, at in seen.items() if at < horizon]:
                del seen[row_id]
            rows = render("charger/_new_messages.html", messages=fresh[::-1], now=now)
            return {live.UPDATE: parts, live.ROWS: rows}
        return {live.UPDATE: parts}

    return live.stream(request, dashboard, tick)
