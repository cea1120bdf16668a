"""The parts of a simulated station: its EVSEs, reservations, jobs, and how the drivers
and the hardware of a fleet behave."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from chargegrid.simulator.model import ConnectorStatus, Fault, Reading, Transaction
from chargegrid.simulator.physics import Ev, EvseSpec, Meter
from chargegrid.values import immutable

DEFAULT_TOKENS = ("SIM-TOKEN-1", "SIM-TOKEN-2", "SIM-TOKEN-3")


@immutable
class Behaviour:
    """How the drivers and the hardware of a fleet behave (shared by its chargers)."""

    session_rate: float = 1.0  # sessions starting per charger per hour (Poisson)
    duration_s: tuple[float, float] = (20 * 60.0, 2 * 3600.0)  # plugged-in time, uniform
    id_tokens: tuple[str, ...] = DEFAULT_TOKENS
    token_type: str = "ISO14443"
    fault_rate: float = 0.01  # faults per EVSE per hour
    fault_duration_s: tuple[float, float] = (60.0, 600.0)
    unplug_delay_s: tuple[float, float] = (2.0, 20.0)  # after a session ends at the charger


@dataclass(slots=True)
class Reservation:
    id: int
    id_token: str
    expires_at: float


@dataclass(slots=True)
class Job:
    """A firmware update or a log upload: statuses to report at given times."""

    firmware: bool
    request_id: int | None
    flag: bool  # firmware: signed update; log: OCPP 1.6 diagnostics
    steps: list[tuple[float, str]] = field(default_factory=list)


class Evse:
    """One EVSE with one connector, its meter and what is plugged into it."""

    __slots__ = (
        "authorizing",
        "change_at",
        "depart_at",
        "ev",
        "fault",
        "fault_until",
        "id",
        "meter",
        "operative",
        "reported",
        "reservation",
        "sample_at",
        "spec",
        "status",
        "token",
        "token_type",
        "tx",
        "unplug_at",
    )

    def __init__(self, evse_id: int, spec: EvseSpec, meter: Meter) -> None:
        self.id = evse_id
        self.spec = spec
        self.meter = meter
        self.status = ConnectorStatus.AVAILABLE
        self.reported: str | None = None  # the status the CSMS was told, in its words
        self.operative = True
        self.fault: Fault | None = None
        self.fault_until: float | None = None
        self.ev: Ev | None = None
        self.token: str | None = None
        self.token_type = ""
        self.authorizing = False
        self.tx: Transaction | None = None
        self.depart_at: float | None = None  # the driver comes back
        self.unplug_at: float | None = None  # the cable is pulled after a stop
        self.sample_at: float | None = None
        self.change_at: float | None = None  # the power may change
        self.reservation: Reservation | None = None

    def reading(self) -> Reading:
        return self.meter.reading(self.spec, self.ev)

    def timers(self) -> tuple[float | None, ...]:
        reservation = None if self.reservation is None else self.reservation.expires_at
        return (
            self.fault_until,
            self.depart_at,
            self.unplug_at,
            self.sample_at,
            self.change_at,
            reservation,
        )


class TokenPool:
    """The id tokens of a fleet's drivers: a driver charges at one place at a time, so a
    token in use is not presented elsewhere (the CSMS would answer ConcurrentTx)."""

    __slots__ = ("_free", "_index", "_known")

    def __init__(self, tokens: Iterable[str]) -> None:
        self._known = frozenset(tokens)
        self._free = sorted(self._known)
        self._index = {token: n for n, token in enumerate(self._free)}

    def __len__(self) -> int:
        return len(self._free)

    def take(self, rng: random.Random) -> str | None:
        """A random free token, now in use; None if every driver is charging."""
        if not self._free:
            return None
        token = self._free[rng.randrange(len(self._free))]
        self.hold(token)
        return token

    def hold(self, token: str) -> None:
        """Mark a token in use (tokens not of the fleet are not tracked)."""
        n = self._index.pop(token, None)
        if n is None:
            return
        last = self._free.pop()
        if n < len(self._free):
            self._free[n] = last
            self._index[last] = n

    def release(self, token: str) -> None:
        if token in self._known and token not in self._index:
            self._index[token] = len(self._free)
            self._free.append(token)
