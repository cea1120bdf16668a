"""Charging profile rules OCPP 1.6 and 2.0.1 share, checked before a profile is sent.

A profile arrives as the version-neutral ``ChargingProfile`` of a command's params (a
JSON mapping); ``profiles16`` and ``profiles201`` turn it into each version's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.services import commands
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers.commands import at


def invalid(message: str) -> DomainError:
    return DomainError(ErrorKind.INVALID, message)


def check_schedule(profile: Mapping[str, Any]) -> None:
    """The schedule's periods, start and validity make sense whatever the version."""
    schedule = profile["schedule"]
    starts = [period["start_period"] for period in schedule["periods"]]
    if starts[0] != 0:
        raise invalid("the first schedule period starts at 0 (start_period 0)")
    if any(earlier >= later for earlier, later in pairwise(starts)):
        raise invalid("schedule periods go in increasing start_period order")
    kind = profile["kind"]
    if kind == "relative" and schedule.get("start") is not None:
        raise invalid("a relative schedule starts when charging does: it takes no start")
    if kind == "recurring" and schedule.get("start") is None:
        raise invalid("a recurring schedule needs the start it recurs from")
    valid_from, valid_to = at(profile.get("valid_from")), at(profile.get("valid_to"))
    if valid_from is not None and valid_to is not None and valid_from >= valid_to:
        raise invalid("valid_from comes before valid_to")


def check_placement(profile: Mapping[str, Any], evse_id: int) -> None:
    """The profile's purpose fits the EVSE it is set on and the transaction it names."""
    purpose = profile["purpose"]
    if purpose == "charger_max" and evse_id != 0:
        raise invalid("a charger_max profile is set on the charger as a whole (evse_id 0)")
    if purpose == "tx" and evse_id == 0:
        raise invalid("a tx profile is set on the EVSE of its transaction (evse_id > 0)")
    if purpose == "tx" and profile.get("transaction_id") is None:
        raise invalid("a tx profile applies to a transaction in progress: give its transaction_id")
    if purpose != "tx" and profile.get("transaction_id") is not None:
        raise invalid("only a tx profile names a transaction")


def check_remote_start(profile: Mapping[str, Any]) -> None:
    """A remote start's profile is a TxProfile for the transaction it starts."""
    if profile["purpose"] != "tx":
        raise invalid("the charging profile of a remote start has purpose tx")
    if profile.get("transaction_id") is not None:
        raise invalid(
            "the charging profile of a remote start has no transaction_id: "
            "the transaction does not exist yet"
        )


async def transaction_of(
    ctx: HandlerContext, profile: Mapping[str, Any], evse_id: int
) -> str | None:
    """The charger's id (OCPP transactionId) of the active transaction a profile names."""
    transaction_pk = profile.get("transaction_id")
    if transaction_pk is None:
        return None
    transaction = await commands.addressed_transaction(ctx.conn, ctx.charger_id, transaction_pk)
    if transaction.evse_id is not None and transaction.evse_id != evse_id:
        raise invalid(
            f"transaction {transaction_pk} is on EVSE {transaction.evse_id}, not on {evse_id}"
        )
    assert transaction.transaction_id is not None
    return transaction.transaction_id
