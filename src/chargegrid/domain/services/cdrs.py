"""Charge Detail Records: one per ended transaction, made once, never changed.

When a CDR is made: a transaction is complete when its start and its charger's own end
are known and, for chargers that number their events, none is missing. Its CDR is made
the moment it becomes complete, in the same database transaction as the event that
completed it. Events can arrive late (a charger that was offline sends them when it is
back), so an ended transaction that is not complete waits: its CDR is made when the
missing events arrive, or after ``BillingTerms.cdr_wait_s`` from what arrived by then
(``issue_due``), with a remark saying what was missing. This includes transactions whose
charger never reported their end (they end when the next one starts on their EVSE). A
CDR is made once per transaction: a unique key (transaction, issue) decides, so replayed
messages, late events and several nodes cannot make a second one.

A correction (``credit``) is a credit CDR for the CDR in force (it can be credited once)
followed, unless asked otherwise, by a new CDR of the next issue: priced again with the
transaction's frozen tariff and what its charger has reported by now, or with another
stored tariff.

CDR ids: ``{transaction}`` for the first CDR of a transaction, ``{transaction}-{issue}``
for later ones, and ``-C`` appended for a credit CDR.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.cdr import Cdr, CdrFacts, credit_cdr, make_cdr
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import BillingTerms, Transaction, TransactionStatus
from chargegrid.domain.services import costs
from chargegrid.domain.services.costs import Pricing
from chargegrid.domain.services.tariffs import get as get_tariff
from chargegrid.domain.services.tariffs import time_zone_of
from chargegrid.domain.transaction_state import SUPERSEDED
from chargegrid.storage.direct import savepoint
from chargegrid.storage.repositories import cdrs as repo
from chargegrid.storage.repositories import locations as location_repo
from chargegrid.storage.repositories import transactions as transaction_repo
from chargegrid.storage.repositories.cdrs import CdrRecord
from chargegrid.storage.repositories.tariffs import FrozenTariff
from chargegrid.tariffs import encode_json
from chargegrid.values import immutable

__all__ = [
    "Correction",
    "await_end",
    "complete",
    "credit",
    "decode",
    "due",
    "get",
    "issue",
    "issue_due",
]

logger = logging.getLogger(__name__)

REMOTE_START = "remote-start"  # the command name of remote starts
FIRST_ISSUE = 1


@immutable
class Correction:
    """A credit CDR and the CDR that replaces the credited one (None: not reissued)."""

    credit: CdrRecord
    replacement: CdrRecord | None


def complete(transaction: Transaction) -> bool:
    """Whether all a CDR needs has arrived: start, the charger's own end, no missing event."""
    return (
        transaction.started_at is not None
        and transaction.status is TransactionStatus.COMPLETED
        and transaction.stop_reason != SUPERSEDED
        and not transaction.seq_gaps
    )


def decode(record: CdrRecord) -> Cdr:
    return msgspec.json.decode(record.document, type=Cdr)


async def get(conn: AsyncConnection, cdr_id: str) -> CdrRecord:
    record = await repo.get(conn, cdr_id)
    if record is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"CDR {cdr_id!r} not found")
    return record


async def await_end(
    conn: AsyncConnection, transaction: Transaction, now: datetime, terms: BillingTerms
) -> None:
    """The transaction has ended: its CDR is due at the latest after the wait."""
    await repo.add_pending(conn, transaction.id, now + timedelta(seconds=terms.cdr_wait_s))


