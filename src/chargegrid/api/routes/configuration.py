"""/api/v1/chargers/{id}/configuration"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from chargegrid.api.deps import PagingDep, ReadConn, require
from chargegrid.api.schemas import PageOut, page_out
from chargegrid.domain.services import chargers, configuration
from chargegrid.domain.services.access import Role
from chargegrid.storage.repositories.configuration import ConfigurationKey

router = APIRouter(prefix="/chargers", tags=["chargers"])


class ConfigurationKeyOut(BaseModel):
    key: str
    value: str | None = Field(description="Null when the charger did not give the value.")
    readonly: bool | None
    updated_at: datetime | None = Field(description="When it was last read or set.")

    @classmethod
    def of(cls, key: ConfigurationKey) -> ConfigurationKeyOut:
        return cls(key=key.key, value=key.value, readonly=key.readonly, updated_at=key.updated_at)


@router.get("/{charger_id}/configuration", dependencies=[require(Role.VIEWER)])
async def list_configuration(
    charger_id: str, conn: ReadConn, paging: PagingDep
) -> PageOut[ConfigurationKeyOut]:
    """An OCPP 1.6 charger's configuration keys by name, as last read (get-configuration)
    or set (set-configuration accepted). OCPP 2.0.1 settings are in its variables."""
    await chargers.get(conn, charger_id)
    page = await configuration.list_keys(conn, charger_id, limit=paging.limit, offset=paging.offset)
    return page_out(page, ConfigurationKeyOut.of)
