"""/api/v1/chargers"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from chargegrid.api.deps import PagingDep, PlatformDep, ReadConn, WriteConn, require
from chargegrid.api.schemas import (
    ChargerEventOut,
    ChargerIn,
    ChargerOut,
    ChargerReportOut,
    MessageOut,
    PageOut,
    StatusChangeOut,
    VariableOut,
    page_out,
)
from chargegrid.domain.model import Direction, RegistrationStatus, ReportKind
from chargegrid.domain.services import chargers
from chargegrid.domain.services.access import Role
from chargegrid.storage.repositories import chargers as charger_repo
from chargegrid.storage.repositories import device_model as device_model_repo
from chargegrid.storage.repositories import messages as message_repo
from chargegrid.storage.repositories import reports as report_repo

router = APIRouter(prefix="/chargers", tags=["chargers"])

Since = Annotated[
    AwareDatetime | None, Query(description="From this time on (inclusive, with offset).")
]
Until = Annotated[AwareDatetime | None, Query(description="Before this time (with offset).")]


@router.post("", status_code=201, dependencies=[require(Role.OPERATOR)])
async def register_charger(body: ChargerIn, conn: WriteConn, platform: PlatformDep) -> ChargerOut:
    """Register a charger so it may connect (HTTP Basic auth with this password)."""
    charger = await chargers.register(
        conn,
        charger_id=body.id,
        password=body.password,
        now=platform.clock.now(),
        security_profile=body.security_profile,
        registration_status=RegistrationStatus(body.registration_status),
    )
    return ChargerOut.of(charger, connected=platform.presence.is_connected(charger.id))


@router.get("", dependencies=[require(Role.VIEWER)])
async def list_chargers(
    conn: ReadConn,
    platform: PlatformDep,
    paging: PagingDep,
    ocpp_version: Annotated[str | None, Query(description="Only chargers of this version.")] = None,
) -> PageOut[ChargerOut]:
    page = await charger_repo.list_page(
        conn, limit=paging.limit, offset=paging.offset, ocpp_version=ocpp_version
    )
    return page_out(
        page, lambda c: ChargerOut.of(c, connected=platform.presence.is_connected(c.id))
    )


@router.get("/{charger_id}", dependencies=[require(Role.VIEWER)])
async def get_charger(charger_id: str, conn: ReadConn, platform: PlatformDep) -> ChargerOut:
    charger = await chargers.get(conn, charger_id)
    return ChargerOut.of(charger, connected=platform.presence.is_connected(charger_id))


@router.get("/{charger_id}/messages", dependencies=[require(Role.VIEWER)])
async def list_messages(
    charger_id: str,
    conn: ReadConn,
    paging: PagingDep,
    action: Annotated[str | None, Query(description="Only messages of this action.")] = None,
    direction: Annotated[
        Direction | None, Query(description="in: from the charger; out: to the charger.")
    ] = None,
    since: Since = None,
    until: Until = None,
) -> PageOut[MessageOut]:
    """The OCPP message log of a charger, newest first."""
    await chargers.get(conn, charger_id)
    page = await message_repo.list_page(
        conn,
        charger_id,
        limit=paging.limit,
        offset=paging.offset,
        action=action,
        direction=direction,
        since=since,
        until=until,
    )
    return page_out(page, MessageOut.of)


@router.get("/{charger_id}/status-history", dependencies=[require(Role.VIEWER)])
async def status_history(
    charger_id: str,
    conn: ReadConn,
    paging: PagingDep,
    evse_id: Annotated[int | None, Query(description="Only this EVSE (1.6: connector id).")] = None,
    since: Since = None,
    until: Until = None,
) -> PageOut[StatusChangeOut]:
    """Status changes of the charger, its EVSEs and connectors over time, newest first."""
    await chargers.get(conn, charger_id)
    page = await charger_repo.status_history(
        conn,
        charger_id,
        limit=paging.limit,
        offset=paging.offset,
        evse_id=evse_id,
        since=since,
        until=until,
    )
    return page_out(page, StatusChangeOut.of)


@router.get("/{charger_id}/variables", dependencies=[require(Role.VIEWER)])
async def list_variables(
    charger_id: str,
    conn: ReadConn,
    paging: PagingDep,
    component: Annotated[str | None, Query(description="Only this component (name).")] = None,
    variable: Annotated[str | None, Query(description="Only this variable (name).")] = None,
    evse_id: Annotated[int | None, Query(description="Only components of this EVSE.")] = None,
) -> PageOut[VariableOut]:
    """The charger's device model as it reported it: variables of its components."""
    await chargers.get(conn, charger_id)
    page = await device_model_repo.list_page(
        conn,
        charger_id,
        limit=paging.limit,
        offset=paging.offset,
        component=component,
        variable=variable,
        evse_id=evse_id,
    )
    return page_out(page, VariableOut.of)


@router.get("/{charger_id}/events", dependencies=[require(Role.VIEWER)])
async def list_events(
    charger_id: str,
    conn: ReadConn,
    paging: PagingDep,
    component: Annotated[str | None, Query(description="Only this component (name).")] = None,
    variable: Annotated[str | None, Query(description="Only this variable (name).")] = None,
) -> PageOut[ChargerEventOut]:
    """Events of the charger's monitored variables, newest first."""
    await chargers.get(conn, charger_id)
    page = await report_repo.events_page(
        conn,
        charger_id,
        limit=paging.limit,
        offset=paging.offset,
        component=component,
        variable=variable,
    )
    return page_out(page, ChargerEventOut.of)


@router.get("/{charger_id}/reports", dependencies=[require(Role.VIEWER)])
async def list_reports(
    charger_id: str,
    conn: ReadConn,
    paging: PagingDep,
    kind: Annotated[ReportKind | None, Query(description="Only reports of this kind.")] = None,
    request_id: Annotated[int | None, Query(description="Only answers to this request.")] = None,
) -> PageOut[ChargerReportOut]:
    """Other reports of the charger (charging limits, EV charging needs...), newest first."""
    await chargers.get(conn, charger_id)
    page = await report_repo.reports_page(
        conn,
        charger_id,
        limit=paging.limit,
        offset=paging.offset,
        kind=kind,
        request_id=request_id,
    )
    return page_out(page, ChargerReportOut.of)
