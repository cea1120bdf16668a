"""Simulated chargers speaking OCPP 1.6J and 2.0.1 (``chargegrid sim``).

Layers, like a sans-I/O protocol library:

- ``station`` (with ``physics``, ``profiles``, ``operations``): the version-neutral station,
  its EVSEs, EVs and sessions, fed the time; it never reads a clock;
- ``v16`` / ``v201``: each version's spelling of the station's messages and operations;
- ``core``: one charger's OCPP side (registration, heartbeats, the outbox and the offline
  queue of transaction messages), frames in and frames out, no I/O;
- ``runner``: the asyncio task and WebSocket of one charger;
- ``fleet``: many chargers in one process, their stats and their ground truth.
"""

from chargegrid.simulator.backoff import BackOff
from chargegrid.simulator.core import ChargerCore, Stats
from chargegrid.simulator.evse import DEFAULT_TOKENS, Behaviour
from chargegrid.simulator.fleet import Fleet, FleetConfig, adapter_for
from chargegrid.simulator.model import SessionRecord
from chargegrid.simulator.runner import SimulatedCharger, Target
from chargegrid.simulator.station import Station

__all__ = [
    "DEFAULT_TOKENS",
    "BackOff",
    "Behaviour",
    "ChargerCore",
    "Fleet",
    "FleetConfig",
    "SessionRecord",
    "SimulatedCharger",
    "Station",
    "Stats",
    "Target",
    "adapter_for",
]
