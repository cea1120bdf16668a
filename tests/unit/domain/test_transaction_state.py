"""A transaction is a pure function of the set of its events, whatever their arrival order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chargegrid.domain.model import (
    ENERGY_IMPORT,
    MeterSample,
    TransactionEvent,
    TransactionEventKind,
    TransactionStatus,
    energy_register_wh,
)
from chargegrid.domain.transaction_state import (
    STOP_AUTHORIZED,
    SUPERSEDED,
    EventFacts,
    TransactionState,
    _Winners,
    _winners,
    decisive_events,
    facts_of,
    summarize,
    summarize_with_decisive,
    unique_events,
)

START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
STARTED, UPDATED, ENDED = (
    TransactionEventKind.STARTED,
    TransactionEventKind.UPDATED,
    TransactionEventKind.ENDED,
)


def reading(at: datetime, value: float, unit: str = "Wh", **extra: str) -> MeterSample:
    return MeterSample(sampled_at=at, measurand=ENERGY_IMPORT, value=value, unit=unit, **extra)


def event(
    kind: TransactionEventKind, seq_no: int | None, minute: int, **fields: object
) -> TransactionEvent:
    return TransactionEvent(
        kind=kind,
        charger_id="CP",
        occurred_at=START + timedelta(minutes=minute),
        transaction_id="TX",
        seq_no=seq_no,
        **fields,  # type: ignore[arg-type]
    )


def state_after(
    arrivals: Sequence[TransactionEvent], *, superseded_at: datetime | None = None
) -> TransactionState:
    """What the platform derives after these arrivals (repeats of a number are dropped)."""
    facts = [
        facts_of(e, arrival=i, authorization_status="Accepted") for i, e in enumerate(arrivals)
    ]
    return summarize(unique_events(facts), superseded_at=superseded_at)


@st.composite
def sessions(draw: st.DrawFn) -> list[TransactionEvent]:
    """A charger's report of one session: Started, some Updated, Ended, numbered from 0."""
    updates = draw(st.integers(0, 6))
    increments = draw(st.lists(st.integers(0, 5000), min_size=updates + 1, max_size=updates + 1))
    begin = draw(st.integers(0, 10**6))
    states = ["EVConnected", "Charging", "SuspendedEV", "SuspendedEVSE", "Idle"]
    events = [
        event(
            STARTED,
            0,
            0,
            evse_id=1,
            connector_id=draw(st.sampled_from([1, 2])),
            id_token="TAG",
            id_token_type="ISO14443",
            samples=(reading(START, begin),),
            trigger_reason="Authorized",
            charging_state="EVConnected",
            reservation_id=draw(st.none() | st.integers(1, 99)),
            remote_start_id=draw(st.none() | st.integers(1, 99)),
        )
    ]
    meter = float(begin)
    for n in range(1, updates + 1):
        meter += increments[n - 1]
        unit = draw(st.sampled_from(["Wh", "kWh"]))
        value = meter / 1000 if unit == "kWh" else meter
        events.append(
            event(
                UPDATED,
                n,
                n * 5,
                samples=(reading(START + timedelta(minutes=n * 5), value, unit),),
                trigger_reason="MeterValuePeriodic",
                charging_state=draw(st.sampled_from(states)),
                number_of_phases=draw(st.none() | st.sampled_from([1, 3])),
                offline=draw(st.booleans()),
            )
        )
    meter += increments[-1]
    end_minute = (updates + 1) * 5
    events.append(
        event(
            ENDED,
            updates + 1,
            end_minute,
            id_token=draw(st.none() | st.just("TAG")),
            id_token_type="ISO14443",
            samples=(reading(START + timedelta(minutes=end_minute), meter),),
            trigger_reason="EVCommunicationLost",
            stopped_reason=draw(st.sampled_from(["EVDisconnected", "Local", "Remote"])),
        )
    )
    return events


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[TransactionEvent], list[TransactionEvent]]:
    """A session, and the same events delivered shuffled with some of them repeated."""
    session = draw(sessions())
    repeats = draw(st.lists(st.sampled_from(session), max_size=len(session) * 2))
    return session, draw(st.permutations([*session, *repeats]))


@given(deliveries())
def test_any_order_and_any_repeats_give_the_same_transaction(
    delivery: tuple[list[TransactionEvent], list[TransactionEvent]],
) -> None:
    session, arrivals = delivery
    assert state_after(arrivals) == state_after(session)