async def issue(
    conn: AsyncConnection,
    transaction: Transaction,
    now: datetime,
    terms: BillingTerms,
    *,
    remark: str | None = None,
    waiting: bool = True,
    later: bool = False,
) -> CdrRecord | None:
    """Make the transaction's first CDR; None when it has one (or it could not be made).

    It is made in a savepoint: should pricing fail, the event that completed the
    transaction is still recorded, and the CDR is tried again when it is due.
    ``waiting``: whether the transaction waits for its CDR already (``await_end``); one
    that does not waits from now if the CDR cannot be made. With ``later`` it is stored
    with the commit group's other writes, and None is returned.
    """
    try:
        async with savepoint(conn):
            sources = await repo.sources(conn, transaction.id, transaction.charger_id, REMOTE_START)
            pricing = await costs.frozen_pricing(conn, transaction, now, sources.frozen)
            return await _store(
                conn,
                transaction,
                pricing,
                sources,
                FIRST_ISSUE,
                now,
                terms,
                remark,
                waiting=waiting,
                later=later,
            )
    except Exception:
        logger.exception("could not make the CDR of transaction %s", transaction.id)
    if not waiting:
        await await_end(conn, transaction, now, terms)
    return None


async def due(conn: AsyncConnection, now: datetime, *, limit: int = 20) -> list[int]:
    """Transactions whose wait for their CDR is over (``issue_due`` makes it)."""
    return await repo.due(conn, now, limit=limit)


async def issue_due(
    conn: AsyncConnection, transaction_pk: int, now: datetime, terms: BillingTerms
) -> bool:
    """Make the CDR of a transaction whose wait is over, from what arrived; whether it was
    made now (a failure is tried again after another wait)."""
    transaction = await transaction_repo.get(conn, transaction_pk)
    if transaction is None or transaction.status is not TransactionStatus.COMPLETED:
        await repo.remove_pending(conn, transaction_pk)
        return False
    made = await issue(conn, transaction, now, terms, remark=_missing(transaction))
    await repo.postpone(conn, transaction_pk, now + timedelta(seconds=terms.cdr_wait_s))
    return made is not None


def _missing(transaction: Transaction) -> str | None:
    """What the CDR of a transaction that is not complete is made without."""
    if complete(transaction):
        return None  # it was, but its CDR could not be made then
    if transaction.started_at is None:
        return "made without the start of the transaction, which its charger never reported"
    if transaction.stop_reason == SUPERSEDED:
        return (
            "made without the end of the transaction, which its charger never reported: "
            "it ended when the next one started on its EVSE"
        )
    return (
        f"made without {transaction.seq_gaps} event(s) of the transaction "
        "that its charger has not sent"
    )


async def credit(
    conn: AsyncConnection,
    cdr_id: str,
    now: datetime,
    terms: BillingTerms,
    *,
    tariff_id: str | None = None,
    reissue: bool = True,
    remark: str | None = None,
) -> Correction:
    """Credit a CDR and, with ``reissue``, replace it by a new one priced again: with the
    stored tariff ``tariff_id`` as it is now, or by default with the transaction's own."""
    original = await get(conn, cdr_id)
    if original.credit:
        raise DomainError(ErrorKind.INVALID, f"CDR {cdr_id!r} is a credit CDR: it is final")
    transaction = None
    if original.transaction_pk is not None:
        transaction = await transaction_repo.get(conn, original.transaction_pk)
    if reissue and transaction is None:
        raise DomainError(
            ErrorKind.CONFLICT, f"the transaction of CDR {cdr_id!r} is gone: it cannot be reissued"
        )
    pricing = sources = None
    if reissue and transaction is not None:
        sources = await repo.sources(conn, transaction.id, transaction.charger_id, REMOTE_START)
        pricing = await _repriced(conn, transaction, now, sources.frozen, tariff_id, terms)
    credit_doc = credit_cdr(decode(original), now, remark)
    credit_record = await repo.insert(conn, _row(credit_doc, _Session.credited(original), now))
    if credit_record is None:
        raise DomainError(ErrorKind.CONFLICT, f"CDR {cdr_id!r} has been credited already")
    if pricing is None or sources is None or transaction is None:
        return Correction(credit_record, None)
    next_issue = await repo.latest_issue(conn, transaction.id) + 1
    replacement = await _store(conn, transaction, pricing, sources, next_issue, now, terms, remark)
    return Correction(credit_record, replacement)


