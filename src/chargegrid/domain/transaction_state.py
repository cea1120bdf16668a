"""A transaction's state as a pure function of the events its charger reported.

Chargers report a transaction as a series of events (started, updated, ended) that can
arrive late, twice or out of order. Each event is reduced to its ``EventFacts`` once, when
it is recorded; the transaction is then ``summarize``d from the set of facts, never
patched in arrival order. Every field has a rule that depends on the facts alone:

- events are ordered by sequence number when the charger numbers them, otherwise by
  arrival (``arrival`` breaks every tie, so the order is total);
- what is set once (EVSE, id token, reservation, remote start id) comes from the first
  event that carries it; what changes (charging state, phases, trigger) from the last;
- the start time is the started event's; the end (time, reason, stop meter) is the first
  ended event's;
- meter start and stop are the values the charger states explicitly (OCPP 1.6) or else
  the earliest and latest energy register readings by time (OCPP 2.x), whichever event
  carried them; an ended transaction whose readings are all of one moment has a meter
  stop but no known start;
- ``seq_gaps`` counts the numbers missing between 0 and the highest one seen.

Each rule picks one event, so the state depends on a few ``decisive_events`` only (and on
how many numbers were seen): a store keeps those flagged and reads back only them, which
keeps applying an event cheap however long the transaction runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime

from chargegrid.domain.model import (
    TransactionEvent,
    TransactionEventKind,
    TransactionStatus,
    energy_register_wh,
)
from chargegrid.values import immutable

SUPERSEDED = "Superseded"
STOP_AUTHORIZED = "StopAuthorized"


@immutable
class EventFacts:
    """What is kept of one transaction event; ``arrival`` numbers events as they came."""

    kind: TransactionEventKind
    occurred_at: datetime
    arrival: int
    seq_no: int | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    authorization_status: str | None = None
    meter_start_wh: float | None = None
    meter_stop_wh: float | None = None
    energy_first_at: datetime | None = None
    energy_first_wh: float | None = None
    energy_last_at: datetime | None = None
    energy_last_wh: float | None = None
    trigger_reason: str | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    offline: bool = False
    number_of_phases: int | None = None
    cable_max_current: int | None = None
    reservation_id: int | None = None
    remote_start_id: int | None = None
    time_spent_charging_s: int | None = None
    received_at: datetime | None = None


@immutable
class TransactionState:
    """Everything about a transaction that follows from its events."""

    status: TransactionStatus
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    authorization_status: str | None = None
    stop_id_token: str | None = None
    meter_start_wh: float | None = None
    meter_stop_wh: float | None = None
    energy_wh: float | None = None
    stop_reason: str | None = None
    reservation_id: int | None = None
    remote_start_id: int | None = None
    charging_state: str | None = None
    trigger_reason: str | None = None
    number_of_phases: int | None = None
    cable_max_current: int | None = None
    time_spent_charging_s: int | None = None
    offline: bool = False
    last_seq_no: int | None = None
    seq_gaps: int | None = None


def facts_of(
    event: TransactionEvent,
    *,
    arrival: int,
    authorization_status: str | None = None,
    received_at: datetime | None = None,
) -> EventFacts:
    """Reduce an event to what its transaction's state needs."""
    readings = sorted(
        (sample.sampled_at, wh)
        for sample in event.samples
        if (wh := energy_register_wh(sample)) is not None
    )
    first = readings[0] if readings else (None, None)
    last = readings[-1] if readings else (None, None)
    return EventFacts(
        kind=event.kind,
        occurred_at=event.occurred_at,
        arrival=arrival,
        seq_no=event.seq_no,
        evse_id=event.evse_id,
        connector_id=event.connector_id,
        id_token=event.id_token,
        id_token_type=event.id_token_type if event.id_token is not None else None,
        authorization_status=authorization_status,
        meter_start_wh=event.meter_start_wh,
        meter_stop_wh=event.meter_stop_wh,
        energy_first_at=first[0],
        energy_first_wh=first[1],
        energy_last_at=last[0],
        energy_last_wh=last[1],
        trigger_reason=event.trigger_reason,
        charging_state=event.charging_state,
        stopped_reason=event.stopped_reason,
        offline=event.offline,
        number_of_phases=event.number_of_phases,
        cable_max_current=event.cable_max_current,
        reservation_id=event.reservation_id,
        remote_start_id=event.remote_start_id,
        time_spent_charging_s=event.time_spent_charging_s,
        received_at=received_at,
    )


