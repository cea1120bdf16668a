"""What chargers report besides transactions: monitoring events and other reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.model import ChargerEvent, ChargerReport, ComponentRef, ReportKind
from chargegrid.storage.repositories.pages import Page, fetch_page
from chargegrid.storage.tables import charger_events, charger_reports


async def add_events(
    conn: AsyncConnection, charger_id: str, events: Sequence[ChargerEvent], received_at: datetime
) -> None:
    if not events:
        return
    await conn.execute(
        charger_events.insert(),
        [
            {
                "charger_id": charger_id,
                "event_id": event.event_id,
                "occurred_at": event.occurred_at,
                "trigger": event.trigger,
                "actual_value": event.actual_value,
                "component_name": event.component.name,
                "component_instance": event.component.instance,
                "evse_id": event.component.evse_id,
                "connector_id": event.component.connector_id,
                "variable_name": event.variable_name,
                "variable_instance": event.variable_instance,
                "notification_type": event.notification_type,
                "cause": event.cause,
                "tech_code": event.tech_code,
                "tech_info": event.tech_info,
                "cleared": event.cleared,
                "transaction_id": event.transaction_id,
                "variable_monitoring_id": event.variable_monitoring_id,
                "generated_at": event.generated_at,
                "seq_no": event.seq_no,
                "received_at": received_at,
            }
            for event in events
        ],
    )


async def add_report(
    conn: AsyncConnection, charger_id: str, report: ChargerReport, received_at: datetime
) -> None:
    await conn.execute(
        charger_reports.insert().values(
            charger_id=charger_id,
            kind=report.kind.value,
            request_id=report.request_id,
            seq_no=report.seq_no,
            tbc=report.tbc,
            evse_id=report.evse_id,
            status=report.status,
            payload=report.payload,
            generated_at=report.generated_at,
            received_at=received_at,
        )
    )


async def events_page(
    conn: AsyncConnection,
    charger_id: str,
    *,
    limit: int,
    offset: int,
    component: str | None = None,
    variable: str | None = None,
) -> Page[ChargerEvent]:
    query = select(charger_events).where(charger_events.c.charger_id == charger_id)
    if component is not None:
        query = query.where(charger_events.c.component_name == component)
    if variable is not None:
        query = query.where(charger_events.c.variable_name == variable)
    rows, total = await fetch_page(
        conn,
        query,
        order_by=[charger_events.c.occurred_at.desc(), charger_events.c.id.desc()],
        limit=limit,
        offset=offset,
    )
    return Page([_event(row) for row in rows], total, limit, offset)


async def reports_page(
    conn: AsyncConnection,
    charger_id: str,
    *,
    limit: int,
    offset: int,
    kind: ReportKind | None = None,
    request_id: int | None = None,
) -> Page[ChargerReport]:
    query = select(charger_reports).where(charger_reports.c.charger_id == charger_id)
    if kind is not None:
        query = query.where(charger_reports.c.kind == kind.value)
    if request_id is not None:
        query = query.where(charger_reports.c.request_id == request_id)
    rows, total = await fetch_page(
        conn,
        query,
        order_by=[charger_reports.c.received_at.desc(), charger_reports.c.id.desc()],
        limit=limit,
        offset=offset,
    )
    return Page([_report(row) for row in rows], total, limit, offset)


def _event(row: RowMapping) -> ChargerEvent:
    return ChargerEvent(
        event_id=row["event_id"],
        occurred_at=row["occurred_at"],
        trigger=row["trigger"],
        actual_value=row["actual_value"],
        component=ComponentRef(
            name=row["component_name"],
            instance=row["component_instance"],
            evse_id=row["evse_id"],
            connector_id=row["connector_id"],
        ),
        variable_name=row["variable_name"],
        variable_instance=row["variable_instance"],
        notification_type=row["notification_type"],
        cause=row["cause"],
        tech_code=row["tech_code"],
        tech_info=row["tech_info"],
        cleared=row["cleared"],
        transaction_id=row["transaction_id"],
        variable_monitoring_id=row["variable_monitoring_id"],
        generated_at=row["generated_at"],
        seq_no=row["seq_no"],
        received_at=row["received_at"],
    )


def _report(row: RowMapping) -> ChargerReport:
    return ChargerReport(
        kind=ReportKind(row["kind"]),
        payload=row["payload"],
        request_id=row["request_id"],
        seq_no=row["seq_no"],
        tbc=row["tbc"],
        evse_id=row["evse_id"],
        status=row["status"],
        generated_at=row["generated_at"],
        received_at=row["received_at"],
    )
