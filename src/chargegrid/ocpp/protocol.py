"""The sans-I/O OCPP protocol: bytes in, typed events out; typed messages in, frames out."""

from __future__ import annotations

from typing import Literal

import msgspec

from chargegrid.ocpp.rpc import (
    MAX_UNIQUE_ID_LENGTH,
    UNKNOWN_UNIQUE_ID,
    Call,
    CallResult,
    ErrorKind,
    FrameError,
    MessageType,
    RpcError,
    decode_payload,
    encode_call,
    encode_error,
    encode_payload,
    encode_result,
    error_code,
    parse_error_code,
    parse_frame,
    peek_frame,
)
from chargegrid.ocpp.versions import ActionSpec, OcppVersion, actions
from chargegrid.values import immutable

Role = Literal["csms", "charger"]
_RESPONSES = frozenset({MessageType.CALLRESULT, MessageType.CALLERROR})


@immutable
class IncomingCall:
    """A valid request from the peer: answer it with `result_frame` or `error_frame`."""

    unique_id: str
    action: str
    spec: ActionSpec
    request: msgspec.Struct
    raw_payload: bytes


@immutable
class IncomingResult:
    """A CALLRESULT; decode it with `decode_response` once its action is known."""

    unique_id: str
    payload: bytes


@immutable
class IncomingError:
    """A CALLERROR; `kind` is None when the code is not one of the version's codes."""

    unique_id: str
    code: str
    kind: ErrorKind | None
    description: str
    details: bytes


@immutable
class ErrorReply:
    """A bad request: send `frame` (a CALLERROR) back to the peer."""

    unique_id: str
    frame: bytes
    error: RpcError
    action: str | None


@immutable
class Unanswerable:
    """Input that must not be answered, such as a malformed response; log it and go on."""

    reason: str
    unique_id: str | None = None


InboundEvent = IncomingCall | IncomingResult | IncomingError | ErrorReply | Unanswerable