def unique_events(facts: Iterable[EventFacts]) -> list[EventFacts]:
    """The facts a store keeps: the first arrival of each sequence number (others are repeats)."""
    kept: dict[int, EventFacts] = {}
    unnumbered: list[EventFacts] = []
    for fact in sorted(facts, key=lambda f: f.arrival):
        if fact.seq_no is None:
            unnumbered.append(fact)
        else:
            kept.setdefault(fact.seq_no, fact)
    return [*kept.values(), *unnumbered]


@immutable
class _Winners:
    """For each rule, the event that decides it (None: no event does)."""

    start: EventFacts | None
    end: EventFacts | None
    token: EventFacts | None
    stop_token: EventFacts | None
    evse: EventFacts | None
    connector: EventFacts | None
    reservation: EventFacts | None
    remote_start: EventFacts | None
    charging_state: EventFacts | None
    trigger: EventFacts | None
    phases: EventFacts | None
    cable: EventFacts | None
    time_spent: EventFacts | None
    offline: EventFacts | None
    explicit_meter: EventFacts | None
    earliest_reading: EventFacts | None
    latest_reading: EventFacts | None
    highest_number: EventFacts | None

    def events(self) -> list[EventFacts]:
        chosen = (getattr(self, name) for name in _WINNER_FIELDS)
        return list({e.arrival: e for e in chosen if e is not None}.values())


_WINNER_FIELDS = tuple(f.name for f in fields(_Winners))


def _winners(facts: Iterable[EventFacts]) -> _Winners:
    """Each rule's event, in one pass over the events in order (this runs for every
    meter reading of a transaction)."""
    start = end = first_token = token = stop_token = evse = connector = None
    reservation = remote_start = charging_state = trigger = phases = cable = None
    time_spent = offline = explicit_meter = earliest = latest = highest = None
    earliest_at = latest_at = None
    for e in sorted(facts, key=_order):
        if e.kind is TransactionEventKind.STARTED and start is None:
            start = e
        elif e.kind is TransactionEventKind.ENDED and end is None:
            end = e
        if e.id_token is not None:
            if first_token is None:
                first_token = e
            if e.trigger_reason == STOP_AUTHORIZED:
                stop_token = stop_token or e
            else:
                token = token or e
        if e.evse_id is not None and evse is None:
            evse = e
        if e.connector_id is not None and connector is None:
            connector = e
        if e.reservation_id is not None and reservation is None:
            reservation = e
        if e.remote_start_id is not None and remote_start is None:
            remote_start = e
        if e.offline and offline is None:
            offline = e
        if explicit_meter is None and (e.meter_start_wh is not None or e.meter_stop_wh is not None):
            explicit_meter = e
        if e.charging_state is not None:
            charging_state = e
        if e.trigger_reason is not None:
            trigger = e
        if e.number_of_phases is not None:
            phases = e
        if e.cable_max_current is not None:
            cable = e
        if e.time_spent_charging_s is not None:
            time_spent = e
        if e.seq_no is not None:
            highest = e
        # Ties in time are broken by value, so the choice never depends on the event order.
        if e.energy_first_at is not None:
            reading = _first_reading(e)
            if earliest_at is None or reading < earliest_at:
                earliest, earliest_at = e, reading
        if e.energy_last_at is not None:
            reading = _last_reading(e)
            if latest_at is None or reading > latest_at:
                latest, latest_at = e, reading
    return _Winners(
        start=start,
        end=end,
        token=token or first_token,
        stop_token=stop_token or (end if end is not None and end.id_token is not None else None),
        evse=evse,
        connector=connector,
        reservation=reservation,
        remote_start=remote_start,
        charging_state=charging_state,
        trigger=trigger,
        phases=phases,
        cable=cable,
        time_spent=time_spent,
        offline=offline,
        explicit_meter=explicit_meter,
        earliest_reading=earliest,
        latest_reading=latest,
        highest_number=highest,
    )


def decisive_events(facts: Iterable[EventFacts]) -> list[EventFacts]:
    """The few events the state depends on: the first or last carrier of each field.

    ``summarize`` gives the same state for these (with the count of numbered events)
    as for all the events, and for any set between the two; so a store needs to read
    back only these, however long the transaction.
    """
    return _winners(facts).events()


