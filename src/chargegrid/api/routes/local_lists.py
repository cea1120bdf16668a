"""/api/v1/chargers/{id}/local-list"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from chargegrid.api.deps import ReadConn, require
from chargegrid.domain.services import local_lists
from chargegrid.domain.services.access import Role
from chargegrid.storage.repositories.local_lists import LocalList, LocalListEntry

router = APIRouter(tags=["local lists"])


class LocalListEntryOut(BaseModel):
    id_token: str
    type: str | None = Field(description="The token's type as listed (OCPP 2.0.1).")
    status: str = Field(description="Accepted, Blocked, Expired or Invalid.")
    expires_at: datetime | None
    group_id: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, entry: LocalListEntry) -> LocalListEntryOut:
        return cls(
            id_token=entry.id_token,
            type=entry.type,
            status=entry.status,
            expires_at=entry.expires_at,
            group_id=entry.group_id,
            updated_at=entry.updated_at,
        )


class LocalListOut(BaseModel):
    version: int | None = Field(
        description="The list version the charger last took or reported (0: empty list; "
        "-1: no local list support); null if never known."
    )
    updated_at: datetime | None
    entries: list[LocalListEntryOut] = Field(
        description="The tokens on the list, as the charger last confirmed them."
    )

    @classmethod
    def of(cls, local_list: LocalList) -> LocalListOut:
        return cls(
            version=local_list.version,
            updated_at=local_list.updated_at,
            entries=[LocalListEntryOut.of(entry) for entry in local_list.entries],
        )


@router.get("/chargers/{charger_id}/local-list", dependencies=[require(Role.VIEWER)])
async def get_local_list(charger_id: str, conn: ReadConn) -> LocalListOut:
    """The charger's local authorization list, as the platform knows it: kept by the
    send-local-list and get-local-list-version commands the charger answered."""
    return LocalListOut.of(await local_lists.get(conn, charger_id))
