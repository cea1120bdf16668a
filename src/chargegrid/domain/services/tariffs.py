"""Tariffs: kept as OCPI 2.2.1 Tariff objects, assigned to connectors, frozen onto
transactions when they start.

A connector's tariffs (OCPI ``tariff_ids``) are a list in order of preference; a charger
has a default list for its connectors (EVSE and connector 0). When a transaction starts,
its tariff is the first one in force at the start (``start_date_time`` to
``end_date_time``) of type ``REGULAR`` or of no type, else the first one in force of any
type: from its connector's list, or when none of those is in force, from its charger's
default. A transaction whose start is not known yet gets its tariff once it is. A copy of it
is kept with the transaction, with the time zone of the charger's location (or the
platform's): editing or deleting the tariff later changes nothing for that transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import BillingTerms, Transaction
from chargegrid.storage.repositories import chargers as charger_repo
from chargegrid.storage.repositories import tariffs as repo
from chargegrid.storage.repositories.pages import Page
from chargegrid.storage.repositories.tariffs import CHARGER_DEFAULT, StoredTariff
from chargegrid.tariffs import OcpiDataError, Tariff, TariffType, parse_tariff, tariff_json

__all__ = [
    "CHARGER_DEFAULT",
    "assign",
    "assigned",
    "choose",
    "create",
    "delete",
    "freeze",
    "get",
    "list_page",
    "parsed",
    "replace_tariff",
    "time_zone_of",
]

_DECODER = msgspec.json.Decoder(float_hook=Decimal)  # prices stay exact
_REGULAR = (TariffType.REGULAR, None)


def parsed(stored: StoredTariff) -> Tariff:
    """The stored tariff as a ``Tariff`` (it was checked when stored)."""
    return parse_tariff(stored.document)


def _checked(
    body: bytes, terms: BillingTerms, now: datetime, tariff_id: str | None = None
) -> Tariff:
    """A tariff from a request body: the platform's party unless it names one, updated now."""
    try:
        data: Any = _DECODER.decode(body)
    except msgspec.DecodeError as error:
        raise DomainError(ErrorKind.INVALID, f"not valid JSON: {error}", field="") from None
    if not isinstance(data, dict):
        raise DomainError(ErrorKind.INVALID, "a tariff is a JSON object", field="")
    if tariff_id is not None:
        named = data.setdefault("id", tariff_id)
        if named != tariff_id:
            raise DomainError(
                ErrorKind.INVALID,
                f"id: {named!r} is not {tariff_id!r}, the id in the path",
                field="id",
            )
    data.setdefault("country_code", terms.country_code)
    data.setdefault("party_id", terms.party_id)
    data["last_updated"] = now.isoformat()
    try:
        return parse_tariff(data)
    except OcpiDataError as error:
        raise DomainError(ErrorKind.INVALID, str(error), field=error.path) from None


async def create(conn: AsyncConnection, body: bytes, terms: BillingTerms, now: datetime) -> Tariff:
    """Store a new tariff from its OCPI JSON; INVALID names the field at fault."""
    tariff = _checked(body, terms, now)
    if await repo.get_tariff(conn, tariff.id) is not None:
        raise DomainError(ErrorKind.CONFLICT, f"tariff {tariff.id!r} already exists")
    await repo.insert_tariff(
        conn,
        {
            "tariff_id": tariff.id,
            "country_code": tariff.country_code,
            "party_id": tariff.party_id,
            "currency": tariff.currency,
            "document": tariff_json(tariff).decode(),
            "created_at": now,
            "updated_at": now,
        },
    )
    return tariff


async def replace_tariff(
    conn: AsyncConnection, tariff_id: str, body: bytes, terms: BillingTerms, now: datetime
) -> Tariff:
    """Replace a tariff; transactions that started with it keep their copy."""
    stored = await _stored(conn, tariff_id)
    tariff = _checked(body, terms, now, tariff_id)
    await repo.update_tariff(
        conn,
        stored.pk,
        country_code=tariff.country_code,
        party_id=tariff.party_id,
        currency=tariff.currency,
        document=tariff_json(tariff).decode(),
        updated_at=now,
    )
    return tariff


async def delete(conn: AsyncConnection, tariff_id: str) -> Tariff:
    """Delete a tariff no connector uses (CONFLICT otherwise); returned as it was."""
    stored = await _stored(conn, tariff_id)
    used = await repo.assignments_of(conn, stored.pk)
    if used:
        where = ", ".join(
            f"charger {charger}" if evse == CHARGER_DEFAULT else f"{charger} {evse}/{connector}"
            for charger, evse, connector in used[:5]
        )
        raise DomainError(
            ErrorKind.CONFLICT, f"tariff {tariff_id!r} is assigned ({where}): unassign it first"
        )
    await repo.delete_tariff(conn, stored.pk)
    return parsed(stored)


