"""OCPP-J RPC framing: CALL / CALLRESULT / CALLERROR frames and error codes (no I/O)."""

from __future__ import annotations

import re
from enum import Enum, IntEnum
from typing import Any, TypeVar

import msgspec

from chargegrid.ocpp.versions import OcppVersion
from chargegrid.values import immutable

T = TypeVar("T")

MAX_UNIQUE_ID_LENGTH = 36
MAX_DESCRIPTION_LENGTH = 255
# The unique id used when answering a frame whose id cannot be read (OCPP-J 2.0.1 §4.2.3).
UNKNOWN_UNIQUE_ID = "-1"


class MessageType(IntEnum):
    """The message type number, first element of every OCPP-J frame."""

    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


class ErrorKind(Enum):
    """What went wrong, independent of how a version spells its error code."""

    FORMAT_VIOLATION = "format_violation"
    GENERIC_ERROR = "generic_error"
    INTERNAL_ERROR = "internal_error"
    MESSAGE_TYPE_NOT_SUPPORTED = "message_type_not_supported"
    NOT_IMPLEMENTED = "not_implemented"
    NOT_SUPPORTED = "not_supported"
    OCCURRENCE_CONSTRAINT_VIOLATION = "occurrence_constraint_violation"
    PROPERTY_CONSTRAINT_VIOLATION = "property_constraint_violation"
    PROTOCOL_ERROR = "protocol_error"
    RPC_FRAMEWORK_ERROR = "rpc_framework_error"
    SECURITY_ERROR = "security_error"
    TYPE_CONSTRAINT_VIOLATION = "type_constraint_violation"


_V201_CODES = {
    ErrorKind.FORMAT_VIOLATION: "FormatViolation",
    ErrorKind.GENERIC_ERROR: "GenericError",
    ErrorKind.INTERNAL_ERROR: "InternalError",
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "MessageTypeNotSupported",
    ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
    ErrorKind.NOT_SUPPORTED: "NotSupported",
    ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION: "OccurrenceConstraintViolation",
    ErrorKind.PROPERTY_CONSTRAINT_VIOLATION: "PropertyConstraintViolation",
    ErrorKind.PROTOCOL_ERROR: "ProtocolError",
    ErrorKind.RPC_FRAMEWORK_ERROR: "RpcFrameworkError",
    ErrorKind.SECURITY_ERROR: "SecurityError",
    ErrorKind.TYPE_CONSTRAINT_VIOLATION: "TypeConstraintViolation",
}
# The OCPP-J 1.6 table, original spellings included; it has no RpcFrameworkError and no
# MessageTypeNotSupported, so both are sent as ProtocolError.
_V16_CODES = {
    **_V201_CODES,
    ErrorKind.FORMAT_VIOLATION: "FormationViolation",
    ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION: "OccurenceConstraintViolation",
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "ProtocolError",
    ErrorKind.RPC_FRAMEWORK_ERROR: "ProtocolError",
}
ERROR_CODES: dict[OcppVersion, dict[ErrorKind, str]] = {
    OcppVersion.V16: _V16_CODES,
    OcppVersion.V201: _V201_CODES,
}
_RECEIVED_KINDS: dict[OcppVersion, dict[str, ErrorKind]] = {
    OcppVersion.V16: {
        **{code: kind for kind, code in _V16_CODES.items() if code != "ProtocolError"},
        "ProtocolError": ErrorKind.PROTOCOL_ERROR,
        # Spellings of the 1.6 errata sheet, sent by many 1.6 chargers.
        "FormatViolation": ErrorKind.FORMAT_VIOLATION,
        "OccurrenceConstraintViolation": ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
    },
    OcppVersion.V201: {code: kind for kind, code in _V201_CODES.items()},
}


def error_code(version: OcppVersion, kind: ErrorKind) -> str:
    """The error code a version uses for `kind` in a CALLERROR."""
    return ERROR_CODES[version][kind]


def parse_error_code(version: OcppVersion, code: str) -> ErrorKind | None:
    """The kind of a received error code, or None if the version does not define it."""
    return _RECEIVED_KINDS[version].get(code)


