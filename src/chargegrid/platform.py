"""The running platform's shared parts, handed to every front end (API, gateway)."""

from __future__ import annotations

from chargegrid.bus.commands import CommandBus
from chargegrid.bus.presence import Presence
from chargegrid.config import Settings
from chargegrid.domain.clock import Clock
from chargegrid.domain.services.commands import CommandCatalog
from chargegrid.metrics import Metrics
from chargegrid.storage.engine import Database
from chargegrid.values import immutable


@immutable
class Platform:
    """Settings, clock, database, metrics, charger presence and the command bus.

    ``catalog`` says which commands each OCPP version can carry.
    """

    settings: Settings
    clock: Clock
    db: Database
    metrics: Metrics
    presence: Presence
    commands: CommandBus
    catalog: CommandCatalog
