"""What a transaction's charger recorded during it, read in one statement: its meter
samples, the charging states reported with its events, and its EVSE's statuses.

A CDR and a running cost are worked out from these (``chargegrid.domain.charging_periods``);
every ended transaction reads them once, so they come in one round trip: rows of four
parts, each part's columns in the same places (a state's name where a sample's
measurand is).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Text,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.charging_periods import StateChange
from chargegrid.domain.model import MeterSample
from chargegrid.storage.direct import DirectStatement
from chargegrid.storage.tables import meter_samples, status_changes, transaction_events
from chargegrid.storage.types import UTCDateTime
from chargegrid.values import immutable

__all__ = ["RecordedActivity", "recorded_activity"]

_SAMPLE, _CHARGING_STATE, _STATUS_BEFORE, _STATUS_DURING = range(4)
_LAST = 2**31 - 1  # an event without sequence number comes after those with one
_COLUMNS = (
    *("part", "at", "rank", "position", "name"),  # every part's
    *("value", "unit", "phase", "context", "location", "signed_data"),  # a sample's
)
_NULLS = (Float, Text, Text, Text, Text, Text)  # of a state's row, from "value" on


def _number(value: int) -> Any:
    return literal_column(str(value), Integer)


def _labelled(*columns: Any) -> list[Any]:
    """A part's columns named as the union's, NULL (of the right type) where it has none."""
    filled = [*columns, *(cast(null(), kind) for kind in _NULLS[len(columns) - 5 :])]
    return [column.label(name) for column, name in zip(filled, _COLUMNS, strict=True)]


@immutable
class RecordedActivity:
    """A transaction's samples and states, each in the order it happened: the charging
    states its events reported, or when there are none, its EVSE's statuses."""

    samples: tuple[MeterSample, ...]
    charging_states: tuple[StateChange, ...]
    evse_states: tuple[StateChange, ...]  # none beside charging states

    @property
    def states(self) -> tuple[StateChange, ...]:
        """Whether the EV charged: the charging states the transaction's events reported
        when there are any, else the statuses of its EVSE."""
        return self.charging_states or self.evse_states


def _statement() -> DirectStatement:
    pk: Any = bindparam("transaction_pk")
    # The start: the transaction's, else its first sample's, else the end.
    start = func.coalesce(
        bindparam("started_at", type_=UTCDateTime()),
        select(func.min(meter_samples.c.sampled_at))
        .where(meter_samples.c.transaction_pk == pk)
        .scalar_subquery(),
        bindparam("until", type_=UTCDateTime()),
    )
    samples = select(
        *_labelled(
            _number(_SAMPLE),
            meter_samples.c.sampled_at,
            _number(0),
            meter_samples.c.id,
            meter_samples.c.measurand,
            meter_samples.c.value,
            meter_samples.c.unit,
            meter_samples.c.phase,
            meter_samples.c.context,
            meter_samples.c.location,
            meter_samples.c.signed_data,
        )
    ).where(meter_samples.c.transaction_pk == pk)
    reports_charging = (transaction_events.c.transaction_pk == pk) & (
        transaction_events.c.charging_state.is_not(None)
    )
    charging = select(
        *_labelled(
            _number(_CHARGING_STATE),
            transaction_events.c.occurred_at,
            func.coalesce(transaction_events.c.seq_no, _number(_LAST)),
            transaction_events.c.id,
            transaction_events.c.charging_state,
        )
    ).where(reports_charging)
    # The EVSE's statuses only stand in for charging states: none are read beside them.
    on_evse = (
        (status_changes.c.charger_id == bindparam("charger_id"))
        & (status_changes.c.evse_id == bindparam("evse_id"))
        & ~exists().where(reports_charging)
    )

    def statuses(part: int) -> Any:
        return select(
            *_labelled(
                _number(part),
                status_changes.c.occurred_at,
                _number(0),
                status_changes.c.id,
                status_changes.c.status,
            )
        )

    # The status in force at the start: the last reported at or before it.
    before = (
        statuses(_STATUS_BEFORE)
        .where(on_evse & (status_changes.c.occurred_at <= start))
        .order_by(status_changes.c.occurred_at.desc(), status_changes.c.id.desc())
        .limit(1)
        .subquery()
    )
    during = statuses(_STATUS_DURING).where(
        on_evse
        & (status_changes.c.occurred_at >= start)
        & (status_changes.c.occurred_at <= bindparam("until", type_=UTCDateTime()))
    )
    return DirectStatement(
        union_all(samples, charging, select(before), during).order_by(
            text("part"), text("at"), text("rank"), text("position")
        )
    )


_ACTIVITY = _statement()


async def recorded_activity(
    conn: AsyncConnection,
    transaction_pk: int,
    charger_id: str,
    evse_id: int | None,
    started_at: datetime | None,
    until: datetime,
) -> RecordedActivity:
    """The transaction's samples and charging states, or without charging states its
    EVSE's statuses from its start (``started_at``, else its first sample, else
    ``until``) to ``until``: the one in force at the start, then each reported after it
    (one reported at the start exactly may come twice: the later one wins, as it would
    anyway)."""
    values: dict[str, Any] = {
        "transaction_pk": transaction_pk,
        "charger_id": charger_id,
        "evse_id": evse_id,
        "started_at": started_at,
        "until": until,
    }
    samples: list[MeterSample] = []
    charging: list[StateChange] = []
    statuses: list[StateChange] = []
    for row in await _ACTIVITY.records(conn, values):
        part, at, name = row[0], row[1], row[4]
        if part == _SAMPLE:
            samples.append(
                MeterSample(
                    sampled_at=at,
                    measurand=name,
                    value=row[5],
                    unit=row[6],
                    phase=row[7],
                    context=row[8],
                    location=row[9],
                    signed_data=row[10],
                )
            )
        else:
            (charging if part == _CHARGING_STATE else statuses).append(StateChange(at, name))
    return RecordedActivity(tuple(samples), tuple(charging), tuple(statuses))