@given(deliveries(), st.data())
def test_the_decisive_events_decide_like_all_of_them(
    delivery: tuple[list[TransactionEvent], list[TransactionEvent]], data: st.DataObject
) -> None:
    """Any set between the decisive events and all of them gives the same state."""
    _, arrivals = delivery
    facts = unique_events(
        facts_of(e, arrival=i, authorization_status="Accepted") for i, e in enumerate(arrivals)
    )
    numbered = len({f.seq_no for f in facts})
    decisive = decisive_events(facts)
    assert len(decisive) <= 18
    extra = data.draw(st.lists(st.sampled_from(facts)))
    between = list({f.arrival: f for f in [*decisive, *extra]}.values())
    assert summarize(between, numbered=numbered) == summarize(facts)


@given(deliveries())
def test_keeping_only_the_decisive_events_as_they_arrive(
    delivery: tuple[list[TransactionEvent], list[TransactionEvent]],
) -> None:
    """What a store does: add the new event, re-decide, forget the others."""
    session, arrivals = delivery
    kept: list[EventFacts] = []
    seen: set[int | None] = set()
    for arrival, e in enumerate(arrivals):
        if e.seq_no in seen:
            continue  # the unique constraint refuses a repeat
        seen.add(e.seq_no)
        fact = facts_of(e, arrival=arrival, authorization_status="Accepted")
        kept = decisive_events([*kept, fact])
        state = summarize(kept, numbered=len(seen))
    assert state == state_after(session)


@given(deliveries(), st.booleans())
def test_a_stand_in_arrival_after_every_other_decides_like_the_real_one(
    delivery: tuple[list[TransactionEvent], list[TransactionEvent]], numbered: bool
) -> None:
    """A store decides before the new event has its arrival: with a stand-in that comes
    after every event it holds, state and decisive events are those of the real one
    (for numbered events and, where the arrival decides the order, unnumbered ones)."""
    _, arrivals = delivery
    if not numbered:
        arrivals = [replace(e, seq_no=None) for e in arrivals]
    stand_in = 2**63 - 1
    kept: list[EventFacts] = []
    seen: set[int] = set()
    for arrival, e in enumerate(arrivals):
        if e.seq_no is not None:
            if e.seq_no in seen:
                continue  # the unique constraint refuses a repeat
            seen.add(e.seq_no)
        real = facts_of(e, arrival=arrival, authorization_status="Accepted")
        state, decisive = summarize_with_decisive(
            [*kept, replace(real, arrival=stand_in)], numbered=len(seen)
        )
        expected = [*kept, real]
        assert state == summarize(expected, numbered=len(seen))
        assert {arrival if f.arrival == stand_in else f.arrival for f in decisive} == {
            f.arrival for f in decisive_events(expected)
        }
        kept = decisive_events(expected)


@given(sessions())
def test_a_whole_session_gives_what_the_charger_measured(session: list[TransactionEvent]) -> None:
    state = state_after(session)
    first, last = session[0], session[-1]
    begin = energy_register_wh(first.samples[0])
    end = energy_register_wh(last.samples[0])
    assert begin is not None
    assert end is not None
    assert state.status is TransactionStatus.COMPLETED
    assert state.started_at == first.occurred_at
    assert state.stopped_at == last.occurred_at
    assert state.meter_start_wh == begin
    assert state.meter_stop_wh == end
    assert state.energy_wh == end - begin
    assert state.stop_reason == last.stopped_reason
    assert (state.evse_id, state.connector_id) == (1, first.connector_id)
    assert (state.id_token, state.id_token_type) == ("TAG", "ISO14443")
    assert state.authorization_status == "Accepted"
    assert state.reservation_id == first.reservation_id
    assert state.remote_start_id == first.remote_start_id
    assert state.seq_gaps == 0
    assert state.last_seq_no == len(session) - 1
    assert state.offline == any(e.offline for e in session)
    charging_states = [e.charging_state for e in session if e.charging_state is not None]
    assert state.charging_state == charging_states[-1]
    assert state.trigger_reason == "EVCommunicationLost"


@given(sessions(), st.data())
def test_missing_numbers_are_counted(session: list[TransactionEvent], data: st.DataObject) -> None:
    inner = list(range(1, len(session) - 1))  # keep the first and the last
    withheld = set(data.draw(st.lists(st.sampled_from(inner), unique=True)) if inner else [])
    received = [e for e in session if e.seq_no not in withheld]
    state = state_after(data.draw(st.permutations(received)))
    assert state.seq_gaps == len(withheld)
    assert state.last_seq_no == len(session) - 1
    # The first and last readings arrived: the energy is still right.
    assert state.energy_wh == state_after(session).energy_wh