class RpcError(Exception):
    """The error of the protocol layer: what a CALLERROR reports."""

    def __init__(
        self, kind: ErrorKind, description: str = "", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(kind, description)
        self.kind = kind
        self.description = description
        self.details: dict[str, Any] = details if details is not None else {}

    def __str__(self) -> str:
        return f"{self.kind.name}: {self.description}" if self.description else self.kind.name


class FrameError(RpcError):
    """A frame that is not valid OCPP-J; `unique_id` is set when it could still be read."""

    def __init__(
        self,
        kind: ErrorKind,
        description: str,
        *,
        unique_id: str | None = None,
        message_type: int | None = None,
    ) -> None:
        super().__init__(kind, description)
        self.unique_id = unique_id
        self.message_type = message_type


@immutable
class Call:
    """A request; `payload` is the raw JSON object as received."""

    unique_id: str
    action: str
    payload: bytes


@immutable
class CallResult:
    """A successful response; `payload` is the raw JSON object as received."""

    unique_id: str
    payload: bytes


@immutable
class CallError:
    """An error response; `details` is the raw JSON object as received."""

    unique_id: str
    code: str
    description: str
    details: bytes


Frame = Call | CallResult | CallError

_decode_items = msgspec.json.Decoder(list[msgspec.Raw]).decode
_decode_str = msgspec.json.Decoder(str).decode
_decode_int = msgspec.json.Decoder(int).decode
_encode = msgspec.json.Encoder().encode
# UnicodeError: invalid UTF-8 or lone surrogates; RecursionError: nesting deeper than allowed.
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeError, RecursionError)
_TYPES = {b"2": MessageType.CALL, b"3": MessageType.CALLRESULT, b"4": MessageType.CALLERROR}
_LENGTHS = {MessageType.CALL: 4, MessageType.CALLRESULT: 3, MessageType.CALLERROR: 5}
_HEAD = re.compile(rb'\A\s*\[\s*(\d{1,3})\s*,\s*"([^"\\\x00-\x1f]{0,36})"')


def peek_frame(data: str | bytes) -> tuple[int | None, str | None]:
    """Message type and unique id read from the start of a frame that may not be valid JSON."""
    head = data[:128]
    raw = head.encode("utf-8", "replace") if isinstance(head, str) else bytes(head)
    match = _HEAD.match(raw)
    if match is None:
        return None, None
    try:
        return int(match[1]), match[2].decode("utf-8")
    except UnicodeDecodeError:
        return int(match[1]), None


def _string(raw: bytes) -> str | None:
    try:
        return _decode_str(raw)
    except _DECODE_ERRORS:
        return None


def _is_object(raw: bytes) -> bool:
    return raw[:1] == b"{"


class _CallArray(msgspec.Struct, array_like=True, forbid_unknown_fields=True, tag=2):
    unique_id: str
    action: str
    payload: msgspec.Raw


class _ResultArray(msgspec.Struct, array_like=True, forbid_unknown_fields=True, tag=3):
    unique_id: str
    payload: msgspec.Raw


class _ErrorArray(msgspec.Struct, array_like=True, forbid_unknown_fields=True, tag=4):
    unique_id: str
    code: str
    description: str
    details: msgspec.Raw


_decode_frame = msgspec.json.Decoder(_CallArray | _ResultArray | _ErrorArray).decode


def parse_frame(data: str | bytes) -> Frame:
    """Split an OCPP-J frame into its parts; raises FrameError if it is not a valid frame."""
    try:
        frame = _decode_frame(data)
    except _DECODE_ERRORS:
        return _parse_invalid(data)
    if len(frame.unique_id) <= MAX_UNIQUE_ID_LENGTH:
        if isinstance(frame, _CallArray):
            payload = bytes(frame.payload)
            if payload[:1] == b"{":
                return Call(frame.unique_id, frame.action, payload)
        elif isinstance(frame, _ResultArray):
            payload = bytes(frame.payload)
            if payload[:1] == b"{":
                return CallResult(frame.unique_id, payload)
        else:
            details = bytes(frame.details)
            if details[:1] == b"{":
                return CallError(frame.unique_id, frame.code, frame.description, details)
    return _parse_invalid(data)


