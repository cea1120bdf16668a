"""Presence: which chargers have an open connection, and with which OCPP version."""

from __future__ import annotations

from typing import Protocol


class Presence(Protocol):
    """Answers whether a charger is connected (to any node)."""

    def is_connected(self, charger_id: str) -> bool: ...

    def version_of(self, charger_id: str) -> str | None: ...
