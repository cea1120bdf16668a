"""Command forms: made from the API's command bodies, read back and checked like them."""

from __future__ import annotations

import pytest

from chargegrid.api.command_params import COMMANDS
from chargegrid.config import Settings
from chargegrid.dashboard.command_forms import FORMS, FormProblem, forms_for, params_of
from chargegrid.gateway.handlers.commands import VersionCatalog, translations_for
from chargegrid.ocpp.versions import OcppVersion


def test_every_command_has_a_form() -> None:
    assert set(FORMS) == set(COMMANDS)
    assert len(FORMS) == 21
    reset = {field.name: field for field in FORMS["reset"].fields}
    assert reset["type"].kind == "select"
    assert reset["type"].options == ("soft", "hard")
    assert reset["type"].required
    assert reset["evse_id"].kind == "number"
    assert not reset["evse_id"].required
    assert FORMS["reset"].disruptive
    availability = {field.name: field for field in FORMS["change-availability"].fields}
    assert availability["operative"].options == ("true", "false")  # a required yes or no
    kinds = {field.name: field.kind for field in FORMS["set-charging-profile"].fields}
    assert kinds == {"evse_id": "number", "profile": "json"}
    assert {f.name: f.kind for f in FORMS["send-local-list"].fields}["id_tokens"] == "list"


def test_a_form_becomes_the_body_the_api_takes() -> None:
    assert params_of("reset", {"type": "hard", "evse_id": "", "csrf_token": "x"}) == {
        "type": "hard"
    }
    assert params_of(
        "set-configuration",
        {
            "variable.component": "OCPPCommCtrlr",
            "variable.variable": "HeartbeatInterval",
            "variable.evse_id": "2",
            "value": "60",
        },
    ) == {
        "variable": {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "evse_id": 2},
        "value": "60",
    }
    firmware = params_of(
        "update-firmware",
        {"location": "https://example.com/fw.bin", "retrieve_at": "2030-01-02T03:04"},
    )
    assert firmware["retrieve_at"] == "2030-01-02T03:04:00Z"  # form times are UTC
    assert params_of("send-local-list", {"update_type": "full", "id_tokens": "A, B\nC"})[
        "id_tokens"
    ] == ["A", "B", "C"]
    assert params_of("change-availability", {"operative": "false"}) == {"operative": False}
    assert params_of("data-transfer", {"vendor_id": "acme", "data": "plain words"})["data"] == (
        "plain words"
    )
    profile = params_of(
        "set-charging-profile",
        {
            "evse_id": "1",
            "profile": '{"id": 1, "purpose": "tx_default", "kind": "absolute",'
            ' "schedule": {"rate_unit": "W", "periods": [{"start_period": 0, "limit": 7400}]}}',
        },
    )
    assert profile["profile"]["schedule"]["periods"] == [{"start_period": 0, "limit": 7400.0}]


@pytest.mark.parametrize(
    ("name", "form", "problem"),
    [
        ("reset", {}, "type: Field required"),
        ("reset", {"type": "sideways"}, "type: Input should be 'soft' or 'hard'"),
        ("unlock", {"evse_id": "zero"}, "evse_id: Input should be a valid integer"),
        ("set-charging-profile", {"evse_id": "1", "profile": "{nope"}, "Profile: not valid JSON"),
        ("set-configuration", {"value": "1"}, "give either key (OCPP 1.6) or variable"),
    ],
)
def test_a_wrong_form_says_what_is_wrong(name: str, form: dict[str, str], problem: str) -> None:
    with pytest.raises(FormProblem) as raised:
        params_of(name, form)
    assert any(problem in line for line in raised.value.problems), raised.value.problems


def test_fields_a_command_does_not_have_are_ignored() -> None:
    assert params_of("clear-cache", {"anything": "else", "csrf_token": "t"}) == {}


def test_a_charger_is_offered_only_what_its_version_can_carry() -> None:
    catalog = VersionCatalog(Settings())
    v16 = forms_for(catalog.names("1.6"))
    v201 = forms_for(catalog.names("2.0.1"))
    for only_201 in ("get-base-report", "set-display-message"):
        assert only_201 not in v16
        assert only_201 in v201
    assert set(v16) <= set(FORMS)
    assert set(v201) <= set(FORMS)
    assert set(v16) | set(v201) == set(FORMS)  # every form serves one version at least
    assert {"reset", "remote-start", "remote-stop", "unlock"} <= set(v16) & set(v201)
    # What the catalog says is what queuing accepts (the gateway's translations).
    assert catalog.names("1.6") == frozenset(translations_for(OcppVersion.V16))
    assert catalog.names("2.0.1") == frozenset(translations_for(OcppVersion.V201))
    assert catalog.names("9.9") == frozenset()
    assert forms_for(None) == FORMS  # the version is not known yet
