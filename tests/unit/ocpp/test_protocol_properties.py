"""Property tests: `OcppProtocol.receive` never raises, and every reply it makes is well formed."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargegrid.ocpp.protocol import (
    ErrorReply,
    InboundEvent,
    IncomingCall,
    IncomingError,
    IncomingResult,
    OcppProtocol,
    Unanswerable,
)
from chargegrid.ocpp.rpc import ErrorKind, decode_payload, encode_payload, error_code
from chargegrid.ocpp.versions import ActionSpec, OcppVersion, actions

from .examples import ERROR_CODE_TABLES, example

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VERSIONS = list(OcppVersion)
SPECS = {v: sorted(actions(v).values(), key=lambda spec: spec.name) for v in VERSIONS}

# Any code point, lone surrogates (which cannot be encoded as UTF-8) often enough to matter.
any_char = st.one_of(st.characters(), st.characters(categories=["Cs"]))
any_text = st.text(any_char, max_size=60)
# Raw text spliced into a serialized frame: broken escapes, bytes, deep nesting, huge numbers.
SPLICES = ["\ud800", "\\ud800", '"', ",", "{", "]", "\u0000", "[" * 5000, "9" * 5000, "1e999"]
BYTE_SPLICES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
protocols = st.builds(
    OcppProtocol,
    st.sampled_from(VERSIONS),
    role=st.sampled_from(["csms", "charger"]),
    max_frame_bytes=st.sampled_from([48, 512, 65536]),
)


def check(protocol: OcppProtocol, data: str | bytes) -> InboundEvent:
    """Feed one frame and check the invariants of the event."""
    event = protocol.receive(data)
    if isinstance(event, Unanswerable):
        assert not event.reason.startswith("unexpected"), event.reason
    elif isinstance(event, ErrorReply):
        frame = json.loads(event.frame)
        assert isinstance(frame, list)
        assert len(frame) == 5
        assert frame[0] == 4
        assert frame[1] == event.unique_id
        assert isinstance(frame[1], str)
        assert frame[2] in ERROR_CODE_TABLES[protocol.version]
        assert frame[2] == error_code(protocol.version, event.error.kind)
        assert isinstance(frame[3], str)
        assert len(frame[3]) <= 255
        assert isinstance(frame[4], dict)
    elif isinstance(event, IncomingCall):
        assert type(event.request) is event.spec.request
        assert event.spec is actions(protocol.version)[event.action]
        again = decode_payload(encode_payload(event.request), event.spec.request)
        assert again == event.request
    else:
        assert isinstance(event, IncomingResult | IncomingError)
        assert isinstance(event.unique_id, str)
    return event


def serialize(frame: Any, ascii_only: bool, as_bytes: bool) -> str | bytes:
    text = json.dumps(frame, ensure_ascii=ascii_only)
    return text.encode() if as_bytes else text


@st.composite
def valid_frames(draw: st.DrawFn, version: OcppVersion) -> tuple[ActionSpec, list[Any]]:
    """A well-formed CALL, CALLRESULT or CALLERROR of `version` with a valid payload."""
    spec = draw(st.sampled_from(SPECS[version]))
    unique_id = draw(st.text(min_size=1, max_size=36))
    full = draw(st.booleans())
    message_type = draw(st.sampled_from([2, 3, 4]))
    if message_type == 2:
        return spec, [2, unique_id, spec.name, example(spec.request, full=full)]
    if message_type == 3:
        return spec, [3, unique_id, example(spec.response, full=full)]
    code = draw(st.sampled_from(sorted(ERROR_CODE_TABLES[version])))
    return spec, [4, unique_id, code, draw(st.text(max_size=40)), {}]


def _mutate_payload(draw: st.DrawFn, node: Any) -> Any:
    """Change one place inside a JSON value."""
    if isinstance(node, dict) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node)))
        action = draw(st.sampled_from(["recurse", "drop", "replace"]))
        if action == "drop":
            return {k: v for k, v in node.items() if k != key}
        if action == "replace":
            return {**node, key: draw(json_values)}
        return {**node, key: _mutate_payload(draw, node[key])}
    if isinstance(node, list) and node and draw(st.booleans()):
        index = draw(st.integers(0, len(node) - 1))
        return [*node[:index], _mutate_payload(draw, node[index]), *node[index + 1 :]]
    if isinstance(node, dict):
        return {**node, draw(st.text(max_size=12)): draw(json_values)}
    return draw(
        st.one_of(
            json_values,
            any_text,
            st.just("x" * 70_000),
            st.just("€" * 300),
            st.integers(),
            st.just([]),
            st.just({}),
        )
    )


@st.composite
def mutated_frames(draw: st.DrawFn) -> tuple[OcppProtocol, str | bytes]:
    """A valid frame with one to three mutations, serialized as text or bytes."""
    protocol = draw(protocols)
    _, frame = draw(valid_frames(protocol.version))
    for _ in range(draw(st.integers(1, 3))):
        if not frame:
            break
        index = draw(st.integers(0, len(frame) - 1))
        kind = draw(st.sampled_from(["drop", "swap", "replace", "insert", "payload", "payload"]))
        if kind == "drop":
            frame = frame[:index] + frame[index + 1 :]
        elif kind == "swap":
            other = draw(st.integers(0, len(frame) - 1))
            frame[index], frame[other] = frame[other], frame[index]
        elif kind == "replace":
            frame[index] = draw(st.one_of(json_values, any_text))
        elif kind == "insert":
            frame.insert(index, draw(json_values))
        else:
            frame[-1] = _mutate_payload(draw, frame[-1])
    text = json.dumps(frame, ensure_ascii=draw(st.booleans()))
    where = draw(st.integers(0, len(text)))
    damage = draw(st.sampled_from(["none", "none", "truncate", "splice", "bytes"]))
    if damage == "truncate":
        text = text[:where]
    elif damage == "splice":
        text = text[:where] + draw(st.sampled_from(SPLICES)) + text[where:]
    try:
        data = text.encode()
    except UnicodeEncodeError:
        return protocol, text  # a lone surrogate cannot be sent as UTF-8 bytes
    if damage == "bytes":
        return protocol, data[:where] + draw(st.sampled_from(BYTE_SPLICES)) + data[where:]
    return protocol, data if draw(st.booleans()) else text


@SETTINGS
@given(protocols, st.binary(max_size=600))
def test_random_bytes(protocol: OcppProtocol, data: bytes) -> None:
    check(protocol, data)


@SETTINGS
@given(protocols, st.text(any_char, max_size=600))
def test_random_text(protocol: OcppProtocol, data: str) -> None:
    check(protocol, data)


@SETTINGS
@given(protocols, json_values, st.booleans(), st.booleans())
def test_random_json(protocol: OcppProtocol, value: Any, ascii_only: bool, as_bytes: bool) -> None:
    check(protocol, serialize(value, ascii_only, as_bytes))


@SETTINGS
@given(
    protocols,
    st.sampled_from([2, 3, 4, 5, 6, -1, 2.0, "2", True, None]),
    st.one_of(st.text(max_size=40), json_values),
    st.lists(json_values, max_size=5),
)
def test_random_frame_shapes(
    protocol: OcppProtocol, message_type: Any, unique_id: Any, rest: list[Any]
) -> None:
    check(protocol, json.dumps([message_type, unique_id, *rest]))


@SETTINGS
@given(mutated_frames())
def test_mutated_frames(case: tuple[OcppProtocol, str | bytes]) -> None:
    check(*case)


@SETTINGS
@given(st.data())
def test_valid_frames_give_the_expected_event(data: st.DataObject) -> None:
    protocol = data.draw(protocols.filter(lambda p: p.max_frame_bytes == 65536))
    spec, frame = data.draw(valid_frames(protocol.version))
    wire = serialize(frame, data.draw(st.booleans()), data.draw(st.booleans()))
    event = check(protocol, wire)
    if frame[0] == 2:
        peer_sends = spec.from_charger if protocol.role == "csms" else spec.from_csms
        if peer_sends:
            assert isinstance(event, IncomingCall)
            assert json.loads(encode_payload(event.request)) == frame[3]
        else:
            assert isinstance(event, ErrorReply)
            assert event.error.kind is ErrorKind.NOT_SUPPORTED
            assert event.unique_id == frame[1]
    elif frame[0] == 3:
        assert isinstance(event, IncomingResult)
        assert event.unique_id == frame[1]
        assert json.loads(event.payload) == frame[2]
        response = protocol.decode_response(spec.name, event.payload)
        assert json.loads(encode_payload(response)) == frame[2]
    else:
        assert isinstance(event, IncomingError)
        assert event.kind is not None
        assert (event.unique_id, event.code, event.description) == tuple(frame[1:4])
