"""OCPP versions, their WebSocket subprotocols and their action registries."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import msgspec

from chargegrid.values import immutable


class OcppVersion(StrEnum):
    """An OCPP version this platform speaks."""

    V16 = "1.6"
    V201 = "2.0.1"

    @property
    def subprotocol(self) -> str:
        """The WebSocket subprotocol name (`ocpp1.6`, `ocpp2.0.1`)."""
        return f"ocpp{self.value}"

    @classmethod
    def from_subprotocol(cls, subprotocol: str) -> OcppVersion | None:
        """The version for a WebSocket subprotocol name, or None if it is not spoken here."""
        for version in cls:
            if version.subprotocol == subprotocol:
                return version
        return None


@immutable
class ActionSpec:
    """One OCPP action: its request and response types and which side may send the request."""

    name: str
    request: type[msgspec.Struct]
    response: type[msgspec.Struct]
    from_charger: bool
    from_csms: bool


def actions(version: OcppVersion) -> Mapping[str, ActionSpec]:
    """Every action of a version, by name (the generated registry)."""
    # Imported here: the generated modules import ActionSpec from this module.
    if version is OcppVersion.V16:
        from chargegrid.ocpp.v16.messages import ACTIONS as V16_ACTIONS

        return V16_ACTIONS
    from chargegrid.ocpp.v201.messages import ACTIONS as V201_ACTIONS

    return V201_ACTIONS
