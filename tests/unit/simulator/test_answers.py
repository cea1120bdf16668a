"""Every CSMS CALL of each version gets a valid answer, and the important ones do what
they say: remote start and stop, reset, configuration, triggers, firmware and log
uploads, local lists, certificates, reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography import x509

from chargegrid.ocpp.versions import ActionSpec, OcppVersion, actions
from chargegrid.pki.certificates import (
    KeyKind,
    certificate_pem,
    create_authority,
    generate_key,
    issue_client_certificate,
)
from chargegrid.pki.csr import check_csr
from chargegrid.simulator.physics import Ev
from chargegrid.simulator.station import REBOOT_DELAY_S
from tests.unit.ocpp.examples import assert_valid, example, schema_files
from tests.unit.simulator.csms import T0, Csms, make_core, run_until

V16, V201 = OcppVersion.V16, OcppVersion.V201
NOW = datetime.fromtimestamp(T0, UTC)


def csms_actions() -> list[Any]:
    return [
        pytest.param(version, spec, id=f"{version.value}-{spec.name}")
        for version in OcppVersion
        for spec in actions(version).values()
        if spec.from_csms
    ]


def ev() -> Ev:
    return Ev(capacity_wh=60_000.0, soc=40.0, max_power_w=11_000.0, target_soc=90.0)


def charging(version: OcppVersion, **kwargs: Any) -> Csms:
    """A booted charger with a session running on EVSE 1."""
    csms = Csms(make_core(version, meter_interval=10.0, **kwargs))
    csms.boot()
    assert csms.core.station.plug_in(1, T0, id_token="TAG", duration=600.0, ev=ev())
    csms.serve(T0)
    return csms


def check_sent(csms: Csms) -> None:
    """Every CALL the charger sent is valid against the official schema."""
    for action, payload in csms.calls:
        spec = actions(csms.version)[action]
        assert_valid(csms.version, schema_files(csms.version, spec)[0], payload)


@pytest.mark.parametrize(("version", "spec"), csms_actions())
@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
def test_every_csms_call_gets_a_valid_answer(
    version: OcppVersion, spec: ActionSpec, full: bool
) -> None:
    csms = charging(version)
    answer = csms.call(spec.name, example(spec.request, full=full), T0 + 1)
    assert answer[0] == 3, answer  # a CALLRESULT, never a CALLERROR
    assert_valid(version, schema_files(version, spec)[1], answer[2])
    run_until(csms, T0 + 1, T0 + 30)  # whatever it causes goes out valid too
    check_sent(csms)


# -- transactions ----------------------------------------------------------------------------


def test_remote_start_and_stop_in_16() -> None:
    csms = Csms(make_core(V16))
    csms.boot()
    start = csms.call("RemoteStartTransaction", {"idTag": "REMOTE", "connectorId": 2}, T0)
    assert start[2] == {"status": "Accepted"}
    served = csms.serve(T0)
    assert [a for a, _ in served] == [
        "StatusNotification",
        "StartTransaction",
        "StatusNotification",
    ]
    assert served[1][1]["connectorId"] == 2
    assert served[1][1]["idTag"] == "REMOTE"
    transaction_id = csms._transaction
    busy = csms.call("RemoteStartTransaction", {"idTag": "OTHER", "connectorId": 2}, T0 + 1)
    assert busy[2] == {"status": "Rejected"}
    unknown = csms.call("RemoteStopTransaction", {"transactionId": 999}, T0 + 5)
    assert unknown[2] == {"status": "Rejected"}
    stop = csms.call("RemoteStopTransaction", {"transactionId": transaction_id}, T0 + 5)
    assert stop[2] == {"status": "Accepted"}
    stopped = [p for a, p in csms.serve(T0 + 5) if a == "StopTransaction"]
    assert stopped[0]["reason"] == "Remote"
    assert stopped[0]["transactionId"] == transaction_id
    check_sent(csms)


def test_request_start_and_stop_in_201() -> None:
    csms = Csms(make_core(V201))
    csms.boot()
    request = {"idToken": {"idToken": "APP", "type": "Central"}, "remoteStartId": 77}
    assert csms.call("RequestStartTransaction", request, T0)[2] == {"status": "Accepted"}
    events = [p for a, p in csms.serve(T0) if a == "TransactionEvent"]
    assert events[0]["triggerReason"] == "RemoteStart"
    assert events[0]["transactionInfo"]["remoteStartId"] == 77
    assert events[0]["idToken"] == {"idToken": "APP", "type": "Central"}
    key = events[0]["transactionInfo"]["transactionId"]
    stop = csms.call("RequestStopTransaction", {"transactionId": key}, T0 + 3)
    assert stop[2] == {"status": "Accepted"}
    ended = [p for a, p in csms.serve(T0 + 3) if a == "TransactionEvent"][-1]
    assert ended["eventType"] == "Ended"
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    assert ended["triggerReason"] == "RemoteStop"
    assert csms.core.records()[0].remote_start_id == 77
    check_sent(csms)


def test_a_tx_profile_needs_a_transaction() -> None:
    csms = Csms(make_core(V16))
    csms.boot()
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 2000.0}],
        },
    }
    body = {"connectorId": 1, "csChargingProfiles": profile}
    assert csms.call("SetChargingProfile", body, T0)[2] == {"status": "Rejected"}
    assert csms.core.station.plug_in(1, T0, id_token="T", ev=ev())
    csms.serve(T0)
    assert csms.call("SetChargingProfile", body, T0 + 1)[2] == {"status": "Accepted"}
    assert csms.core.station.evses[0].meter.power_w == 2000.0


# -- reset -----------------------------------------------------------------------------------


def test_a_hard_reset_ends_the_session_and_restarts() -> None:
    csms = charging(V16)
    core = csms.core
    assert csms.call("Reset", {"type": "Hard"}, T0 + 5)[2] == {"status": "Accepted"}
    stop = [p for a, p in csms.serve(T0 + 5) if a == "StopTransaction"]
    assert stop[0]["reason"] == "HardReset"
    assert not core.wants_reboot(T0 + 5)
    assert core.wants_reboot(T0 + 5 + REBOOT_DELAY_S)
    core.disconnected(T0 + 6)
    core.rebooted(T0 + 6)
    core.connected(T0 + 8)
    served = csms.serve(T0 + 8)
    assert served[0] == ("BootNotification", served[0][1])
    assert served[0][1]["chargePointModel"] == "Simulator 1.6"
    assert ("SecurityEventNotification", "ResetOrReboot") in [
        (action, p.get("type")) for action, p in served
    ]


def test_a_reset_on_idle_waits_for_the_session() -> None:
    csms = charging(V201)
    core = csms.core
    assert csms.call("Reset", {"type": "OnIdle"}, T0 + 5)[2] == {"status": "Scheduled"}
    assert not core.wants_reboot(T0 + 100)
    evse = core.station.evses[0]
    assert csms.call("RequestStopTransaction", {"transactionId": evse.tx.key}, T0 + 200)  # type: ignore[union-attr]
    assert core.wants_reboot(T0 + 200 + REBOOT_DELAY_S)


# -- configuration ---------------------------------------------------------------------------


def test_configuration_keys_in_16() -> None:
    csms = Csms(make_core(V16, meter_interval=60.0))
    csms.boot()
    got = csms.call("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}, T0)[2]
    assert got == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
        "unknownKey": ["Nope"],
    }
    change = csms.call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}, T0)
    assert change[2] == {"status": "Accepted"}
    assert csms.core.next_deadline(T0) == T0 + 60
    meter = csms.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "5"}, T0)
    assert meter[2] == {"status": "Accepted"}
    assert csms.core.station.meter_interval == 5.0
    kept = csms.call("ChangeConfiguration", {"key": "LocalPreAuthorize", "value": "true"}, T0)
    assert kept[2] == {"status": "Accepted"}
    read_only = csms.call("ChangeConfiguration", {"key": "NumberOfConnectors", "value": "9"}, T0)
    assert read_only[2] == {"status": "Rejected"}
    unknown = csms.call("ChangeConfiguration", {"key": "Nope", "value": "1"}, T0)
    assert unknown[2] == {"status": "NotSupported"}
    every = csms.call("GetConfiguration", {}, T0)[2]["configurationKey"]
    assert {"key": "LocalPreAuthorize", "readonly": False, "value": "true"} in every
    assert {"key": "NumberOfConnectors", "readonly": True, "value": "2"} in every


def variable(component: str, name: str, **more: Any) -> dict[str, Any]:
    return {"component": {"name": component}, "variable": {"name": name}, **more}


def test_variables_in_201_drive_the_simulation() -> None:
    csms = charging(V201)
    core = csms.core
    setting = [
        variable("SampledDataCtrlr", "TxUpdatedInterval", attributeValue="15"),
        variable("OCPPCommCtrlr", "RetryBackOffWaitMinimum", attributeValue="7"),
        variable("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="0"),
        variable("ChargingStation", "Model", attributeValue="X"),
        variable("Nowhere", "X", attributeValue="1"),
        variable("AuthCtrlr", "Nothing", attributeValue="1"),
    ]
    results = csms.call("SetVariables", {"setVariableData": setting}, T0 + 1)[2]
    assert [r["attributeStatus"] for r in results["setVariableResult"]] == [
        "Accepted",
        "Accepted",
        "Rejected",  # not a positive number
        "Rejected",  # read-only
        "UnknownComponent",
        "UnknownVariable",
    ]
    assert core.station.meter_interval == 15.0
    assert core.station.backoff.wait_minimum == 7
    reading = [
        variable("SampledDataCtrlr", "TxUpdatedInterval"),
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}},
        variable("ChargingStation", "Model", attributeType="Target"),
    ]
    got = csms.call("GetVariables", {"getVariableData": reading}, T0 + 1)[2]
    assert [(r["attributeStatus"], r.get("attributeValue")) for r in got["getVariableResult"]] == [
        ("Accepted", "15"),
        ("Accepted", "11000.0"),  # what the EV takes
        ("NotSupportedAttributeType", None),
    ]


def test_a_base_report_follows_its_answer() -> None:
    csms = Csms(make_core(V201))
    csms.boot()
    answer = csms.call("GetBaseReport", {"requestId": 4, "reportBase": "FullInventory"}, T0)
    assert answer[2] == {"status": "Accepted"}
    reports = [p for a, p in csms.serve(T0) if a == "NotifyReport"]
    assert [r["seqNo"] for r in reports] == list(range(len(reports)))
    assert all(r.get("tbc") for r in reports[:-1])
    assert "tbc" not in reports[-1]
    names = {
        (d["component"]["name"], d["variable"]["name"]) for r in reports for d in r["reportData"]
    }
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names
    assert ("EVSE", "AvailabilityState") in names
    check_sent(csms)


# -- triggers, firmware, logs ----------------------------------------------------------------


def test_triggered_messages() -> None:
    csms = charging(V16)
    answer = csms.call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 2}, T0)
    assert answer[2] == {"status": "Accepted"}
    served = csms.serve(T0)
    assert [a for a, _ in served] == ["MeterValues"]
    assert "transactionId" not in served[0][1]
    assert served[0][1]["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
    csms.call("TriggerMessage", {"requestedMessage": "StatusNotification"}, T0)
    assert [p["connectorId"] for _, p in csms.serve(T0)] == [1, 2]

    csms201 = charging(V201)
    boot = csms201.call("TriggerMessage", {"requestedMessage": "BootNotification"}, T0)
    assert boot[2] == {"status": "Rejected"}  # already accepted (F06.FR.17)
    event = csms201.call("TriggerMessage", {"requestedMessage": "TransactionEvent"}, T0)
    assert event[2] == {"status": "Accepted"}
    (update,) = [p for a, p in csms201.serve(T0) if a == "TransactionEvent"]
    assert update["triggerReason"] == "Trigger"


def test_a_firmware_update_reports_each_step_then_restarts() -> None:
    csms = Csms(make_core(V201))
    csms.boot()
    request = {
        "requestId": 12,
        "firmware": {"location": "https://fw.example/v2.bin", "retrieveDateTime": NOW.isoformat()},
    }
    assert csms.call("UpdateFirmware", request, T0)[2] == {"status": "Accepted"}
    run_until(csms, T0, T0 + 20)
    steps = [p for a, p in csms.calls if a == "FirmwareStatusNotification"]
    assert [(s["status"], s["requestId"]) for s in steps] == [
        ("Downloading", 12),
        ("Downloaded", 12),
        ("Installing", 12),
        ("Installed", 12),
    ]
    assert csms.core.station.firmware_version == "1.0.12"
    boots = [p for a, p in csms.calls if a == "BootNotification"]
    assert [b["reason"] for b in boots] == ["PowerUp", "FirmwareUpdate"]
    assert boots[-1]["chargingStation"]["firmwareVersion"] == "1.0.12"
    events = [p["type"] for a, p in csms.calls if a == "SecurityEventNotification"]
    assert events == ["FirmwareUpdated"]  # once it is back


def test_diagnostics_are_uploaded_with_status_notifications() -> None:
    csms = Csms(make_core(V16))
    csms.boot()
    answer = csms.call("GetDiagnostics", {"location": "ftp://logs.example/"}, T0)
    assert answer[2]["fileName"].startswith("CP-1-")
    run_until(csms, T0, T0 + 10)
    steps = [p["status"] for a, p in csms.calls if a == "DiagnosticsStatusNotification"]
    assert steps == ["Uploading", "Uploaded"]
    csms.call(
        "GetLog",
        {"log": {"remoteLocation": "nowhere"}, "logType": "SecurityLog", "requestId": 3},
        T0 + 10,
    )
    run_until(csms, T0 + 10, T0 + 20)
    logs = [(p["status"], p["requestId"]) for a, p in csms.calls if a == "LogStatusNotification"]
    assert logs == [("Uploading", 3), ("UploadFailure", 3)]


# -- authorization -----------------------------------------------------------------------------


def test_the_local_list_decides_while_offline() -> None:
    csms = Csms(make_core(V16))
    csms.boot()
    full = {
        "listVersion": 3,
        "updateType": "Full",
        "localAuthorizationList": [
            {"idTag": "GOOD", "idTagInfo": {"status": "Accepted"}},
            {"idTag": "BAD", "idTagInfo": {"status": "Blocked"}},
        ],
    }
    assert csms.call("SendLocalList", full, T0)[2] == {"status": "Accepted"}
    stale = {"listVersion": 3, "updateType": "Differential", "localAuthorizationList": []}
    assert csms.call("SendLocalList", stale, T0)[2] == {"status": "VersionMismatch"}
    assert csms.call("GetLocalListVersion", {}, T0)[2] == {"listVersion": 3}
    core = csms.core
    core.disconnected(T0 + 1)
    assert core.station.plug_in(1, T0 + 2, id_token="BAD", ev=ev())
    assert core.station.evses[0].tx is None  # refused: the driver leaves
    assert core.station.plug_in(1, T0 + 3, id_token="GOOD", ev=ev())
    assert core.station.evses[0].tx is not None
    assert core.records()[0].offline


# -- certificates ------------------------------------------------------------------------------


def test_certificates_are_installed_listed_and_deleted() -> None:
    authority = create_authority(
        generate_key(KeyKind.EC), common_name="Root", organization="CPO", now=NOW, days=30
    )
    pem = certificate_pem(authority.certificate)
    csms = Csms(make_core(V201))
    csms.boot()
    install = {"certificateType": "CSMSRootCertificate", "certificate": pem}
    assert csms.call("InstallCertificate", install, T0)[2] == {"status": "Accepted"}
    bogus = {"certificateType": "CSMSRootCertificate", "certificate": "not a certificate"}
    assert csms.call("InstallCertificate", bogus, T0)[2] == {"status": "Rejected"}
    listed = csms.call(
        "GetInstalledCertificateIds", {"certificateType": ["CSMSRootCertificate"]}, T0
    )
    (chain,) = listed[2]["certificateHashDataChain"]
    hash_data = chain["certificateHashData"]
    assert hash_data["serialNumber"] == format(authority.certificate.serial_number, "x")
    deleted = csms.call("DeleteCertificate", {"certificateHashData": hash_data}, T0)
    assert deleted[2] == {"status": "Accepted"}
    again = csms.call("DeleteCertificate", {"certificateHashData": hash_data}, T0)
    assert again[2] == {"status": "NotFound"}


def test_a_signing_request_and_the_certificate_that_answers_it() -> None:
    csms = Csms(make_core(V16))
    csms.boot()
    trigger = {"requestedMessage": "SignChargePointCertificate"}
    assert csms.call("ExtendedTriggerMessage", trigger, T0)[2] == {"status": "Accepted"}
    (request,) = [p for a, p in csms.serve(T0) if a == "SignCertificate"]
    checked = check_csr(request["csr"], charger_id="CP-1", organization=None)
    authority = create_authority(
        generate_key(KeyKind.EC), common_name="CA", organization="CPO", now=NOW, days=30
    )
    issued = issue_client_certificate(
        authority, checked.public_key, common_name="CP-1", organization=None, now=NOW, days=10
    )
    signed = {"certificateChain": certificate_pem(issued)}
    assert csms.call("CertificateSigned", signed, T0)[2] == {"status": "Accepted"}
    other = certificate_pem(authority.certificate)
    assert csms.call("CertificateSigned", {"certificateChain": other}, T0)[2] == {
        "status": "Rejected"
    }
    assert isinstance(issued, x509.Certificate)