def summarize(
    facts: Sequence[EventFacts],
    *,
    superseded_at: datetime | None = None,
    numbered: int | None = None,
) -> TransactionState:
    """The transaction's state from its events (in any order).

    ``superseded_at``: when a later transaction started on the same EVSE while this one
    had not ended; it counts as the end until the charger's own end arrives.
    ``numbered``: how many distinct sequence numbers the transaction has received, when
    ``facts`` are only its decisive events (by default counted in ``facts``).
    """
    return summarize_with_decisive(facts, superseded_at=superseded_at, numbered=numbered)[0]


def summarize_with_decisive(
    facts: Sequence[EventFacts],
    *,
    superseded_at: datetime | None = None,
    numbered: int | None = None,
) -> tuple[TransactionState, list[EventFacts]]:
    """``summarize`` and ``decisive_events`` of the same facts, worked out once."""
    w = _winners(facts)
    return _state(w, facts, superseded_at, numbered), w.events()


def _state(
    w: _Winners,
    facts: Sequence[EventFacts],
    superseded_at: datetime | None,
    numbered: int | None,
) -> TransactionState:
    start, end = w.start, w.end
    meter_start, meter_stop = _meter(w)
    if numbered is None:
        numbered = len({e.seq_no for e in facts if e.seq_no is not None})
    highest = None if w.highest_number is None else w.highest_number.seq_no
    ended = end is not None or superseded_at is not None
    return TransactionState(
        status=TransactionStatus.COMPLETED if ended else TransactionStatus.ACTIVE,
        started_at=None if start is None else start.occurred_at,
        stopped_at=end.occurred_at if end is not None else superseded_at,
        evse_id=None if w.evse is None else w.evse.evse_id,
        connector_id=None if w.connector is None else w.connector.connector_id,
        id_token=None if w.token is None else w.token.id_token,
        id_token_type=None if w.token is None else w.token.id_token_type,
        authorization_status=None if w.token is None else w.token.authorization_status,
        stop_id_token=None if w.stop_token is None else w.stop_token.id_token,
        meter_start_wh=meter_start,
        meter_stop_wh=meter_stop,
        energy_wh=(None if meter_start is None or meter_stop is None else meter_stop - meter_start),
        stop_reason=(
            end.stopped_reason if end is not None else SUPERSEDED if superseded_at else None
        ),
        reservation_id=None if w.reservation is None else w.reservation.reservation_id,
        remote_start_id=None if w.remote_start is None else w.remote_start.remote_start_id,
        charging_state=None if w.charging_state is None else w.charging_state.charging_state,
        trigger_reason=None if w.trigger is None else w.trigger.trigger_reason,
        number_of_phases=None if w.phases is None else w.phases.number_of_phases,
        cable_max_current=None if w.cable is None else w.cable.cable_max_current,
        time_spent_charging_s=None if w.time_spent is None else w.time_spent.time_spent_charging_s,
        offline=w.offline is not None,
        last_seq_no=highest,
        seq_gaps=None if highest is None else highest + 1 - numbered,
    )


def _meter(w: _Winners) -> tuple[float | None, float | None]:
    """Meter start and stop (the stop only once the transaction has ended)."""
    start, end = w.start, w.end
    if w.explicit_meter is not None:
        return (
            None if start is None else start.meter_start_wh,
            None if end is None else end.meter_stop_wh,
        )
    if w.earliest_reading is None or w.latest_reading is None:
        return None, None
    first, last = _first_reading(w.earliest_reading), _last_reading(w.latest_reading)
    if end is None:
        return first[1], None
    # Ended, but readings of one moment only (the start's events are still on the way):
    # that moment is the end, the start is not known yet.
    return (first[1] if first[0] < last[0] else None), last[1]


def _first_reading(e: EventFacts) -> tuple[datetime, float]:
    assert e.energy_first_at is not None
    assert e.energy_first_wh is not None
    return e.energy_first_at, e.energy_first_wh


def _last_reading(e: EventFacts) -> tuple[datetime, float]:
    assert e.energy_last_at is not None
    assert e.energy_last_wh is not None
    return e.energy_last_at, e.energy_last_wh


def _order(fact: EventFacts) -> tuple[int, int, int]:
    if fact.seq_no is None:
        return (1, 0, fact.arrival)
    return (0, fact.seq_no, fact.arrival)
