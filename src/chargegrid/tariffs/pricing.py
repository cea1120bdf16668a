"""Pricing a session with a tariff: the CDR price fields (mod_tariffs, mod_cdrs of 2.2.1).

- Per dimension, the first element (in list order) with a component for it whose
  restrictions match is active; periods are cut wherever that changes (see `periods`).
- Reservation periods are priced by reservation elements only (TIME on the
  RESERVATION_TIME dimension), other periods by the elements without `reservation`. When
  the reservation expired, RESERVATION_EXPIRES elements come before RESERVATION ones.
- FLAT is charged once for the charging session and once for the reservation: the first
  FLAT component active in each. A FLAT first active while parking is a parking cost.
- ENERGY bills energy charged (a period feeding energy back bills none); TIME and
  PARKING_TIME bill their durations.
- step_size applies once per session, to the total of a dimension, in the last period
  where it was billed: for ENERGY; for TIME and PARKING_TIME combined, only to the one
  billed last (charging followed by parking rounds the parking time only); and for
  reservation time. Durations are first taken to the whole second: hours with 4 decimals
  cannot say 10 minutes exactly.
- VAT is per component; a component without `vat` makes amounts including VAT unknown
  (None), unless it costs nothing.
- min_price and max_price bound the total excluding and including VAT separately; a bound
  without incl_vat that changes the total leaves the total including VAT unknown.
- Everything is exact until the reported figures are rounded (see `arithmetic`).
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import math
from collections.abc import Sequence
from fractions import Fraction
from zoneinfo import ZoneInfo

import msgspec

from chargegrid.tariffs.arithmetic import ocpi_number
from chargegrid.tariffs.cdr import (
    AMOUNTS,
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    ComponentCost,
    PeriodCosts,
    PricedSession,
    SessionTimeline,
)
from chargegrid.tariffs.errors import OcpiDataError, TariffError
from chargegrid.tariffs.model import (
    Price,
    PriceComponent,
    ReservationRestrictionType,
    Tariff,
    TariffDimensionType,
)
from chargegrid.tariffs.periods import Marks, Span, charging_start, spans
from chargegrid.tariffs.restrictions import Moment, Rule

__all__ = ["load_time_zone", "price_session"]

T = TariffDimensionType
D = CdrDimensionType
_SECONDS_PER_HOUR = 3600
_WH_PER_KWH = 1000


class _Cost(enum.Enum):
    FIXED = "fixed"
    ENERGY = "energy"
    TIME = "time"
    PARKING = "parking"
    RESERVATION = "reservation"


class _Step(enum.Enum):
    """Billed amounts that step_size rounds together, once per session."""

    ENERGY = "energy"
    TIME = "time"  # TIME and PARKING_TIME combined
    RESERVATION = "reservation"


class _Part(msgspec.Struct, kw_only=True):
    """A stretch of one period with the same active components."""

    span: Span
    low: Fraction
    high: Fraction
    active: dict[TariffDimensionType, int]
    flat: int | None = None

    @property
    def share(self) -> Fraction:
        return self.span.share(self.low, self.high)


class _Line(msgspec.Struct, kw_only=True):
    """A component billed in a part."""

    part: int
    element: int
    component: PriceComponent
    volume: Fraction
    cost: _Cost
    step: _Step | None


class _Sum(msgspec.Struct, kw_only=True):
    excl_vat: Fraction = Fraction(0)
    incl_vat: Fraction | None = Fraction(0)

    def add(self, excl_vat: Fraction, incl_vat: Fraction | None) -> None:
        self.excl_vat += excl_vat
        self.incl_vat = (
            None if self.incl_vat is None or incl_vat is None else self.incl_vat + incl_vat
        )


def load_time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; an `OcpiDataError` for ``time_zone`` when there is none."""
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        raise OcpiDataError("time_zone", f"{name!r} is not an IANA time zone") from None


def price_session(
    tariff: Tariff, time_zone: ZoneInfo | str, timeline: SessionTimeline
) -> PricedSession:
    """The CDR price fields of `timeline` under `tariff`, at a location in `time_zone`.

    The tariff must be valid when the session starts (a TariffError otherwise); a session
    still running is priced so far by ending its timeline now.
    """
    zone = load_time_zone(time_zone) if isinstance(time_zone, str) else time_zone
    _check_valid(tariff, timeline.start_date_time)
    parts = _parts(tariff, zone, timeline)
    lines = _lines(tariff, parts)
    _apply_step_sizes(lines)
    return _priced(tariff, timeline, parts, lines)


