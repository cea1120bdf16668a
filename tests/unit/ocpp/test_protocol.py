"""The sans-I/O protocol object: inbound events and outbound frames."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from chargegrid.ocpp.protocol import (
    ErrorReply,
    IncomingCall,
    IncomingError,
    IncomingResult,
    OcppProtocol,
    Unanswerable,
)
from chargegrid.ocpp.rpc import ErrorKind, RpcError
from chargegrid.ocpp.v16 import messages as v16
from chargegrid.ocpp.v201 import messages as v201
from chargegrid.ocpp.versions import OcppVersion

V16 = OcppVersion.V16
V201 = OcppVersion.V201
NOW = datetime.datetime(2025, 3, 1, 12, tzinfo=datetime.UTC)


def csms(version: OcppVersion = V16, max_frame_bytes: int = 65536) -> OcppProtocol:
    return OcppProtocol(version, max_frame_bytes=max_frame_bytes)


def frame(*items: Any) -> str:
    return json.dumps(list(items))


def reply(event: object) -> tuple[ErrorReply, list[Any]]:
    assert isinstance(event, ErrorReply), event
    decoded = json.loads(event.frame)
    assert decoded[0] == 4
    assert decoded[1] == event.unique_id
    return event, decoded


# -- inbound calls -------------------------------------------------------------------------


def test_valid_call_gives_a_typed_request() -> None:
    payload = {"chargePointVendor": "ACME", "chargePointModel": "Fast-22"}
    event = csms().receive(frame(2, "m1", "BootNotification", payload))
    assert isinstance(event, IncomingCall)
    assert event.unique_id == "m1"
    assert event.action == "BootNotification"
    assert event.spec.response is v16.BootNotificationResponse
    assert event.request == v16.BootNotificationRequest(
        charge_point_vendor="ACME", charge_point_model="Fast-22"
    )
    assert json.loads(event.raw_payload) == payload


def test_bytes_and_str_frames_give_the_same_event() -> None:
    text = frame(2, "m1", "Heartbeat", {})
    assert csms().receive(text) == csms().receive(text.encode())


def test_v201_call() -> None:
    payload = {"idToken": {"idToken": "04E91C5A", "type": "ISO14443"}}
    event = csms(V201).receive(frame(2, "m2", "Authorize", payload))
    assert isinstance(event, IncomingCall)
    assert isinstance(event.request, v201.AuthorizeRequest)
    assert event.request.id_token == v201.IdToken(id_token="04E91C5A", type="ISO14443")


def test_unknown_action_is_not_implemented() -> None:
    event, decoded = reply(csms().receive(frame(2, "m3", "TransactionEvent", {})))
    assert decoded[2] == "NotImplemented"
    assert event.error.kind is ErrorKind.NOT_IMPLEMENTED
    assert event.action == "TransactionEvent"


def test_action_sent_the_wrong_way_is_not_supported() -> None:
    event, decoded = reply(csms().receive(frame(2, "m4", "RemoteStartTransaction", {"idTag": "A"})))
    assert decoded[2] == "NotSupported"
    assert event.action == "RemoteStartTransaction"
    charger = OcppProtocol(V16, role="charger", max_frame_bytes=65536)
    _, decoded = reply(charger.receive(frame(2, "m5", "Heartbeat", {})))
    assert decoded[2] == "NotSupported"
    assert isinstance(
        charger.receive(frame(2, "m6", "RemoteStartTransaction", {"idTag": "A"})), IncomingCall
    )


def test_data_transfer_goes_both_ways() -> None:
    payload = {"vendorId": "acme", "data": "x"}
    assert isinstance(csms().receive(frame(2, "a", "DataTransfer", payload)), IncomingCall)
    charger = OcppProtocol(V16, role="charger", max_frame_bytes=65536)
    assert isinstance(charger.receive(frame(2, "b", "DataTransfer", payload)), IncomingCall)


@pytest.mark.parametrize(
    ("version", "payload", "code"),
    [
        (V16, {"chargePointVendor": "V"}, "OccurenceConstraintViolation"),
        (V201, {"reason": "PowerUp"}, "OccurrenceConstraintViolation"),
        (V16, {"chargePointVendor": 1, "chargePointModel": "M"}, "TypeConstraintViolation"),
        (
            V16,
            {"chargePointVendor": "V" * 21, "chargePointModel": "M"},
            "PropertyConstraintViolation",
        ),
        (V16, {"chargePointVendor": "V", "chargePointModel": "M", "x": 1}, "FormationViolation"),
        (
            V201,
            {"reason": "Nope", "chargingStation": {"model": "M", "vendorName": "V"}},
            "PropertyConstraintViolation",
        ),
    ],
)
def test_schema_violations_use_the_version_spelling(
    version: OcppVersion, payload: dict[str, Any], code: str
) -> None:
    event, decoded = reply(csms(version).receive(frame(2, "m7", "BootNotification", payload)))
    assert decoded[2] == code
    assert event.action == "BootNotification"
    assert event.unique_id == "m7"


def test_schema_violation_names_the_field_path() -> None:
    payload = {
        "connectorId": 1,
        "meterValue": [
            {"timestamp": "2025-03-01T12:00:00Z", "sampledValue": [{"value": "1", "unit": "MWh"}]}
        ],
    }
    _, decoded = reply(csms().receive(frame(2, "m8", "MeterValues", payload)))
    assert decoded[2] == "PropertyConstraintViolation"
    assert "$.meterValue[0].sampledValue[0].unit" in decoded[3]
    assert decoded[4] == {"path": "$.meterValue[0].sampledValue[0].unit"}


def test_invalid_utf8_inside_the_payload_is_a_format_violation() -> None:
    event, decoded = reply(csms(V201).receive(b'[2,"m9","DataTransfer",{"vendorId":"\xff"}]'))
    assert (event.unique_id, decoded[2]) == ("m9", "FormatViolation")


# -- framing errors ------------------------------------------------------------------------


def test_garbage_is_answered_with_id_minus_one() -> None:
    event, decoded = reply(csms(V201).receive("hello"))
    assert event.unique_id == "-1"
    assert decoded[2] == "RpcFrameworkError"
    _, decoded = reply(csms(V16).receive("hello"))
    assert decoded[2] == "ProtocolError"


def test_truncated_call_is_answered_with_its_id() -> None:
    event, decoded = reply(csms(V201).receive('[2,"m9","Heartbeat",{'))
    assert (event.unique_id, decoded[2]) == ("m9", "FormatViolation")


def test_unknown_message_type_is_answered() -> None:
    _, decoded = reply(csms(V201).receive(frame(6, "m10", "NotifyPeriodicEventStream", {})))
    assert decoded[1:3] == ["m10", "MessageTypeNotSupported"]
    _, decoded = reply(csms(V16).receive(frame(6, "m10", "X", {})))
    assert decoded[2] == "ProtocolError"


def test_wrong_element_count_of_a_call_is_a_protocol_error() -> None:
    _, decoded = reply(csms().receive(frame(2, "m11", "Heartbeat")))
    assert decoded[1:3] == ["m11", "ProtocolError"]


def test_oversize_call_is_a_format_violation_with_its_id() -> None:
    protocol = csms(V201, max_frame_bytes=100)
    big = frame(2, "m12", "DataTransfer", {"vendorId": "v", "data": "x" * 200})
    event, decoded = reply(protocol.receive(big))
    assert (event.unique_id, decoded[2]) == ("m12", "FormatViolation")
    v16_event = csms(V16, max_frame_bytes=100).receive(big.encode())
    assert isinstance(v16_event, ErrorReply)
    assert v16_event.frame == (
        b'[4,"m12","FormationViolation","Frame exceeds the limit of 100 bytes",{}]'
    )
    assert (v16_event.unique_id, v16_event.error.kind, v16_event.action) == (
        "m12",
        ErrorKind.FORMAT_VIOLATION,
        None,
    )


def test_oversize_garbage_is_answered_with_id_minus_one() -> None:
    event, _ = reply(csms(max_frame_bytes=10).receive("z" * 11))
    assert event.unique_id == "-1"


def test_frame_size_counts_utf8_bytes() -> None:
    text = frame(2, "m13", "DataTransfer", {"vendorId": "v", "data": "€" * 10})
    limit = len(text.encode()) - 1  # 20 bytes more than characters
    assert isinstance(csms(max_frame_bytes=limit + 1).receive(text), IncomingCall)
    assert isinstance(csms(max_frame_bytes=limit).receive(text), ErrorReply)


# -- responses are never answered ----------------------------------------------------------


def test_call_result_and_call_error() -> None:
    result = csms().receive(frame(3, "c1", {"status": "Accepted"}))
    assert result == IncomingResult("c1", b'{"status": "Accepted"}')
    error = csms().receive(frame(4, "c2", "FormationViolation", "bad", {"a": 1}))
    assert error == IncomingError(
        "c2", "FormationViolation", ErrorKind.FORMAT_VIOLATION, "bad", b'{"a": 1}'
    )
    unknown = csms(V201).receive(frame(4, "c3", "Whatever", "", {}))
    assert isinstance(unknown, IncomingError)
    assert unknown.kind is None


@pytest.mark.parametrize(
    "data",
    [
        frame(3, "c4"),
        frame(3, "c4", [], {}),
        frame(3, "c4", "payload"),
        frame(4, "c4", "GenericError", "x"),
        frame(4, "c4", 1, "x", {}),
        '[3,"c4",{"truncated',
        frame(3, "c" * 37, {}),
    ],
)
def test_malformed_responses_are_unanswerable(data: str) -> None:
    event = csms().receive(data)
    assert isinstance(event, Unanswerable)
    assert event.unique_id is not None
    assert event.unique_id.startswith("c")


def test_oversize_response_is_unanswerable() -> None:
    event = csms(max_frame_bytes=50).receive(frame(3, "c5", {"data": "x" * 100}))
    assert event == Unanswerable("Frame exceeds the limit of 50 bytes", "c5")


@pytest.mark.parametrize("data", [None, 42, 1.5, ["list"], {"a": 1}, object()])
def test_receive_never_raises_on_non_frames(data: Any) -> None:
    event = csms().receive(data)
    assert isinstance(event, Unanswerable)
    assert event.reason.startswith("a frame is text or bytes")


def test_receive_reports_internal_bugs_as_unanswerable(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: str | bytes) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr("chargegrid.ocpp.protocol.parse_frame", broken)
    event = csms().receive("[]")
    assert event == Unanswerable("unexpected ZeroDivisionError while reading a frame")


# -- outbound ------------------------------------------------------------------------------


def test_call_frame() -> None:
    request = v16.RemoteStartTransactionRequest(id_tag="TAG", connector_id=1)
    assert csms().call_frame("r1", "RemoteStartTransaction", request) == (
        b'[2,"r1","RemoteStartTransaction",{"idTag":"TAG","connectorId":1}]'
    )


def test_call_frame_refuses_what_this_side_may_not_send() -> None:
    with pytest.raises(RpcError) as info:
        csms().call_frame("r2", "Heartbeat", v16.HeartbeatRequest())
    assert info.value.kind is ErrorKind.NOT_SUPPORTED
    with pytest.raises(RpcError) as info:
        csms().call_frame("r2", "Nope", v16.HeartbeatRequest())
    assert info.value.kind is ErrorKind.NOT_IMPLEMENTED
    with pytest.raises(RpcError) as info:
        csms().call_frame("r2", "ClearCache", v16.HeartbeatRequest())
    assert info.value.kind is ErrorKind.INTERNAL_ERROR
    for bad_id in ("", "x" * 37):
        with pytest.raises(RpcError) as info:
            csms().call_frame(bad_id, "ClearCache", v16.ClearCacheRequest())
        assert info.value.kind is ErrorKind.INTERNAL_ERROR


def test_call_frame_validates_constraints() -> None:
    with pytest.raises(RpcError) as info:
        csms().call_frame(
            "r3", "RemoteStartTransaction", v16.RemoteStartTransactionRequest(id_tag="T" * 21)
        )
    assert info.value.kind is ErrorKind.PROPERTY_CONSTRAINT_VIOLATION
    assert "$.idTag" in info.value.description


def test_charger_role_sends_charger_actions() -> None:
    charger = OcppProtocol(V16, role="charger", max_frame_bytes=65536)
    assert charger.call_frame("h", "Heartbeat", v16.HeartbeatRequest()) == b'[2,"h","Heartbeat",{}]'
    data_transfer = v16.DataTransferRequest(vendor_id="acme")
    assert (
        csms().call_frame("d", "DataTransfer", data_transfer).startswith(b'[2,"d","DataTransfer"')
    )


def test_decode_response() -> None:
    response = csms().decode_response("RemoteStartTransaction", b'{"status":"Accepted"}')
    assert response == v16.RemoteStartTransactionResponse(status="Accepted")
    with pytest.raises(RpcError) as info:
        csms().decode_response("RemoteStartTransaction", b'{"status":"Maybe"}')
    assert info.value.kind is ErrorKind.PROPERTY_CONSTRAINT_VIOLATION
    with pytest.raises(RpcError) as info:
        csms().decode_response("Unknown", b"{}")
    assert info.value.kind is ErrorKind.NOT_IMPLEMENTED


def test_result_frame() -> None:
    response = v16.BootNotificationResponse(status="Accepted", current_time=NOW, interval=300)
    assert csms().result_frame("b1", response) == (
        b'[3,"b1",{"status":"Accepted","currentTime":"2025-03-01T12:00:00Z","interval":300}]'
    )
    with pytest.raises(RpcError) as info:
        csms().result_frame("b1", v16.AuthorizeResponse(id_tag_info=v16.IdTagInfo(status="Nope")))  # type: ignore[arg-type]
    assert info.value.kind is ErrorKind.PROPERTY_CONSTRAINT_VIOLATION


def test_error_frame_uses_the_version_spelling() -> None:
    error = RpcError(ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION, "missing", {"path": "$"})
    assert (
        csms(V16).error_frame("e1", error)
        == b'[4,"e1","OccurenceConstraintViolation","missing",{"path":"$"}]'
    )
    assert csms(V201).error_frame("e1", error) == (
        b'[4,"e1","OccurrenceConstraintViolation","missing",{"path":"$"}]'
    )


def test_role_is_checked() -> None:
    with pytest.raises(ValueError, match="role"):
        OcppProtocol(V16, role="cpo", max_frame_bytes=1)  # type: ignore[arg-type]