async def _repriced(
    conn: AsyncConnection,
    transaction: Transaction,
    now: datetime,
    frozen: FrozenTariff | None,
    tariff_id: str | None,
    terms: BillingTerms,
) -> Pricing:
    """The transaction priced again: with its own tariff (``frozen``, read already), or
    with the stored ``tariff_id`` read in the time zone its own was (or that of its
    charger's location now)."""
    if tariff_id is None:
        return await costs.frozen_pricing(conn, transaction, now, frozen, strict=True)
    tariff = await get_tariff(conn, tariff_id)
    if frozen is not None:
        time_zone = frozen.time_zone
    else:
        time_zone = await time_zone_of(conn, transaction.charger_id, terms)
    return await costs.pricing_of(
        conn, transaction, now, tariff=tariff, time_zone=time_zone, strict=True
    )


async def _store(
    conn: AsyncConnection,
    transaction: Transaction,
    pricing: Pricing,
    sources: repo.CdrSources,
    issue_no: int,
    now: datetime,
    terms: BillingTerms,
    remark: str | None,
    *,
    waiting: bool = True,
    later: bool = False,
) -> CdrRecord | None:
    location_id = sources.location_id
    location = None if location_id is None else await location_repo.get(conn, location_id)
    remote = transaction.remote_start_id is not None or sources.commanded
    notes = [n for n in (remark, pricing.problem, _stopped(transaction)) if n]
    facts = CdrFacts(
        timeline=pricing.timeline,
        priced=pricing.priced,
        tariff=pricing.tariff,
        location=location,
        meter_id=sources.meter_id,
        remote_start=remote,
        samples=pricing.samples,
        remark="; ".join(notes)[:255] or None,
    )
    cdr_id = str(transaction.id) if issue_no == FIRST_ISSUE else f"{transaction.id}-{issue_no}"
    document = make_cdr(cdr_id, transaction, facts, terms, now)
    row = _row(document, _Session.of(transaction, issue_no), now)
    if later:
        # Kept, or not: a CDR of the transaction exists either way.
        await repo.insert_later(conn, row)
        stored = None
    else:
        stored = await repo.insert(conn, row)
    if (later or stored is not None) and waiting:
        await repo.remove_pending(conn, transaction.id)
    return stored


def _stopped(transaction: Transaction) -> str | None:
    reason = transaction.stop_reason
    return None if reason is None or reason == SUPERSEDED else f"stopped: {reason}"


@immutable
class _Session:
    """Where a CDR belongs: its transaction, charger, EVSE and connector, and its issue."""

    transaction_pk: int | None
    charger_id: str
    evse_id: int | None
    connector_id: int | None
    issue: int

    @classmethod
    def of(cls, transaction: Transaction, issue: int) -> _Session:
        return cls(
            transaction.id,
            transaction.charger_id,
            transaction.evse_id,
            transaction.connector_id,
            issue,
        )

    @classmethod
    def credited(cls, record: CdrRecord) -> _Session:
        return cls(
            record.transaction_pk,
            record.charger_id,
            record.evse_id,
            record.connector_id,
            record.issue,
        )


def _row(cdr: Cdr, session: _Session, now: datetime) -> dict[str, Any]:
    cost = cdr.total_cost
    return {
        "cdr_id": cdr.id,
        "transaction_pk": session.transaction_pk,
        "issue": session.issue,
        "credit": bool(cdr.credit),
        "credit_reference_id": cdr.credit_reference_id,
        "charger_id": session.charger_id,
        "evse_id": session.evse_id,
        "connector_id": session.connector_id,
        "session_id": cdr.session_id,
        "id_token": cdr.cdr_token.uid or None,
        "start_date_time": cdr.start_date_time,
        "end_date_time": cdr.end_date_time,
        "currency": cdr.currency,
        "total_cost_excl_vat": cost.excl_vat,
        "total_cost_incl_vat": cost.incl_vat,
        "total_energy": cdr.total_energy,
        "total_time": cdr.total_time,
        "total_parking_time": cdr.total_parking_time,
        "tariff_id": cdr.tariffs[0].id if cdr.tariffs else None,
        "document": encode_json(cdr).decode(),
        "created_at": now,
    }
