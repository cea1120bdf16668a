"""A fleet of simulated chargers in one process, for ``chargegrid sim``, the demo and the
load benchmark.

    fleet = Fleet(FleetConfig(url="ws://127.0.0.1:9000/ocpp", count=100, version="mix"))
    await fleet.run(stop)          # until the event is set
    fleet.stats.snapshot()         # connected, booted, calls, errors, latency...
    fleet.ground_truth()           # every transaction with the energy it reported
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import field

from chargegrid.ocpp.versions import OcppVersion
from chargegrid.simulator.backoff import BackOff
from chargegrid.simulator.core import Adapter, ChargerCore, Stats
from chargegrid.simulator.evse import DEFAULT_TOKENS, Behaviour, TokenPool
from chargegrid.simulator.model import SessionRecord
from chargegrid.simulator.physics import SPECS
from chargegrid.simulator.runner import SimulatedCharger, Target
from chargegrid.simulator.station import Station
from chargegrid.values import immutable

logger = logging.getLogger(__name__)

VERSIONS = ("1.6", "2.0.1", "mix")


def adapter_for(version: OcppVersion) -> Adapter:
    if version is OcppVersion.V16:
        from chargegrid.simulator.v16 import ADAPTER as V16

        return V16
    from chargegrid.simulator.v201 import ADAPTER as V201

    return V201


@immutable
class FleetConfig:
    """What to simulate and where to connect it."""

    url: str
    count: int = 1
    version: str = "1.6"  # 1.6, 2.0.1 or mix (alternating, 1.6 first)
    id_prefix: str = "SIM"
    first: int = 1  # number of the first charger: ids are {id_prefix}-{n:05d}
    password: str | None = None
    tls_ca: str | None = None
    cert: str | None = None
    key: str | None = None
    meter_interval: float = 60.0
    session_rate: float = 1.0  # sessions per charger per hour
    session_duration: tuple[float, float] = (20 * 60.0, 2 * 3600.0)
    id_tokens: tuple[str, ...] = DEFAULT_TOKENS
    evses: tuple[int, int] = (1, 4)  # EVSEs per charger, from-to
    fault_rate: float = 0.01  # per EVSE per hour
    call_timeout: float = 30.0
    connect_rate: float = 200.0  # connections opened per second while the fleet starts
    backoff: BackOff = field(default_factory=BackOff)
    reboot_delay: float = 2.0
    organization: str | None = None  # O of the CSRs the chargers send
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"version must be one of {', '.join(VERSIONS)}, not {self.version!r}")
        if self.count < 0 or not 1 <= self.evses[0] <= self.evses[1]:
            raise ValueError("count must be 0 or more and evses a range of 1 or more")
        if not self.id_tokens:
            raise ValueError("at least one id token is needed")

    def charger_id(self, index: int) -> str:
        return f"{self.id_prefix}-{self.first + index:05d}"

    def version_of(self, index: int) -> OcppVersion:
        if self.version == "mix":
            return OcppVersion.V16 if index % 2 == 0 else OcppVersion.V201
        return OcppVersion(self.version)

    def behaviour(self) -> Behaviour:
        return Behaviour(
            session_rate=self.session_rate,
            duration_s=self.session_duration,
            id_tokens=self.id_tokens,
            fault_rate=self.fault_rate,
        )

    def target(self) -> Target:
        return Target(
            url=self.url,
            password=self.password,
            tls_ca=self.tls_ca,
            cert=self.cert,
            key=self.key,
            reboot_delay=self.reboot_delay,
        )


class Fleet:
    """N simulated chargers sharing one event loop, one random source and one Stats."""

    def __init__(self, config: FleetConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.stats = Stats()
        self.rng = random.Random(config.seed)
        behaviour = config.behaviour()
        tokens = TokenPool(config.id_tokens)
        target = config.target()
        now = clock()
        self._chargers: dict[str, SimulatedCharger] = {}
        for index in range(config.count):
            charger_id = config.charger_id(index)
            specs = [self.rng.choice(SPECS) for _ in range(self.rng.randint(*config.evses))]
            station = Station(
                charger_id,
                specs,
                behaviour=behaviour,
                rng=self.rng,
                now=now,
                meter_interval=config.meter_interval,
                backoff=config.backoff,
                tokens=tokens,
            )
            core = ChargerCore(
                charger_id,
                adapter_for(config.version_of(index)),
                station,
                stats=self.stats,
                call_timeout=config.call_timeout,
                organization=config.organization,
            )
            self._chargers[charger_id] = SimulatedCharger(core, target, clock=clock)

    @property
    def charger_ids(self) -> list[str]:
        return list(self._chargers)

    def __iter__(self) -> Iterator[SimulatedCharger]:
        return iter(self._chargers.values())

    def __len__(self) -> int:
        return len(self._chargers)

    def charger(self, charger_id: str) -> SimulatedCharger:
        return self._chargers[charger_id]

    async def run(self, stop: asyncio.Event) -> None:
        """Connect every charger (``connect_rate`` per second) and simulate until ``stop``
        is set; then close every connection (1001, going away)."""
        start = self.clock()
        rate = max(self.config.connect_rate, 1e-9)
        tasks = [
            asyncio.create_task(charger.run(start + n / rate), name=charger.charger_id)
            for n, charger in enumerate(self._chargers.values())
        ]
        for task in tasks:
            task.add_done_callback(_report_crash)
        try:
            await stop.wait()
        finally:
            for charger in self._chargers.values():
                charger.stop()
            await asyncio.gather(*tasks, return_exceptions=True)

    def ground_truth(self) -> list[SessionRecord]:
        """Every transaction of every charger, with the readings it reported."""
        return [record for charger in self._chargers.values() for record in charger.records()]


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("simulated charger %s stopped", task.get_name(), exc_info=task.exception())
