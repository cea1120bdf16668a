"""The pure OCPP protocol layer: frames, error codes, typed messages; no I/O, no clock."""

from chargegrid.ocpp.protocol import (
    ErrorReply,
    InboundEvent,
    IncomingCall,
    IncomingError,
    IncomingResult,
    OcppProtocol,
    Unanswerable,
)
from chargegrid.ocpp.rpc import ErrorKind, RpcError
from chargegrid.ocpp.versions import ActionSpec, OcppVersion, actions

__all__ = [
    "ActionSpec",
    "ErrorKind",
    "ErrorReply",
    "InboundEvent",
    "IncomingCall",
    "IncomingError",
    "IncomingResult",
    "OcppProtocol",
    "OcppVersion",
    "RpcError",
    "Unanswerable",
    "actions",
]
