"""/api/v1/tariffs, and the tariffs of chargers and connectors.

Tariffs go in and come out as OCPI 2.2.1 Tariff objects. The body is read as it was
sent, so prices keep every digit; ``country_code`` and ``party_id`` default to the
platform's, and ``last_updated`` is set by the platform.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from chargegrid.api.deps import PagingDep, PlatformDep, ReadConn, WriteConn, require
from chargegrid.api.ocpi_schemas import json_content, page_of, ref
from chargegrid.api.schemas_billing import TariffAssignmentIn, TariffAssignmentOut
from chargegrid.domain.services import tariffs
from chargegrid.domain.services.access import Role
from chargegrid.domain.services.tariffs import CHARGER_DEFAULT
from chargegrid.tariffs import Tariff, encode_json, tariff_json

router = APIRouter(tags=["tariffs"])

EvseId = Annotated[int, Path(ge=1, description="EVSE id (OCPP 1.6: the connector id).")]
ConnectorId = Annotated[int, Path(ge=1, description="Connector id on the EVSE (1.6: 1).")]

_TARIFF_BODY = {
    "requestBody": {
        "required": True,
        **json_content(
            ref("Tariff"),
            "An OCPI 2.2.1 Tariff; country_code and party_id may be left out (the platform's).",
        ),
    }
}
_TARIFF: dict[int | str, dict[str, Any]] = {
    200: json_content(ref("Tariff"), "The tariff (OCPI 2.2.1).")
}


def _json(body: bytes, status_code: int = 200) -> Response:
    return Response(body, status_code=status_code, media_type="application/json")


def _tariff(tariff: Tariff, status_code: int = 200) -> Response:
    return _json(tariff_json(tariff), status_code)


@router.post(
    "/tariffs",
    status_code=201,
    dependencies=[require(Role.OPERATOR)],
    responses={201: json_content(ref("Tariff"), "The tariff as stored.")},
    openapi_extra=_TARIFF_BODY,
)
async def create_tariff(request: Request, conn: WriteConn, platform: PlatformDep) -> Response:
    """Store a tariff; 422 names the field at fault, 409 when its id is taken."""
    terms = platform.settings.billing_terms()
    tariff = await tariffs.create(conn, await request.body(), terms, platform.clock.now())
    return _tariff(tariff, 201)


@router.get(
    "/tariffs",
    dependencies=[require(Role.VIEWER)],
    responses={200: json_content(page_of("Tariff"), "Tariffs by id.")},
)
async def list_tariffs(conn: ReadConn, paging: PagingDep) -> Response:
    page = await tariffs.list_page(conn, limit=paging.limit, offset=paging.offset)
    return _json(
        encode_json(
            {
                "items": list(page.items),
                "total": page.total,
                "limit": page.limit,
                "offset": page.offset,
            }
        )
    )


@router.get("/tariffs/{tariff_id}", dependencies=[require(Role.VIEWER)], responses=_TARIFF)
async def get_tariff(tariff_id: str, conn: ReadConn) -> Response:
    return _tariff(await tariffs.get(conn, tariff_id))


@router.put(
    "/tariffs/{tariff_id}",
    dependencies=[require(Role.OPERATOR)],
    responses=_TARIFF,
    openapi_extra=_TARIFF_BODY,
)
async def replace_tariff(
    tariff_id: str, request: Request, conn: WriteConn, platform: PlatformDep
) -> Response:
    """Replace a tariff. Transactions that started with it keep the copy they have."""
    terms = platform.settings.billing_terms()
    body = await request.body()
    return _tariff(await tariffs.replace_tariff(conn, tariff_id, body, terms, platform.clock.now()))


@router.delete("/tariffs/{tariff_id}", status_code=204, dependencies=[require(Role.OPERATOR)])
async def delete_tariff(tariff_id: str, conn: WriteConn) -> None:
    """Delete a tariff; 409 while a charger or connector has it."""
    await tariffs.delete(conn, tariff_id)


@router.get("/chargers/{charger_id}/tariffs", dependencies=[require(Role.VIEWER)])
async def get_charger_tariffs(charger_id: str, conn: ReadConn) -> TariffAssignmentOut:
    """The charger's default tariffs, for its connectors without tariffs of their own."""
    found = await tariffs.assigned(conn, charger_id, CHARGER_DEFAULT, CHARGER_DEFAULT)
    return TariffAssignmentOut(
        charger_id=charger_id, evse_id=None, connector_id=None, tariff_ids=found
    )


@router.put("/chargers/{charger_id}/tariffs", dependencies=[require(Role.OPERATOR)])
async def set_charger_tariffs(
    charger_id: str, body: TariffAssignmentIn, conn: WriteConn, platform: PlatformDep
) -> TariffAssignmentOut:
    """Set the charger's default tariffs (used when a connector's own are none, or none of
    them is in force when a transaction starts)."""
    found = await tariffs.assign(
        conn,
        charger_id,
        CHARGER_DEFAULT,
        CHARGER_DEFAULT,
        body.tariff_ids,
        platform.clock.now(),
    )
    return TariffAssignmentOut(
        charger_id=charger_id, evse_id=None, connector_id=None, tariff_ids=found
    )


@router.get(
    "/chargers/{charger_id}/evses/{evse_id}/connectors/{connector_id}/tariffs",
    dependencies=[require(Role.VIEWER)],
)
async def get_connector_tariffs(
    charger_id: str, evse_id: EvseId, connector_id: ConnectorId, conn: ReadConn
) -> TariffAssignmentOut:
    """The connector's own tariffs (OCPI tariff_ids); OCPP 1.6 connector n is EVSE n,
    connector 1."""
    found = await tariffs.assigned(conn, charger_id, evse_id, connector_id)
    return TariffAssignmentOut(
        charger_id=charger_id, evse_id=evse_id, connector_id=connector_id, tariff_ids=found
    )


@router.put(
    "/chargers/{charger_id}/evses/{evse_id}/connectors/{connector_id}/tariffs",
    dependencies=[require(Role.OPERATOR)],
)
async def set_connector_tariffs(
    charger_id: str,
    evse_id: EvseId,
    connector_id: ConnectorId,
    body: TariffAssignmentIn,
    conn: WriteConn,
    platform: PlatformDep,
) -> TariffAssignmentOut:
    """Set the connector's tariffs, in order of preference: a transaction gets the first
    one in force when it starts (of type REGULAR or none, if any is)."""
    found = await tariffs.assign(
        conn, charger_id, evse_id, connector_id, body.tariff_ids, platform.clock.now()
    )
    return TariffAssignmentOut(
        charger_id=charger_id, evse_id=evse_id, connector_id=connector_id, tariff_ids=found
    )