def _parse_invalid(data: str | bytes) -> Frame:
    """The careful path, for frames the fast decoder rejected: name the first rule broken."""
    try:
        items = _decode_items(data)
    except _DECODE_ERRORS as exc:
        message_type, unique_id = peek_frame(data)
        if unique_id is None:
            raise FrameError(ErrorKind.RPC_FRAMEWORK_ERROR, f"Not an OCPP-J frame: {exc}") from None
        raise FrameError(
            ErrorKind.FORMAT_VIOLATION,
            f"Frame is not a valid JSON array: {exc}",
            unique_id=unique_id,
            message_type=message_type,
        ) from None
    count = len(items)
    message_type = _TYPES.get(bytes(items[0])) if count else None
    number: int | None = message_type
    if number is None and count:
        try:
            number = _decode_int(items[0])
        except _DECODE_ERRORS:
            number = None
    unique_id = _string(items[1]) if count > 1 else None
    if number is None:
        if unique_id is None:
            raise FrameError(ErrorKind.RPC_FRAMEWORK_ERROR, "Message type is not an integer")
        raise FrameError(
            ErrorKind.FORMAT_VIOLATION, "Message type is not an integer", unique_id=unique_id
        )
    if unique_id is None:
        raise FrameError(
            ErrorKind.RPC_FRAMEWORK_ERROR, "Unique id is not a valid string", message_type=number
        )
    if len(unique_id) > MAX_UNIQUE_ID_LENGTH:
        raise FrameError(
            ErrorKind.RPC_FRAMEWORK_ERROR,
            f"Unique id is longer than {MAX_UNIQUE_ID_LENGTH} characters",
            unique_id=unique_id,
            message_type=number,
        )
    if message_type is None:
        raise FrameError(
            ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED,
            f"Message type {number if abs(number) < 1000 else '(large number)'} is not supported",
            unique_id=unique_id,
            message_type=number,
        )
    if count != _LENGTHS[message_type]:
        raise FrameError(
            ErrorKind.PROTOCOL_ERROR,
            f"A {message_type.name} frame has {_LENGTHS[message_type]} elements, not {count}",
            unique_id=unique_id,
            message_type=number,
        )
    if message_type is MessageType.CALL:
        action = _string(items[2])
        if action is None:
            raise FrameError(
                ErrorKind.PROTOCOL_ERROR,
                "Action is not a string",
                unique_id=unique_id,
                message_type=number,
            )
        payload = bytes(items[3])
        if not _is_object(payload):
            raise FrameError(
                ErrorKind.FORMAT_VIOLATION,
                "Payload is not a JSON object",
                unique_id=unique_id,
                message_type=number,
            )
        return Call(unique_id, action, payload)
    if message_type is MessageType.CALLRESULT:
        payload = bytes(items[2])
        if not _is_object(payload):
            raise FrameError(
                ErrorKind.FORMAT_VIOLATION,
                "Payload is not a JSON object",
                unique_id=unique_id,
                message_type=number,
            )
        return CallResult(unique_id, payload)
    code, description, details = _string(items[2]), _string(items[3]), bytes(items[4])
    if code is None or description is None or not _is_object(details):
        raise FrameError(
            ErrorKind.FORMAT_VIOLATION,
            "CALLERROR needs a string code, a string description and an object of details",
            unique_id=unique_id,
            message_type=number,
        )
    return CallError(unique_id, code, description, details)


def encode_call(unique_id: str, action: str, payload: bytes) -> bytes:
    """A CALL frame around an encoded payload object."""
    return _encode([MessageType.CALL.value, unique_id, action, msgspec.Raw(payload)])


def encode_result(unique_id: str, payload: bytes) -> bytes:
    """A CALLRESULT frame around an encoded payload object."""
    return _encode([MessageType.CALLRESULT.value, unique_id, msgspec.Raw(payload)])


def encode_error(
    unique_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> bytes:
    """A CALLERROR frame; the description is cut to 255 characters."""
    return _encode(
        [
            MessageType.CALLERROR.value,
            unique_id,
            code,
            description[:MAX_DESCRIPTION_LENGTH],
            details if details is not None else {},
        ]
    )


def encode_payload(obj: msgspec.Struct) -> bytes:
    """The JSON payload object of a message."""
    return _encode(obj)


# msgspec validation messages -> error kinds. Checked in order; the default is FORMAT_VIOLATION.
_VALIDATION_RULES = (
    (re.compile(r"Object missing required field"), ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION),
    (
        re.compile(r"Expected `array` of (?:at (?:least|most) )?length"),
        ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
    ),
    (re.compile(r"Object contains unknown field"), ErrorKind.FORMAT_VIOLATION),
    (re.compile(r"Expected `[^`]+`, got `"), ErrorKind.TYPE_CONSTRAINT_VIOLATION),
    (
        re.compile(
            r"Expected `(?:str|bytes|object|int|float)` (?:of length|[<>]|that's a multiple"
            r"|matching regex|with (?:a|no) timezone)"
            r"|Invalid (?:enum value|value|RFC3339)"
            r"|(?:Number|Integer value|Duration is) out of range"
        ),
        ErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    ),
)
_AT_PATH = re.compile(r" - at `(\$[^`]*)`\Z")


def _cut(text: str) -> str:
    if len(text) <= MAX_DESCRIPTION_LENGTH:
        return text
    return text[: MAX_DESCRIPTION_LENGTH - 3] + "..."


def validation_error(message: str) -> RpcError:
    """The RpcError for a msgspec validation message (`<problem> - at `$.path``)."""
    match = _AT_PATH.search(message)
    path = match[1] if match else "$"
    problem = message[: match.start()] if match else message
    kind = ErrorKind.FORMAT_VIOLATION
    for pattern, rule_kind in _VALIDATION_RULES:
        if pattern.match(problem):
            kind = rule_kind
            break
    if kind is ErrorKind.TYPE_CONSTRAINT_VIOLATION and path == "$":
        kind = ErrorKind.FORMAT_VIOLATION  # the payload itself is not an object
    return RpcError(kind, _cut(f"{path}: {problem}"), {"path": path})


def decode_payload(raw: bytes, type_: type[T]) -> T:
    """Decode and validate a payload object; raises RpcError with the matching kind."""
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise validation_error(str(exc)) from None
    except (msgspec.DecodeError, UnicodeError, RecursionError) as exc:
        raise RpcError(ErrorKind.FORMAT_VIOLATION, _cut(f"Invalid JSON: {exc}")) from None
