"""OCPP-J frames, error codes and payload validation."""

from __future__ import annotations

import datetime
import json
from typing import Annotated, Any, Literal

import msgspec
import pytest

from chargegrid.ocpp.rpc import (
    Call,
    CallError,
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
    validation_error,
)
from chargegrid.ocpp.v16.messages import MeterValuesRequest, StartTransactionRequest
from chargegrid.ocpp.versions import OcppVersion

from .examples import ERROR_CODE_TABLES

V16 = OcppVersion.V16
V201 = OcppVersion.V201

V16_TABLE = ERROR_CODE_TABLES[V16]
V201_TABLE = ERROR_CODE_TABLES[V201]


class Sample(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    value: str
    unit: Literal["Wh", "kWh"] | None = None


class Payload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    count: int
    tag: Annotated[str, msgspec.Meta(max_length=3)] | None = None
    ratio: Annotated[float, msgspec.Meta(ge=0.0, le=100.0)] | None = None
    level: Annotated[int, msgspec.Meta(ge=0)] | None = None
    flag: bool | None = None
    at: datetime.datetime | None = None
    samples: Annotated[list[Sample], msgspec.Meta(min_length=1, max_length=2)] | None = None
    extra: dict[str, Any] | None = None


# -- error codes ---------------------------------------------------------------------------


def test_every_kind_has_a_code_from_the_version_table() -> None:
    assert {error_code(V16, kind) for kind in ErrorKind} == V16_TABLE
    assert {error_code(V201, kind) for kind in ErrorKind} == V201_TABLE


@pytest.mark.parametrize(
    ("kind", "v16", "v201"),
    [
        (ErrorKind.FORMAT_VIOLATION, "FormationViolation", "FormatViolation"),
        (
            ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
            "OccurenceConstraintViolation",
            "OccurrenceConstraintViolation",
        ),
        (ErrorKind.RPC_FRAMEWORK_ERROR, "ProtocolError", "RpcFrameworkError"),
        (ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, "ProtocolError", "MessageTypeNotSupported"),
        (ErrorKind.GENERIC_ERROR, "GenericError", "GenericError"),
        (ErrorKind.NOT_IMPLEMENTED, "NotImplemented", "NotImplemented"),
        (ErrorKind.TYPE_CONSTRAINT_VIOLATION, "TypeConstraintViolation", "TypeConstraintViolation"),
    ],
)
def test_error_code_spelling(kind: ErrorKind, v16: str, v201: str) -> None:
    assert error_code(V16, kind) == v16
    assert error_code(V201, kind) == v201


@pytest.mark.parametrize("version", list(OcppVersion))
def test_parse_error_code_reverses_error_code(version: OcppVersion) -> None:
    for kind in ErrorKind:
        parsed = parse_error_code(version, error_code(version, kind))
        # 1.6 sends two kinds as ProtocolError: reading it back gives PROTOCOL_ERROR.
        if version is V16 and error_code(version, kind) == "ProtocolError":
            assert parsed is ErrorKind.PROTOCOL_ERROR
        else:
            assert parsed is kind


def test_parse_error_code_accepts_the_16_errata_spellings() -> None:
    assert parse_error_code(V16, "FormatViolation") is ErrorKind.FORMAT_VIOLATION
    assert (
        parse_error_code(V16, "OccurrenceConstraintViolation")
        is ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION
    )


@pytest.mark.parametrize(
    ("version", "code"),
    [
        (V16, "RpcFrameworkError"),
        (V16, "MessageTypeNotSupported"),
        (V201, "FormationViolation"),
        (V201, "OccurenceConstraintViolation"),
        (V201, "formatviolation"),
        (V201, ""),
    ],
)
def test_parse_error_code_rejects_foreign_codes(version: OcppVersion, code: str) -> None:
    assert parse_error_code(version, code) is None


def test_rpc_error_fields() -> None:
    error = RpcError(ErrorKind.NOT_SUPPORTED, "nope", {"a": 1})
    assert (error.kind, error.description, error.details) == (
        ErrorKind.NOT_SUPPORTED,
        "nope",
        {"a": 1},
    )
    assert str(error) == "NOT_SUPPORTED: nope"
    assert RpcError(ErrorKind.GENERIC_ERROR).details == {}
    assert str(RpcError(ErrorKind.GENERIC_ERROR)) == "GENERIC_ERROR"


# -- parse_frame: valid frames -------------------------------------------------------------


def test_parse_call_keeps_the_raw_payload() -> None:
    frame = parse_frame('[2, "abc", "Heartbeat", { "a" : [1, 2] }]')
    assert frame == Call("abc", "Heartbeat", b'{ "a" : [1, 2] }')


def test_parse_call_from_bytes_with_unicode() -> None:
    frame = parse_frame('[2,"é-1","DataTransfer",{"data":"ü"}]'.encode())
    assert frame == Call("é-1", "DataTransfer", '{"data":"ü"}'.encode())


def test_parse_result_and_error() -> None:
    assert parse_frame('[3,"a",{"status":"Accepted"}]') == CallResult("a", b'{"status":"Accepted"}')
    assert parse_frame('[4,"a","NotImplemented","no",{"x":1}]') == CallError(
        "a", "NotImplemented", "no", b'{"x":1}'
    )


def test_parse_accepts_a_36_character_id_and_surrounding_whitespace() -> None:
    uid = "x" * 36
    assert parse_frame(f' \n[2,"{uid}","Heartbeat",{{}}]\n') == Call(uid, "Heartbeat", b"{}")


def test_parse_accepts_an_escaped_unique_id() -> None:
    assert parse_frame('[3,"a\\"b",{}]') == CallResult('a"b', b"{}")


# -- parse_frame: every rule ---------------------------------------------------------------


def _frame_error(data: str | bytes) -> FrameError:
    with pytest.raises(FrameError) as info:
        parse_frame(data)
    return info.value


@pytest.mark.parametrize(
    ("data", "kind", "unique_id"),
    [
        # not JSON: the id is read from the start of the frame when possible
        ("not json", ErrorKind.RPC_FRAMEWORK_ERROR, None),
        ("", ErrorKind.RPC_FRAMEWORK_ERROR, None),
        ('[2, "id-1", "Heartbeat", {', ErrorKind.FORMAT_VIOLATION, "id-1"),
        ('[2,"id-2","Heartbeat",{}] trailing', ErrorKind.FORMAT_VIOLATION, "id-2"),
        (b'[2,"id-3","Heartbeat",{"a":"\xff"}', ErrorKind.FORMAT_VIOLATION, "id-3"),
        # not an array
        ('{"a": 1}', ErrorKind.RPC_FRAMEWORK_ERROR, None),
        ('"text"', ErrorKind.RPC_FRAMEWORK_ERROR, None),
        ("[]", ErrorKind.RPC_FRAMEWORK_ERROR, None),
        # message type not an integer
        ('["2","id-4","Heartbeat",{}]', ErrorKind.FORMAT_VIOLATION, "id-4"),
        ('[2.0,"id-5","Heartbeat",{}]', ErrorKind.FORMAT_VIOLATION, "id-5"),
        ('[true,"id-6","Heartbeat",{}]', ErrorKind.FORMAT_VIOLATION, "id-6"),
        ('[null,7,"Heartbeat",{}]', ErrorKind.RPC_FRAMEWORK_ERROR, None),
        # unique id not a string, or too long
        ('[2,7,"Heartbeat",{}]', ErrorKind.RPC_FRAMEWORK_ERROR, None),
        ("[2]", ErrorKind.RPC_FRAMEWORK_ERROR, None),
        (b'[2,"\xff","Heartbeat",{}]', ErrorKind.RPC_FRAMEWORK_ERROR, None),
        (f'[2,"{"x" * 37}","Heartbeat",{{}}]', ErrorKind.RPC_FRAMEWORK_ERROR, "x" * 37),
        # unknown message type
        ('[5,"id-7","Heartbeat",{}]', ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, "id-7"),
        ('[6,"id-8","Heartbeat",{}]', ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, "id-8"),
        ('[-2,"id-9"]', ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, "id-9"),
        ('[99999999999999999999,"id-10"]', ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, "id-10"),
        # wrong element count
        ('[2,"id-11","Heartbeat"]', ErrorKind.PROTOCOL_ERROR, "id-11"),
        ('[2,"id-12","Heartbeat",{},{}]', ErrorKind.PROTOCOL_ERROR, "id-12"),
        ('[3,"id-13"]', ErrorKind.PROTOCOL_ERROR, "id-13"),
        ('[3,"id-14",{},{}]', ErrorKind.PROTOCOL_ERROR, "id-14"),
        ('[4,"id-15","GenericError","x"]', ErrorKind.PROTOCOL_ERROR, "id-15"),
        # action not a string
        ('[2,"id-16",7,{}]', ErrorKind.PROTOCOL_ERROR, "id-16"),
        ('[2,"id-17",null,{}]', ErrorKind.PROTOCOL_ERROR, "id-17"),
        # payload not an object
        ('[2,"id-18","Heartbeat",[]]', ErrorKind.FORMAT_VIOLATION, "id-18"),
        ('[2,"id-19","Heartbeat",null]', ErrorKind.FORMAT_VIOLATION, "id-19"),
        ('[2,"id-20","Heartbeat","{}"]', ErrorKind.FORMAT_VIOLATION, "id-20"),
        ('[3,"id-21",[]]', ErrorKind.FORMAT_VIOLATION, "id-21"),
        ('[4,"id-22",1,"x",{}]', ErrorKind.FORMAT_VIOLATION, "id-22"),
        ('[4,"id-23","GenericError",null,{}]', ErrorKind.FORMAT_VIOLATION, "id-23"),
        ('[4,"id-24","GenericError","x",[]]', ErrorKind.FORMAT_VIOLATION, "id-24"),
    ],
)
def test_parse_frame_rules(data: str | bytes, kind: ErrorKind, unique_id: str | None) -> None:
    error = _frame_error(data)
    assert error.kind is kind
    assert error.unique_id == unique_id
    assert error.description


def test_frame_error_reports_the_message_type_when_known() -> None:
    assert _frame_error('[3,"a"]').message_type == MessageType.CALLRESULT
    assert _frame_error('[4,"a","x","y",[]]').message_type == MessageType.CALLERROR
    assert _frame_error('[2,"a","Heartbeat",[]]').message_type == MessageType.CALL
    assert _frame_error("nonsense").message_type is None


def test_parse_frame_survives_deep_nesting_and_lone_surrogates() -> None:
    deep = '[2,"a","Heartbeat",{"x":' + "[" * 100_000 + "]" * 100_000 + "}]"
    assert _frame_error(deep).kind is ErrorKind.FORMAT_VIOLATION
    assert _frame_error(deep).unique_id == "a"
    assert _frame_error('[2,"a","Heart\ud800beat",{}]').unique_id == "a"


def test_peek_frame() -> None:
    assert peek_frame('  [ 3 , "abc", {"truncated') == (3, "abc")
    assert peek_frame(b'[2,"a\\"b"') == (None, None)  # escapes are not read cheaply
    assert peek_frame("nothing") == (None, None)


# -- encoding ------------------------------------------------------------------------------


def test_encode_frames() -> None:
    assert encode_call("1", "Heartbeat", b"{}") == b'[2,"1","Heartbeat",{}]'
    assert encode_result("1", b'{"a":1}') == b'[3,"1",{"a":1}]'
    assert encode_error("1", "GenericError", "bad") == b'[4,"1","GenericError","bad",{}]'
    assert (
        encode_error("1", "GenericError", "", {"k": [1]}) == b'[4,"1","GenericError","",{"k":[1]}]'
    )


def test_encode_error_cuts_the_description_to_255_characters() -> None:
    frame = json.loads(encode_error("1", "GenericError", "é" * 300))
    assert frame[3] == "é" * 255


def test_encoded_frames_parse_back() -> None:
    payload = b'{"idTag":"ABC"}'
    assert parse_frame(encode_call("u", "Authorize", payload)) == Call("u", "Authorize", payload)
    assert parse_frame(encode_result("u", payload)) == CallResult("u", payload)


def test_encode_payload_uses_json_names_and_omits_none() -> None:
    request = StartTransactionRequest(
        connector_id=1,
        id_tag="TAG",
        meter_start=0,
        timestamp=datetime.datetime(2025, 3, 1, 12, tzinfo=datetime.UTC),
    )
    assert json.loads(encode_payload(request)) == {
        "connectorId": 1,
        "idTag": "TAG",
        "meterStart": 0,
        "timestamp": "2025-03-01T12:00:00Z",
    }


# -- decode_payload: every branch of the error mapping ------------------------------------


def _decode_error(raw: str | bytes) -> RpcError:
    with pytest.raises(RpcError) as info:
        decode_payload(raw.encode() if isinstance(raw, str) else raw, Payload)
    return info.value


@pytest.mark.parametrize(
    ("raw", "kind", "path"),
    [
        ("{}", ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION, "$"),
        ('{"count":1,"samples":[]}', ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION, "$.samples"),
        (
            '{"count":1,"samples":[{"value":"a"},{"value":"b"},{"value":"c"}]}',
            ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
            "$.samples",
        ),
        (
            '{"count":1,"samples":[{"unit":"Wh"}]}',
            ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
            "$.samples[0]",
        ),
        ('{"count":"1"}', ErrorKind.TYPE_CONSTRAINT_VIOLATION, "$.count"),
        ('{"count":1.5}', ErrorKind.TYPE_CONSTRAINT_VIOLATION, "$.count"),
        ('{"count":true}', ErrorKind.TYPE_CONSTRAINT_VIOLATION, "$.count"),
        ('{"count":null}', ErrorKind.TYPE_CONSTRAINT_VIOLATION, "$.count"),
        ('{"count":1,"flag":1}', ErrorKind.TYPE_CONSTRAINT_VIOLATION, "$.flag"),
        ('{"count":1,"at":5}', ErrorKind.TYPE_CONSTRAINT_VIOLATION, "$.at"),
        ('{"count":1,"extra":[]}', ErrorKind.TYPE_CONSTRAINT_VIOLATION, "$.extra"),
        (
            '{"count":1,"samples":[{"value":1}]}',
            ErrorKind.TYPE_CONSTRAINT_VIOLATION,
            "$.samples[0].value",
        ),
        ('{"count":1,"tag":"abcd"}', ErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "$.tag"),
        ('{"count":1,"ratio":100.5}', ErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "$.ratio"),
        ('{"count":1,"level":-1}', ErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "$.level"),
        ('{"count":1,"ratio":1e400}', ErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "$.ratio"),
        ('{"count":1,"at":"yesterday"}', ErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "$.at"),
        ('{"count":1,"at":"2025-03-01"}', ErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "$.at"),
        (
            '{"count":1,"samples":[{"value":"1","unit":"MWh"}]}',
            ErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
            "$.samples[0].unit",
        ),
        (
            '{"count":1,"extra":{"big":' + "9" * 5000 + "}}",
            ErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
            "$.extra[...]",
        ),
        ('{"count":1,"other":2}', ErrorKind.FORMAT_VIOLATION, "$"),
        ('{"count":1,"samples":[{"value":"1","x":0}]}', ErrorKind.FORMAT_VIOLATION, "$.samples[0]"),
        ("[]", ErrorKind.FORMAT_VIOLATION, "$"),
    ],
)
def test_decode_payload_error_kinds(raw: str, kind: ErrorKind, path: str) -> None:
    error = _decode_error(raw)
    assert error.kind is kind, error.description
    assert error.details == {"path": path}
    assert error.description.startswith(f"{path}: ")


@pytest.mark.parametrize(
    "raw",
    [b'{"count":1', b"", b'{"count":NaN}', b'{"count":1} x', b'{"count":1,"tag":"\xff"}'],
)
def test_decode_payload_invalid_json_is_a_format_violation(raw: bytes) -> None:
    error = _decode_error(raw)
    assert error.kind is ErrorKind.FORMAT_VIOLATION
    assert error.description.startswith("Invalid JSON")


def test_decode_payload_deep_nesting_is_a_format_violation() -> None:
    raw = '{"count":1,"extra":{"a":' + "[" * 100_000 + "]" * 100_000 + "}}"
    assert _decode_error(raw).kind is ErrorKind.FORMAT_VIOLATION


def test_decode_payload_keeps_descriptions_short() -> None:
    error = _decode_error('{"count":1,"' + "k" * 1000 + '":1}')
    assert error.kind is ErrorKind.FORMAT_VIOLATION
    assert len(error.description) == 255


def test_validation_error_defaults_to_format_violation() -> None:
    error = validation_error("Something msgspec never said - at `$.a`")
    assert (error.kind, error.details) == (ErrorKind.FORMAT_VIOLATION, {"path": "$.a"})


# -- msgspec behaviours the mapping relies on ----------------------------------------------


def test_int_rejects_fractions_and_booleans_float_accepts_ints() -> None:
    assert decode_payload(b'{"count":3,"ratio":5}', Payload).ratio == 5.0
    assert isinstance(decode_payload(b'{"count":3,"ratio":5}', Payload).ratio, float)
    for bad in (b'{"count":1.5}', b'{"count":true}', b'{"count":1.0}'):
        with pytest.raises(RpcError):
            decode_payload(bad, Payload)


def test_max_length_counts_characters_not_bytes() -> None:
    assert decode_payload('{"count":1,"tag":"ééé"}'.encode(), Payload).tag == "ééé"


def test_naive_and_offset_datetimes_are_accepted() -> None:
    naive = decode_payload(b'{"count":1,"at":"2025-03-01T12:00:00"}', Payload).at
    assert naive == datetime.datetime(2025, 3, 1, 12)
    assert naive is not None
    assert naive.tzinfo is None
    offset = decode_payload(b'{"count":1,"at":"2025-03-01T12:00:00+02:00"}', Payload).at
    assert offset == datetime.datetime(2025, 3, 1, 10, tzinfo=datetime.UTC)


def test_decode_real_meter_values_payload() -> None:
    raw = (
        b'{"connectorId":1,"transactionId":7,"meterValue":[{"timestamp":"2025-03-01T12:00:00Z",'
        b'"sampledValue":[{"value":"10.5","measurand":"Energy.Active.Import.Register","unit":"kWh"}]}]}'
    )
    request = decode_payload(raw, MeterValuesRequest)
    assert request.meter_value[0].sampled_value[0].unit == "kWh"
    assert request.transaction_id == 7
