"""Request and response bodies of tariff assignments, costs and CDR corrections.

Tariffs and CDRs themselves go in and out as OCPI JSON (``ocpi_schemas``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from chargegrid.api.schemas import TransactionOut
from chargegrid.domain.model import Transaction
from chargegrid.domain.services.costs import SessionCost


class TariffAssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tariff_ids: list[str] = Field(
        max_length=20,
        description="Ids of stored tariffs, in order of preference (OCPI tariff_ids); "
        "an empty list removes them.",
    )


class TariffAssignmentOut(BaseModel):
    charger_id: str
    evse_id: int | None = Field(description="null: the charger's default.")
    connector_id: int | None = Field(description="null: the charger's default.")
    tariff_ids: list[str]


class PriceOut(BaseModel):
    excl_vat: float
    incl_vat: float | None = Field(description="null when the tariff states no VAT.")


class CostOut(BaseModel):
    """A transaction's cost: so far while it runs (``cdr_id`` null), else its CDR's."""

    currency: str
    total_cost: PriceOut
    total_energy: float = Field(description="kWh.")
    total_time: float = Field(description="Hours.")
    total_parking_time: float = Field(description="Hours not charging.")
    tariff_id: str | None
    cdr_id: str | None = Field(description="The CDR it comes from; null while priced live.")
    as_of: datetime = Field(description="The moment it was priced up to.")

    @classmethod
    def of(cls, cost: SessionCost) -> CostOut:
        price = cost.total_cost
        return cls(
            currency=cost.currency,
            total_cost=PriceOut(
                excl_vat=float(price.excl_vat),
                incl_vat=None if price.incl_vat is None else float(price.incl_vat),
            ),
            total_energy=float(cost.total_energy),
            total_time=float(cost.total_time),
            total_parking_time=float(cost.total_parking_time),
            tariff_id=cost.tariff_id,
            cdr_id=cost.cdr_id,
            as_of=cost.as_of,
        )


class TransactionDetailOut(TransactionOut):
    cost: CostOut | None = Field(
        description="What it costs: so far while it runs, or its CDR's; null without a "
        "tariff or CDR."
    )

    @classmethod
    def of_cost(cls, transaction: Transaction, cost: SessionCost | None) -> TransactionDetailOut:
        return cls(
            **TransactionOut.of(transaction).model_dump(),
            cost=None if cost is None else CostOut.of(cost),
        )


class CreditIn(BaseModel):
    """How to correct a CDR."""

    model_config = ConfigDict(extra="forbid")

    reissue: bool = Field(
        True, description="Make a new CDR after the credit CDR (false: only credit it)."
    )
    tariff_id: str | None = Field(
        None,
        description="Price the new CDR with this stored tariff (as it is now); by default "
        "with the tariff frozen onto the transaction.",
    )
    remark: str | None = Field(None, max_length=255, description="Why; kept in both CDRs.")