def test_the_end_before_the_start_completes_the_transaction_and_the_start_fills_it_in() -> None:
    started = event(STARTED, 0, 0, evse_id=2, id_token="TAG", samples=(reading(START, 1000),))
    ended = event(
        ENDED,
        1,
        30,
        stopped_reason="EVDisconnected",
        samples=(reading(START + timedelta(minutes=30), 4.5, "kWh"),),
    )
    alone = state_after([ended])
    assert alone.status is TransactionStatus.COMPLETED
    assert alone.stop_reason == "EVDisconnected"
    assert alone.meter_stop_wh == 4500
    # Only the end's moment is known: no start time, no start reading, no energy yet.
    assert (alone.started_at, alone.meter_start_wh, alone.energy_wh) == (None, None, None)
    assert alone.seq_gaps == 1

    both = state_after([ended, started])
    assert both == state_after([started, ended])
    assert both.started_at == START
    assert both.evse_id == 2
    assert (both.meter_start_wh, both.meter_stop_wh, both.energy_wh) == (1000, 4500, 3500)
    assert both.seq_gaps == 0


def test_explicit_meter_values_win_and_the_first_unnumbered_end_counts() -> None:
    """OCPP 1.6: start and stop state their meter; a retried stop changes nothing."""
    start = event(STARTED, None, 0, evse_id=1, id_token="TAG", meter_start_wh=500)
    update = event(UPDATED, None, 10, samples=(reading(START + timedelta(minutes=10), 99999),))
    stop = event(ENDED, None, 60, meter_stop_wh=2500, stopped_reason="Local", id_token="TAG")
    retry = event(ENDED, None, 61, meter_stop_wh=2600, stopped_reason="Other")
    state = state_after([start, update, stop, retry])
    assert (state.meter_start_wh, state.meter_stop_wh, state.energy_wh) == (500, 2500, 2000)
    assert state.stopped_at == START + timedelta(minutes=60)
    assert state.stop_reason == "Local"
    assert state.stop_id_token == "TAG"
    assert (state.seq_gaps, state.last_seq_no) == (None, None)


def test_superseded_until_the_real_end_arrives() -> None:
    start = event(STARTED, 0, 0, evse_id=1, samples=(reading(START, 10),))
    later = START + timedelta(hours=2)
    superseded = state_after([start], superseded_at=later)
    assert superseded.status is TransactionStatus.COMPLETED
    assert (superseded.stopped_at, superseded.stop_reason) == (later, SUPERSEDED)
    assert superseded.meter_stop_wh is None
    end = event(ENDED, 1, 50, stopped_reason="Local", samples=(reading(START, 10),))
    ended = state_after([start, end], superseded_at=later)
    assert (ended.stopped_at, ended.stop_reason) == (end.occurred_at, "Local")


def test_start_and_stop_tokens() -> None:
    """The start token is the first one presented; the stop token the one that stopped it."""
    plugged = event(STARTED, 0, 0, evse_id=1, trigger_reason="CablePluggedIn")
    authorized = event(UPDATED, 1, 1, id_token="START", trigger_reason="Authorized")
    stopped = event(UPDATED, 2, 9, id_token="STOP", trigger_reason="StopAuthorized")
    ended = event(ENDED, 3, 10, stopped_reason="Local")
    state = state_after([ended, stopped, authorized, plugged])
    assert (state.id_token, state.stop_id_token) == ("START", "STOP")
    assert state.trigger_reason == "StopAuthorized"  # the last event that gave one... by number
    assert state_after([plugged, ended]).id_token is None


def test_energy_register_readings() -> None:
    at = START
    assert energy_register_wh(reading(at, 2.5, "kWh")) == 2500
    assert energy_register_wh(reading(at, 2500, "Wh")) == 2500
    assert energy_register_wh(reading(at, 2500, "varh")) is None
    assert energy_register_wh(reading(at, 800, "Wh", phase="L1")) is None
    other = MeterSample(sampled_at=at, measurand="Power.Active.Import", value=7.0, unit="kW")
    assert energy_register_wh(other) is None
    unsigned = MeterSample(sampled_at=at, measurand=ENERGY_IMPORT, value=None, signed_data="x")
    assert energy_register_wh(unsigned) is None


