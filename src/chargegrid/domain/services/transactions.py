"""Transactions: one entry point for everything a charger reports about them.

Every version's transaction messages become ``TransactionEvent``s applied by
``apply_event``. The event is recorded (a numbered event only once), and the transaction
is then derived again from all its recorded events (``transaction_state.summarize``), so
its final state never depends on the order in which the events arrived.

The moment a transaction's start first becomes known, its tariff is frozen onto it
(``tariffs.freeze``); once it has ended, it waits for its CDR, which is made as soon as
all its events are in (``cdrs``).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import (
    Authorization,
    BillingTerms,
    IdIssuer,
    MeterSample,
    Transaction,
    TransactionEvent,
    TransactionEventKind,
    TransactionStatus,
)
from chargegrid.domain.services import cdrs, tariffs, webhooks
from chargegrid.domain.services.authorization import authorize
from chargegrid.domain.services.webhooks import EventType
from chargegrid.domain.transaction_state import (
    SUPERSEDED,
    EventFacts,
    TransactionState,
    facts_of,
    summarize_with_decisive,
)
from chargegrid.storage.repositories import event_recording, group_reads, transaction_reads
from chargegrid.storage.repositories import transactions as repo
from chargegrid.values import immutable

__all__ = [
    "SUPERSEDED",
    "EventOutcome",
    "apply_event",
    "read_ahead",
    "record_meter_values",
]

DEFAULT_TERMS = BillingTerms()
_ARRIVING = 2**63 - 1  # the arrival of an event being recorded, until it is stored
# What a transaction's events decide, besides its status.
_STATE_FIELDS = tuple(f.name for f in fields(TransactionState) if f.name != "status")


@immutable
class EventOutcome:
    """What became of an event.

    ``transaction`` is None only for an update about a transaction the platform named but
    does not know (its samples are kept, unlinked). ``authorization`` answers the event's id
    token, if it had one. ``recorded`` is False for a repeat of an event already recorded.
    """

    transaction: Transaction | None
    authorization: Authorization | None
    recorded: bool


async def apply_event(
    conn: AsyncConnection,
    event: TransactionEvent,
    now: datetime,
    terms: BillingTerms = DEFAULT_TERMS,
) -> EventOutcome:
    """Record what a charger reports about a transaction and bring the transaction up to date.

    A start without a ``transaction_id`` gets one from the platform, and a retried identical
    start returns the same transaction. An event for an unknown charger-named transaction
    creates it (its start may still be on the way); an end for an unknown platform-named one
    is kept as a transaction of its own. ``terms`` are those its tariff and CDR are made with.
    """
    if event.transaction_id is None:
        return await _start_named_by_platform(conn, event, now, terms)
    found = await transaction_reads.get_with_decisive_events(
        conn, event.charger_id, event.transaction_id
    )
    if found is not None:
        return await _record(conn, found[0], event, now, terms, decisive=found[1])
    transaction = await _create_unknown(conn, event, now)
    if transaction is None:
        point = repo.MeterPoint(event.charger_id, event.evse_id or 0, event.connector_id)
        await repo.add_samples(conn, point, None, event.samples)
        return EventOutcome(None, await _authorize(conn, event, now, None), recorded=True)
    return await _record(conn, transaction, event, now, terms)


def read_ahead(
    conn: AsyncConnection, keys: Collection[tuple[str, str]], id_tokens: Collection[str] = ()
) -> AbstractAsyncContextManager[None]:
    """For the events of a commit group, each from a different charger, applied within
    the block: their transactions, ``keys`` (charger id, transaction id), are read in one
    go before, with the ``id_tokens`` they are authorized by. (In a group scope, the
    events that change nothing but themselves are written in one go after.)

    A token read ahead is as the group found it when it began, as a message handled at
    that moment in another group would: whether another message of the group started or
    ended a transaction with it since is not seen. It serves the first message that asks
    for it; another asks the database again."""
    return group_reads.reading_ahead(conn, keys, id_tokens)


async def record_meter_values(
    conn: AsyncConnection,
    *,
    charger_id: str,
    evse_id: int,
    connector_id: int | None,
    samples: Sequence[MeterSample],
) -> None:
    """Store sampled values that belong to no transaction (evse 0: the charger's main meter)."""
    await repo.add_samples(conn, repo.MeterPoint(charger_id, evse_id, connector_id), None, samples)


async def _start_named_by_platform(
    conn: AsyncConnection, event: TransactionEvent, now: datetime, terms: BillingTerms
) -> EventOutcome:
    if event.kind is not TransactionEventKind.STARTED or event.evse_id is None:
        raise DomainError(
            ErrorKind.INVALID, "only the start of a transaction on an EVSE may come without an id"
        )
    on_evse = await repo.on_evse_open_or_started_at(
        conn, event.charger_id, event.evse_id, event.occurred_at
    )
    for existing in on_evse:
        if (existing.started_at, existing.id_token, existing.meter_start_wh) == (
            event.occurred_at,
            event.id_token,
            event.meter_start_wh,
        ):  # the same start, sent again
            return EventOutcome(
                existing, await _authorize(conn, event, now, existing.id), recorded=False
            )
    # Named after its primary key; the name is stored with the state the start gives it.
    inserted = await repo.insert(conn, _new_row(event.charger_id, None, now))
    transaction = replace(inserted, transaction_id=str(inserted.id))
    open_on_evse = [t for t in on_evse if t.status is TransactionStatus.ACTIVE]
    return await _record(
        conn, transaction, event, now, terms, decisive=[], open_on_evse=open_on_evse
    )


async def _create_unknown(
    conn: AsyncConnection, event: TransactionEvent, now: datetime
) -> Transaction | None:
    assert event.transaction_id is not None
    name = event.transaction_id
    if event.id_issuer is IdIssuer.PLATFORM:
        # Not ours: a charger cannot create ids in the platform's namespace. An end is
        # still kept (under a name of its own), updates are not worth a transaction.
        if event.kind is not TransactionEventKind.ENDED:
            return None
        name = f"unmatched:{event.transaction_id}:{event.occurred_at.isoformat()}"
        existing = await repo.get_by_charger_id(conn, event.charger_id, name)
        if existing is not None:
            return existing
    await repo.insert_named(conn, _new_row(event.charger_id, name, now))
    return await repo.get_by_charger_id(conn, event.charger_id, name)


async def _record(
    conn: AsyncConnection,
    transaction: Transaction,
    event: TransactionEvent,
    now: datetime,
    terms: BillingTerms,
    *,
    decisive: Sequence[EventFacts] | None = None,
    open_on_evse: Sequence[Transaction] | None = None,
) -> EventOutcome:
    """Record the event and refresh the transaction; ``decisive``: its decisive events
    before this one, and ``open_on_evse``: the other transactions open on the event's
    EVSE, when the caller read them already."""
    authorization = await _authorize(conn, event, now, transaction.id)
    repeat = EventOutcome(transaction, authorization, recorded=False)
    if decisive is None:
        decisive = await repo.decisive_events(conn, transaction.id)
    if (
        event.seq_no is None
        and event.kind is TransactionEventKind.ENDED
        and any(e.kind is TransactionEventKind.ENDED for e in decisive)
    ):
        # An unnumbered end is a retry once the transaction has one (an end, once
        # recorded, leaves one decisive: the first).
        return repeat
    # The event's arrival is known once it is stored, and it comes after every event
    # recorded before: a stand-in that does too decides the same.
    facts = facts_of(
        event,
        arrival=_ARRIVING,
        authorization_status=None if authorization is None else authorization.status.value,
        received_at=now,
    )
    derived, keep = _derive(transaction, [*decisive, facts], new_number=event.seq_no is not None)
    point = (
        repo.MeterPoint(event.charger_id, event.evse_id, event.connector_id)
        if event.evse_id is not None
        else repo.MeterPoint(event.charger_id, derived.evse_id or 0, derived.connector_id)
    )
    recording = event_recording.EventRecording(
        transaction.id,
        facts,
        decisive=_ARRIVING in keep,
        outdated=[e.arrival for e in decisive if e.arrival not in keep],
        point=point,
        samples=event.samples,
    )
    if event.seq_no is None and derived == transaction:
        # Never a repeat, and nothing else changes: nothing after it reads the event back,
        # so it may be written with the rest of its commit group.
        await event_recording.record_event_later(conn, recording)
        return EventOutcome(transaction, authorization, recorded=True)
    state = None
    if derived != transaction and (event.seq_no is None or not _starts(transaction, derived)):
        # The new state goes with the event, in its statement. (A numbered event may be
        # a repeat, which writes nothing: a start's tariff is frozen only once it is not.)
        derived = await _with_tariff(conn, transaction, derived, terms, now)
        state = _state_values(derived, now)
    arrival = await event_recording.record_event(conn, recording, state)
    if arrival is None:
        return repeat
    if state is None:
        updated = await _store(conn, transaction, derived, now, terms)
    else:
        updated = await _made_known(conn, transaction, derived, now, terms)
    if cdrs.complete(updated) and not cdrs.complete(transaction):
        # After the event's own samples; an ended transaction was waiting already.
        waiting = transaction.status is TransactionStatus.COMPLETED
        await cdrs.issue(conn, updated, now, terms, waiting=waiting, later=True)
    if (updated.evse_id, updated.started_at) != (transaction.evse_id, transaction.started_at):
        if updated.evse_id != event.evse_id:
            open_on_evse = None  # read for another EVSE
        updated = await _supersede_overlaps(conn, updated, now, terms, open_on_evse)
    return EventOutcome(updated, authorization, recorded=True)


def _derive(
    transaction: Transaction, facts: Sequence[EventFacts], *, new_number: bool
) -> tuple[Transaction, set[int]]:
    """The transaction derived from its decisive events ``facts`` (with the count of
    numbered ones: known from the stored state, plus one if ``new_number``), and the
    arrivals of the events it still depends on."""
    state, decisive = summarize_with_decisive(
        facts,
        superseded_at=transaction.superseded_at,
        numbered=_numbered(transaction) + (1 if new_number else 0),
    )
    keep = {e.arrival for e in decisive}
    changed = {
        name: value
        for name in _STATE_FIELDS
        if (value := getattr(state, name)) != getattr(transaction, name)
    }
    if state.status is not transaction.status:
        changed["status"] = state.status
    # Most events (every meter reading) change nothing: the transaction itself then.
    return (replace(transaction, **changed) if changed else transaction), keep


async def _refresh(
    conn: AsyncConnection, transaction: Transaction, now: datetime, terms: BillingTerms
) -> Transaction:
    """Derive the transaction again from its recorded events, and store it if it changed;
    events no longer decisive are marked so."""
    facts = await repo.decisive_events(conn, transaction.id)
    derived, keep = _derive(transaction, facts, new_number=False)
    await repo.forget_events(conn, [e.arrival for e in facts if e.arrival not in keep])
    return await _store(conn, transaction, derived, now, terms)


async def _store(
    conn: AsyncConnection,
    transaction: Transaction,
    derived: Transaction,
    now: datetime,
    terms: BillingTerms,
) -> Transaction:
    """Store the ``derived`` state of ``transaction`` if it changed (with its tariff, once
    the start is known), and act on what the change makes known (``_made_known``)."""
    if derived == transaction:
        return transaction
    derived = await _with_tariff(conn, transaction, derived, terms, now)
    await repo.update_fields(conn, transaction.id, **_state_values(derived, now))
    return await _made_known(conn, transaction, derived, now, terms)


def _starts(transaction: Transaction, derived: Transaction) -> bool:
    """Whether ``derived`` makes the start of ``transaction`` known."""
    return transaction.started_at is None and derived.started_at is not None


async def _with_tariff(
    conn: AsyncConnection,
    transaction: Transaction,
    derived: Transaction,
    terms: BillingTerms,
    now: datetime,
) -> Transaction:
    """``derived``, with the tariff frozen onto it when it makes the start known."""
    if _starts(transaction, derived):
        return await tariffs.freeze(conn, derived, terms, now)
    return derived


def _state_values(derived: Transaction, now: datetime) -> dict[str, Any]:
    """The columns a new state of a transaction sets (its id and tariff's with it)."""
    return {
        "status": derived.status.value,
        **{name: getattr(derived, name) for name in _STATE_FIELDS},
        "transaction_id": derived.transaction_id,
        "tariff_id": derived.tariff_id,
        "updated_at": now,
    }


async def _made_known(
    conn: AsyncConnection,
    transaction: Transaction,
    derived: Transaction,
    now: datetime,
    terms: BillingTerms,
) -> Transaction:
    """Act on what the stored state ``derived`` makes known: webhooks are told, and an
    ended transaction waits for its CDR unless it can be made now (``_record`` makes
    it)."""
    await _publish_progress(conn, transaction, derived, now)
    completed = TransactionStatus.COMPLETED
    ended = transaction.status is not completed and derived.status is completed
    if ended and not cdrs.complete(derived):
        await cdrs.await_end(conn, derived, now, terms)
    return derived


async def _publish_progress(
    conn: AsyncConnection, before: Transaction, after: Transaction, now: datetime
) -> None:
    """Tell webhooks when a start or an end first becomes known (a state never goes back)."""
    data: dict[str, Any] = {
        "id": after.id,
        "transaction_id": after.transaction_id,
        "charger_id": after.charger_id,
        "evse_id": after.evse_id,
        "connector_id": after.connector_id,
        "id_token": after.id_token,
        "status": after.status.value,
        "started_at": after.started_at,
        "stopped_at": after.stopped_at,
        "meter_start_wh": after.meter_start_wh,
        "meter_stop_wh": after.meter_stop_wh,
        "energy_wh": after.energy_wh,
        "stop_reason": after.stop_reason,
    }
    if before.started_at is None and after.started_at is not None:
        await webhooks.publish(conn, EventType.TRANSACTION_STARTED, data, now)
    completed = TransactionStatus.COMPLETED
    if before.status is not completed and after.status is completed:
        await webhooks.publish(conn, EventType.TRANSACTION_ENDED, data, now)


def _numbered(transaction: Transaction) -> int:
    """How many distinct sequence numbers the stored state was derived from."""
    if transaction.last_seq_no is None or transaction.seq_gaps is None:
        return 0
    return transaction.last_seq_no + 1 - transaction.seq_gaps


async def _supersede_overlaps(
    conn: AsyncConnection,
    transaction: Transaction,
    now: datetime,
    terms: BillingTerms,
    others: Sequence[Transaction] | None,
) -> Transaction:
    """One EVSE runs one transaction at a time: of those still open on it, each one that
    started before another has ended (its end is late or lost) when the next one started.
    ``others``: those open on its EVSE besides it, when read already.

    Decided by start times, not by arrival, so a late start cannot close a newer transaction.
    """
    if (
        transaction.status is not TransactionStatus.ACTIVE
        or transaction.evse_id is None
        or transaction.started_at is None
    ):
        return transaction
    if others is None:
        others = await repo.active_on_evse_except(
            conn, transaction.charger_id, transaction.evse_id, transaction.id
        )
    open_ones = sorted(
        (t for t in [transaction, *others] if t.started_at is not None),
        key=lambda t: (t.started_at, t.id),
    )
    for earlier, later in itertools.pairwise(open_ones):
        assert earlier.started_at is not None
        assert later.started_at is not None
        if earlier.started_at < later.started_at:
            await repo.update_fields(conn, earlier.id, superseded_at=later.started_at)
            superseded = replace(earlier, superseded_at=later.started_at)
            refreshed = await _refresh(conn, superseded, now, terms)
            if earlier.id == transaction.id:
                transaction = refreshed
    return transaction


async def _authorize(
    conn: AsyncConnection, event: TransactionEvent, now: datetime, transaction_pk: int | None
) -> Authorization | None:
    if event.id_token is None:
        return None
    return await authorize(
        conn,
        event.id_token,
        now,
        token_type=event.id_token_type,
        transaction_pk=transaction_pk,
    )


def _new_row(charger_id: str, transaction_id: str | None, now: datetime) -> dict[str, Any]:
    return {
        "charger_id": charger_id,
        "transaction_id": transaction_id,
        "status": TransactionStatus.ACTIVE.value,
        "created_at": now,
        "updated_at": now,
    }