async def get(conn: AsyncConnection, tariff_id: str) -> Tariff:
    return parsed(await _stored(conn, tariff_id))


async def list_page(conn: AsyncConnection, *, limit: int, offset: int) -> Page[Tariff]:
    page = await repo.tariffs_page(conn, limit=limit, offset=offset)
    return Page([parsed(t) for t in page.items], page.total, page.limit, page.offset)


async def _stored(conn: AsyncConnection, tariff_id: str) -> StoredTariff:
    stored = await repo.get_tariff(conn, tariff_id)
    if stored is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"tariff {tariff_id!r} not found")
    return stored


async def assign(
    conn: AsyncConnection,
    charger_id: str,
    evse_id: int,
    connector_id: int,
    tariff_ids: Sequence[str],
    now: datetime,
) -> list[str]:
    """Set the tariffs of a connector (EVSE and connector 0: the charger's default)."""
    if not await charger_repo.exists(conn, charger_id):
        raise DomainError(ErrorKind.NOT_FOUND, f"charger {charger_id!r} not found")
    if (evse_id == CHARGER_DEFAULT) != (connector_id == CHARGER_DEFAULT):
        raise DomainError(ErrorKind.INVALID, "EVSE and connector ids start at 1")
    if len(set(tariff_ids)) != len(tariff_ids):
        raise DomainError(ErrorKind.INVALID, "tariff_ids: a tariff is listed twice")
    found = await repo.tariffs_by_id(conn, tariff_ids)
    missing = [t for t in tariff_ids if t not in found]
    if missing:
        raise DomainError(ErrorKind.INVALID, f"tariff_ids: unknown tariff {missing[0]!r}")
    await repo.set_assignment(
        conn, charger_id, evse_id, connector_id, [found[t].pk for t in tariff_ids], now
    )
    return list(tariff_ids)


async def assigned(
    conn: AsyncConnection, charger_id: str, evse_id: int, connector_id: int
) -> list[str]:
    """The tariffs set on a connector (or the charger's default), in order."""
    if not await charger_repo.exists(conn, charger_id):
        raise DomainError(ErrorKind.NOT_FOUND, f"charger {charger_id!r} not found")
    found = await repo.assigned_tariffs(conn, charger_id, evse_id, connector_id)
    return [t.tariff_id for t in found]


def choose(candidates: Sequence[Tariff], at: datetime) -> Tariff | None:
    """The tariff for a session starting ``at``: the first in force of type REGULAR (or
    none), else the first in force of any type."""
    in_force = [t for t in candidates if t.is_active(at)]
    regular = [t for t in in_force if t.type in _REGULAR]
    found = regular or in_force
    return found[0] if found else None


async def freeze(
    conn: AsyncConnection, transaction: Transaction, terms: BillingTerms, now: datetime
) -> Transaction:
    """Copy the tariff in force at the transaction's start onto it (once); the transaction
    with ``tariff_id`` when it has a tariff now, which its caller stores."""
    start = transaction.started_at
    if start is None or transaction.tariff_id is not None:
        return transaction
    found = await _tariff_for(conn, transaction, start)
    if found is None:
        return transaction
    tariff, source = found
    frozen = await repo.freeze(
        conn,
        {
            "transaction_pk": transaction.id,
            "tariff_id": tariff.id,
            "document": tariff_json(tariff).decode(),
            "time_zone": await time_zone_of(conn, transaction.charger_id, terms),
            "source": source,
            "frozen_at": now,
        },
    )
    return replace(transaction, tariff_id=tariff.id) if frozen else transaction


async def _tariff_for(
    conn: AsyncConnection, transaction: Transaction, start: datetime
) -> tuple[Tariff, str] | None:
    """The connector's tariff in force at ``start``, else the charger's default one."""
    evse_id = transaction.evse_id if transaction.evse_id is not None else CHARGER_DEFAULT
    connector_id = (transaction.connector_id or 1) if evse_id != CHARGER_DEFAULT else evse_id
    own, default = await repo.assigned_with_default(
        conn, transaction.charger_id, evse_id, connector_id
    )
    for stored, source in ((own, "connector"), (default, "charger")):
        chosen = choose([parsed(t) for t in stored], start)
        if chosen is not None:
            return chosen, source
    return None


async def time_zone_of(conn: AsyncConnection, charger_id: str, terms: BillingTerms) -> str:
    """Where a charger's tariffs are read: its location's time zone, else the platform's."""
    time_zone = await charger_repo.time_zone_of(conn, charger_id)
    return terms.time_zone if time_zone is None else time_zone