def _iso(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _check_valid(tariff: Tariff, start: dt.datetime) -> None:
    if tariff.start_date_time is not None and start < tariff.start_date_time:
        raise TariffError(
            "start_date_time",
            f"tariff {tariff.id} applies from {_iso(tariff.start_date_time)}, "
            f"after the session started at {_iso(start)}",
        )
    if tariff.end_date_time is not None and start > tariff.end_date_time:
        raise TariffError(
            "end_date_time",
            f"tariff {tariff.id} applied until {_iso(tariff.end_date_time)}, "
            f"before the session started at {_iso(start)}",
        )


def _orders(tariff: Tariff, expired: bool) -> tuple[list[int], list[int]]:
    """Element indexes in order of precedence: for the session, for the reservation."""

    def kind(index: int) -> ReservationRestrictionType | None:
        restrictions = tariff.elements[index].restrictions
        return None if restrictions is None else restrictions.reservation

    indexes = range(len(tariff.elements))
    session = [i for i in indexes if kind(i) is None]
    reserved = [i for i in indexes if kind(i) is ReservationRestrictionType.RESERVATION]
    expires = [i for i in indexes if kind(i) is ReservationRestrictionType.RESERVATION_EXPIRES]
    return session, ([*expires, *reserved] if expired else reserved)


def _billed_dimensions(span: Span) -> tuple[TariffDimensionType, ...]:
    """Dimensions other than FLAT with something to bill in the span."""
    if span.reservation:
        return (T.TIME,) if span.amount(D.RESERVATION_TIME) else ()
    present = ((T.ENERGY, D.ENERGY), (T.TIME, D.TIME), (T.PARKING_TIME, D.PARKING_TIME))
    return tuple(tariff_dim for tariff_dim, cdr_dim in present if span.amount(cdr_dim))


def _parts(tariff: Tariff, zone: ZoneInfo, timeline: SessionTimeline) -> list[_Part]:
    rules = [Rule.of(element.restrictions) for element in tariff.elements]
    marks = Marks.of(rules)
    session_order, reservation_order = _orders(tariff, timeline.expired_reservation)

    def first(order: Sequence[int], dimension: TariffDimensionType, moment: Moment) -> int | None:
        for index in order:
            element = tariff.elements[index]
            if element.component(dimension) is not None and rules[index].matches(moment):
                return index
        return None

    flat_charged = {True: False, False: False}  # by "is reservation"
    parts: list[_Part] = []
    for span in spans(timeline):
        order = reservation_order if span.reservation else session_order
        dimensions = _billed_dimensions(span)
        offsets = [Fraction(0), *span.cuts(zone, marks), Fraction(span.length)]
        current: _Part | None = None
        for low, high in itertools.pairwise(offsets):
            moment = span.moment(low, zone)
            active = {d: i for d in dimensions if (i := first(order, d, moment)) is not None}
            flat = None if flat_charged[span.reservation] else first(order, T.FLAT, moment)
            if current is not None and current.active == active and flat is None:
                current.high = high
                continue
            current = _Part(span=span, low=low, high=high, active=active, flat=flat)
            parts.append(current)
            flat_charged[span.reservation] |= flat is not None
    return parts


def _parking_only(span: Span) -> bool:
    return (
        bool(span.amount(D.PARKING_TIME)) and not span.amount(D.TIME) and not span.amount(D.ENERGY)
    )


def _lines(tariff: Tariff, parts: Sequence[_Part]) -> list[_Line]:
    lines: list[_Line] = []

    def bill(n: int, dimension: TariffDimensionType, volume: Fraction, cost: _Cost) -> None:
        element = parts[n].flat if dimension is T.FLAT else parts[n].active.get(dimension)
        if element is None or not volume:
            return
        component = tariff.elements[element].component(dimension)
        assert component is not None
        step = None
        if dimension is T.ENERGY:
            step = _Step.ENERGY
        elif dimension in (T.TIME, T.PARKING_TIME):
            step = _Step.RESERVATION if cost is _Cost.RESERVATION else _Step.TIME
        lines.append(
            _Line(part=n, element=element, component=component, volume=volume, cost=cost, step=step)
        )

    for n, part in enumerate(parts):
        span, share = part.span, part.share
        if span.reservation:
            bill(n, T.FLAT, Fraction(1), _Cost.RESERVATION)
            bill(n, T.TIME, span.amount(D.RESERVATION_TIME) * share, _Cost.RESERVATION)
            continue
        bill(n, T.FLAT, Fraction(1), _Cost.PARKING if _parking_only(span) else _Cost.FIXED)
        bill(n, T.ENERGY, max(Fraction(0), span.amount(D.ENERGY) * share), _Cost.ENERGY)
        bill(n, T.TIME, span.amount(D.TIME) * share, _Cost.TIME)
        bill(n, T.PARKING_TIME, span.amount(D.PARKING_TIME) * share, _Cost.PARKING)
    return lines


def _apply_step_sizes(lines: Sequence[_Line]) -> None:
    """Round each step group's total up in its last line (mod_cdrs, step_size)."""
    for step in _Step:
        members = [line for line in lines if line.step is step]
        if not members or not members[-1].component.step_size:
            continue
        last = members[-1]  # of TIME and PARKING_TIME, only the one billed last rounds
        same = [line for line in members if line.component.type is last.component.type]
        size = last.component.step_size
        per_unit = _WH_PER_KWH if step is _Step.ENERGY else _SECONDS_PER_HOUR
        total = sum((line.volume for line in same), Fraction(0)) * per_unit
        basis = total if step is _Step.ENERGY else Fraction(_half_up(total))
        extra = math.ceil(basis / size) * size - total
        if extra > 0:
            last.volume += extra / per_unit


def _half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def _line_cost(line: _Line) -> tuple[Fraction, Fraction | None]:
    excl_vat = Fraction(line.component.price) * line.volume
    vat = line.component.vat
    if vat is None:
        return excl_vat, (excl_vat if not excl_vat else None)
    return excl_vat, excl_vat * (100 + Fraction(vat)) / 100


def _price(excl_vat: Fraction, incl_vat: Fraction | None) -> Price:
    return Price(
        excl_vat=ocpi_number(excl_vat),
        incl_vat=None if incl_vat is None else ocpi_number(incl_vat),
    )


def _bounded(tariff: Tariff, total: _Sum) -> _Sum:
    """The total within min_price and max_price (mod_tariffs, notes on the Tariff object)."""
    excl_vat, incl_vat = total.excl_vat, total.incl_vat
    if tariff.min_price is not None:
        low = tariff.min_price
        raised = excl_vat < low.excl_vat
        excl_vat = max(excl_vat, Fraction(low.excl_vat))
        if incl_vat is not None and low.incl_vat is not None:
            incl_vat = max(incl_vat, Fraction(low.incl_vat))
        elif raised:
            incl_vat = None
    if tariff.max_price is not None:
        high = tariff.max_price
        lowered = excl_vat > high.excl_vat
        excl_vat = min(excl_vat, Fraction(high.excl_vat))
        if incl_vat is not None and high.incl_vat is not None:
            incl_vat = min(incl_vat, Fraction(high.incl_vat))
        elif lowered:
            incl_vat = None
    return _Sum(excl_vat=excl_vat, incl_vat=incl_vat)


def _dimensions(span: Span, share: Fraction) -> tuple[CdrDimension, ...]:
    if share == 1:
        return span.period.dimensions
    return tuple(
        CdrDimension(type=d.type, volume=ocpi_number(Fraction(d.volume) * share))
        if d.type in AMOUNTS
        else d
        for d in span.period.dimensions
    )


def _session_total(timeline: SessionTimeline, dimension: CdrDimensionType) -> Fraction:
    """The sum of a dimension over the charging session's periods."""
    volumes = (period.volume(dimension) for period in timeline.charging_periods)
    return sum((Fraction(v) for v in volumes if v is not None), Fraction(0))


def _priced(
    tariff: Tariff, timeline: SessionTimeline, parts: Sequence[_Part], lines: Sequence[_Line]
) -> PricedSession:
    sums: dict[_Cost, _Sum] = {}
    total = _Sum()
    components: list[list[ComponentCost]] = [[] for _ in parts]
    for line in lines:
        excl_vat, incl_vat = _line_cost(line)
        sums.setdefault(line.cost, _Sum()).add(excl_vat, incl_vat)
        total.add(excl_vat, incl_vat)
        component = line.component
        components[line.part].append(
            ComponentCost(
                element=line.element,
                type=component.type,
                price=component.price,
                vat=component.vat,
                step_size=component.step_size,
                volume=ocpi_number(line.volume),
                cost=_price(excl_vat, incl_vat),
            )
        )

    def cost(kind: _Cost) -> Price | None:
        found = sums.get(kind)
        return None if found is None else _price(found.excl_vat, found.incl_vat)

    started = charging_start(timeline)
    duration = Fraction(0)
    if started is not None:
        duration = Fraction((timeline.end_date_time - started) // dt.timedelta(microseconds=1))
    bounded = _bounded(tariff, total)
    return PricedSession(
        currency=tariff.currency,
        total_cost=_price(bounded.excl_vat, bounded.incl_vat),
        total_fixed_cost=cost(_Cost.FIXED),
        total_energy=ocpi_number(_session_total(timeline, D.ENERGY)),
        total_energy_cost=cost(_Cost.ENERGY),
        total_time=ocpi_number(duration / (_SECONDS_PER_HOUR * 10**6)),
        total_time_cost=cost(_Cost.TIME),
        total_parking_time=ocpi_number(_session_total(timeline, D.PARKING_TIME)),
        total_parking_cost=cost(_Cost.PARKING),
        total_reservation_cost=cost(_Cost.RESERVATION),
        charging_periods=tuple(
            ChargingPeriod(
                start_date_time=part.span.at(part.low),
                dimensions=_dimensions(part.span, part.share),
                tariff_id=tariff.id,
            )
            for part in parts
        ),
        breakdown=tuple(
            PeriodCosts(
                start_date_time=part.span.at(part.low),
                end_date_time=part.span.at(part.high),
                components=tuple(found),
            )
            for part, found in zip(parts, components, strict=True)
        ),
    )