def test_repeats_of_a_number_keep_the_first_arrival() -> None:
    one = EventFacts(kind=UPDATED, occurred_at=START, arrival=2, seq_no=1, charging_state="A")
    two = EventFacts(kind=UPDATED, occurred_at=START, arrival=1, seq_no=1, charging_state="B")
    unnumbered = EventFacts(kind=UPDATED, occurred_at=START, arrival=0)
    assert unique_events([one, two, unnumbered]) == [two, unnumbered]


def _rules(facts: Sequence[EventFacts]) -> _Winners:
    """Each rule of the module's docstring, stated on its own."""

    def first(keep: Callable[[EventFacts], object]) -> EventFacts | None:
        return next((e for e in events if keep(e)), None)

    def last(keep: Callable[[EventFacts], object]) -> EventFacts | None:
        return next((e for e in reversed(events) if keep(e)), None)

    def first_reading(e: EventFacts) -> tuple[object, ...]:
        return (e.energy_first_at, e.energy_first_wh)

    def last_reading(e: EventFacts) -> tuple[object, ...]:
        return (e.energy_last_at, e.energy_last_wh)

    events = sorted(facts, key=lambda e: (e.seq_no is None, e.seq_no or 0, e.arrival))
    end = first(lambda e: e.kind is ENDED)
    with_first = [e for e in events if e.energy_first_at is not None]
    with_last = [e for e in events if e.energy_last_at is not None]
    return _Winners(
        start=first(lambda e: e.kind is STARTED),
        end=end,
        token=first(lambda e: e.id_token and e.trigger_reason != STOP_AUTHORIZED)
        or first(lambda e: e.id_token),
        stop_token=first(lambda e: e.id_token and e.trigger_reason == STOP_AUTHORIZED)
        or (end if end is not None and end.id_token else None),
        evse=first(lambda e: e.evse_id is not None),
        connector=first(lambda e: e.connector_id is not None),
        reservation=first(lambda e: e.reservation_id is not None),
        remote_start=first(lambda e: e.remote_start_id is not None),
        charging_state=last(lambda e: e.charging_state is not None),
        trigger=last(lambda e: e.trigger_reason is not None),
        phases=last(lambda e: e.number_of_phases is not None),
        cable=last(lambda e: e.cable_max_current is not None),
        time_spent=last(lambda e: e.time_spent_charging_s is not None),
        offline=first(lambda e: e.offline),
        explicit_meter=first(lambda e: e.meter_start_wh is not None or e.meter_stop_wh is not None),
        earliest_reading=min(with_first, key=first_reading, default=None),
        latest_reading=max(with_last, key=last_reading, default=None),
        highest_number=last(lambda e: e.seq_no is not None),
    )


@st.composite
def any_facts(draw: st.DrawFn) -> list[EventFacts]:
    """Events of any kind, each field often unset, values from a few (ties are common)."""

    def maybe(values: st.SearchStrategy[Any]) -> Any:
        return draw(st.none() | values)

    moments = st.integers(0, 3).map(lambda m: START + timedelta(minutes=m))
    facts = []
    for arrival in range(draw(st.integers(0, 8))):
        first_at, last_at = maybe(moments), maybe(moments)
        facts.append(
            EventFacts(
                kind=draw(st.sampled_from([STARTED, UPDATED, ENDED])),
                occurred_at=draw(moments),
                arrival=arrival,
                seq_no=maybe(st.integers(0, 3)),
                evse_id=maybe(st.integers(1, 2)),
                connector_id=maybe(st.integers(1, 2)),
                id_token=maybe(st.sampled_from(["A", "B"])),
                trigger_reason=maybe(st.sampled_from([STOP_AUTHORIZED, "Authorized"])),
                charging_state=maybe(st.sampled_from(["Charging", "Idle"])),
                meter_start_wh=maybe(st.just(1.0)),
                meter_stop_wh=maybe(st.just(2.0)),
                energy_first_at=first_at,
                energy_first_wh=None if first_at is None else draw(st.sampled_from([1.0, 2.0])),
                energy_last_at=last_at,
                energy_last_wh=None if last_at is None else draw(st.sampled_from([1.0, 2.0])),
                offline=draw(st.booleans()),
                number_of_phases=maybe(st.sampled_from([1, 3])),
                cable_max_current=maybe(st.sampled_from([16, 32])),
                reservation_id=maybe(st.integers(1, 2)),
                remote_start_id=maybe(st.integers(1, 2)),
                time_spent_charging_s=maybe(st.integers(0, 2)),
            )
        )
    return draw(st.permutations(facts))


@given(any_facts())
def test_each_rule_picks_the_event_it_states(facts: list[EventFacts]) -> None:
    assert _winners(facts) == _rules(facts)