class OcppProtocol:
    """One side of an OCPP-J connection in one version, with no I/O and no state per message."""

    __slots__ = ("_actions", "max_frame_bytes", "role", "version")

    def __init__(self, version: OcppVersion, *, role: Role = "csms", max_frame_bytes: int) -> None:
        if role not in ("csms", "charger"):
            raise ValueError(f"role must be 'csms' or 'charger', not {role!r}")
        self.version = version
        self.role: Role = role
        self.max_frame_bytes = max_frame_bytes
        self._actions = actions(version)

    # -- inbound -------------------------------------------------------------------------

    def receive(self, data: str | bytes) -> InboundEvent:
        """The event for one received frame. Never raises, whatever the input."""
        try:
            return self._receive(data)
        except Exception as exc:  # a bug must not take the connection down
            return Unanswerable(f"unexpected {type(exc).__name__} while reading a frame")

    def _receive(self, data: str | bytes) -> InboundEvent:
        if not isinstance(data, str | bytes | bytearray | memoryview):
            return Unanswerable(f"a frame is text or bytes, not {type(data).__name__}")
        size = _size(data, self.max_frame_bytes)
        if size > self.max_frame_bytes:
            message_type, unique_id = peek_frame(data)
            reason = f"Frame exceeds the limit of {self.max_frame_bytes} bytes"
            if message_type in _RESPONSES:
                return Unanswerable(reason, unique_id)
            return self._reply(unique_id, RpcError(ErrorKind.FORMAT_VIOLATION, reason), None)
        try:
            frame = parse_frame(data)
        except FrameError as exc:
            if exc.message_type in _RESPONSES:
                return Unanswerable(str(exc), exc.unique_id)
            return self._reply(exc.unique_id, exc, None)
        if isinstance(frame, Call):
            return self._call(frame)
        if isinstance(frame, CallResult):
            return IncomingResult(frame.unique_id, frame.payload)
        return IncomingError(
            frame.unique_id,
            frame.code,
            parse_error_code(self.version, frame.code),
            frame.description,
            frame.details,
        )

    def _call(self, frame: Call) -> InboundEvent:
        spec = self._actions.get(frame.action)
        if spec is None:
            error = RpcError(
                ErrorKind.NOT_IMPLEMENTED,
                f"Unknown action {frame.action[:64]!r} in OCPP {self.version}",
            )
            return self._reply(frame.unique_id, error, frame.action)
        if not self._peer_sends(spec):
            error = RpcError(
                ErrorKind.NOT_SUPPORTED, f"{spec.name} is not sent by the {self._peer_name}"
            )
            return self._reply(frame.unique_id, error, frame.action)
        try:
            request = decode_payload(frame.payload, spec.request)
        except RpcError as exc:
            return self._reply(frame.unique_id, exc, frame.action)
        return IncomingCall(frame.unique_id, frame.action, spec, request, frame.payload)

    def _reply(self, unique_id: str | None, error: RpcError, action: str | None) -> ErrorReply:
        unique_id = UNKNOWN_UNIQUE_ID if unique_id is None else unique_id
        return ErrorReply(unique_id, self.error_frame(unique_id, error), error, action)

    def _peer_sends(self, spec: ActionSpec) -> bool:
        return spec.from_charger if self.role == "csms" else spec.from_csms

    @property
    def _peer_name(self) -> str:
        return "charging station" if self.role == "csms" else "CSMS"

    # -- outbound ------------------------------------------------------------------------

    def spec(self, action: str) -> ActionSpec:
        """The action of this version; RpcError(NOT_IMPLEMENTED) if it does not exist."""
        spec = self._actions.get(action)
        if spec is None:
            raise RpcError(
                ErrorKind.NOT_IMPLEMENTED, f"Unknown action {action!r} in OCPP {self.version}"
            )
        return spec

    def call_frame(self, unique_id: str, action: str, request: msgspec.Struct) -> bytes:
        """A CALL frame; raises RpcError if this side may not send it or it breaks the schema."""
        spec = self.spec(action)
        if not (spec.from_csms if self.role == "csms" else spec.from_charger):
            raise RpcError(ErrorKind.NOT_SUPPORTED, f"{action} is not sent by the {self.role}")
        if type(request) is not spec.request:
            raise RpcError(
                ErrorKind.INTERNAL_ERROR,
                f"{action} takes {spec.request.__name__}, not {type(request).__name__}",
            )
        if not 0 < len(unique_id) <= MAX_UNIQUE_ID_LENGTH:
            raise RpcError(ErrorKind.INTERNAL_ERROR, "unique id must have 1 to 36 characters")
        return encode_call(unique_id, action, _validated(request))

    def decode_response(self, action: str, payload: bytes) -> msgspec.Struct:
        """The typed response to a CALL of `action`; raises RpcError if it breaks the schema."""
        return decode_payload(payload, self.spec(action).response)

    def result_frame(self, unique_id: str, response: msgspec.Struct) -> bytes:
        """A CALLRESULT frame; raises RpcError if the response breaks its schema."""
        return encode_result(unique_id, _validated(response))

    def error_frame(self, unique_id: str, error: RpcError) -> bytes:
        """A CALLERROR frame with this version's spelling of the error code."""
        code = error_code(self.version, error.kind)
        return encode_error(unique_id, code, error.description, error.details)


def _validated(message: msgspec.Struct) -> bytes:
    """Encode a message and check it against its own type's constraints (lengths, ranges)."""
    payload = encode_payload(message)
    decode_payload(payload, type(message))
    return payload


def _size(data: str | bytes, limit: int) -> int:
    """Length of the frame in bytes, computed exactly only when it matters for `limit`."""
    if isinstance(data, str):
        if len(data) > limit or len(data) * 4 <= limit:
            return len(data)
        return len(data.encode("utf-8", "surrogatepass"))
    return len(data)
