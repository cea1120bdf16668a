"""/api/v1/cdrs: Charge Detail Records as OCPI 2.2.1 CDR objects, their CSV export, and
corrections (a credit CDR, then a new CDR)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from chargegrid.api.deps import PagingDep, PlatformDep, ReadConn, WriteConn, require
from chargegrid.api.ocpi_schemas import json_content, page_of, ref
from chargegrid.api.schemas_billing import CreditIn
from chargegrid.domain.services import cdrs
from chargegrid.domain.services.access import Role
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import cdrs as repo
from chargegrid.storage.repositories.cdrs import CdrFilter, CdrRecord

router = APIRouter(prefix="/cdrs", tags=["cdrs"])

CSV_COLUMNS = (
    "cdr_id",
    "credit",
    "credit_reference_id",
    "session_id",
    "charger_id",
    "evse_id",
    "connector_id",
    "id_token",
    "start_date_time",
    "end_date_time",
    "currency",
    "total_cost_excl_vat",
    "total_cost_incl_vat",
    "total_energy_kwh",
    "total_time_h",
    "total_parking_time_h",
    "tariff_id",
    "created_at",
)


def cdr_filter(
    charger_id: Annotated[str | None, Query(description="Only this charger's.")] = None,
    id_token: Annotated[str | None, Query(description="Only this token's.")] = None,
    since: Annotated[
        AwareDatetime | None,
        Query(description="Made (OCPI last_updated) from this time on (inclusive, with offset)."),
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Made before this time (with offset).")
    ] = None,
) -> CdrFilter:
    return CdrFilter(charger_id=charger_id, id_token=id_token, since=since, until=until)


Filter = Annotated[CdrFilter, Depends(cdr_filter)]
_CDR: dict[int | str, dict[str, Any]] = {200: json_content(ref("Cdr"), "The CDR (OCPI 2.2.1).")}
_CORRECTION = {
    "type": "object",
    "title": "OcpiCdrCorrection",
    "required": ["credit", "replacement"],
    "properties": {
        "credit": ref("Cdr"),
        "replacement": {"anyOf": [ref("Cdr"), {"type": "null"}]},
    },
}


def _json(body: bytes, status_code: int = 200) -> Response:
    return Response(body, status_code=status_code, media_type="application/json")


@router.get(
    "",
    dependencies=[require(Role.VIEWER)],
    responses={200: json_content(page_of("Cdr"), "CDRs, newest first.")},
)
async def list_cdrs(conn: ReadConn, paging: PagingDep, where: Filter) -> Response:
    """CDRs (credit CDRs included), newest first."""
    page = await repo.list_page(conn, where, limit=paging.limit, offset=paging.offset)
    items = b",".join(record.document.encode() for record in page.items)
    return _json(
        b'{"items":[%b],"total":%d,"limit":%d,"offset":%d}'
        % (items, page.total, page.limit, page.offset)
    )


@router.get(
    ".csv",
    dependencies=[require(Role.VIEWER)],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One CDR per row, oldest first, after a header row; amounts in "
            "the CDR's currency, energy in kWh, times in hours.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def export_cdrs(platform: PlatformDep, where: Filter) -> StreamingResponse:
    """All CDRs the filters select, as CSV (streamed)."""
    return StreamingResponse(
        _csv(platform.db, where),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cdrs.csv"'},
    )


@router.get("/{cdr_id}", dependencies=[require(Role.VIEWER)], responses=_CDR)
async def get_cdr(cdr_id: str, conn: ReadConn) -> Response:
    return _json((await cdrs.get(conn, cdr_id)).document.encode())


@router.post(
    "/{cdr_id}/credit",
    status_code=201,
    dependencies=[require(Role.OPERATOR)],
    responses={201: json_content(_CORRECTION, "The credit CDR and the new CDR.")},
)
async def credit_cdr(
    cdr_id: str,
    conn: WriteConn,
    platform: PlatformDep,
    body: Annotated[CreditIn | None, Body()] = None,
) -> Response:
    """Correct a CDR: a credit CDR (the negated total cost), then a new CDR priced again
    (by default with the transaction's tariff and what its charger reported by now).
    409 when it was credited already, 422 for a credit CDR. The body may be left out."""
    body = body or CreditIn()
    correction = await cdrs.credit(
        conn,
        cdr_id,
        platform.clock.now(),
        platform.settings.billing_terms(),
        tariff_id=body.tariff_id,
        reissue=body.reissue,
        remark=body.remark,
    )
    replacement = correction.replacement
    return _json(
        b'{"credit":%b,"replacement":%b}'
        % (
            correction.credit.document.encode(),
            b"null" if replacement is None else replacement.document.encode(),
        ),
        201,
    )


async def _csv(db: Database, where: CdrFilter) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    async with db.connect() as conn:
        async for batch in repo.batches(conn, where):
            writer.writerows(_csv_row(record) for record in batch)
            yield flush()


def _csv_row(r: CdrRecord) -> list[Any]:
    return [
        r.cdr_id,
        "true" if r.credit else "false",
        r.credit_reference_id,
        r.session_id,
        r.charger_id,
        r.evse_id,
        r.connector_id,
        r.id_token,
        _time(r.start_date_time),
        _time(r.end_date_time),
        r.currency,
        _amount(r.total_cost_excl_vat),
        _amount(r.total_cost_incl_vat),
        _amount(r.total_energy),
        _amount(r.total_time),
        _amount(r.total_parking_time),
        r.tariff_id,
        _time(r.created_at),
    ]


def _time(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _amount(value: Any) -> str:
    return "" if value is None else f"{value:.4f}"
