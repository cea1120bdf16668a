"""Reading management forms: a problem per field, times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from chargegrid.dashboard.forms import Form, form_of, local_input


def test_each_field_gets_its_own_problem() -> None:
    form = Form({"token": "  ", "name": "x" * 30, "status": "Maybe", "at": "2030-01-31 18:00"})
    assert form.text("token", "The token", max_length=10, required=True) is None
    assert form.text("name", "The name", max_length=20) == "x" * 30
    assert form.choice("status", "Status", ("Accepted", "Blocked")) is None
    assert form.utc_time("at", "Expiry") is None
    assert form.text("missing", "Nothing", max_length=5) is None
    assert not form.ok
    assert form.errors == {
        "token": "The token is required.",
        "name": "The name is at most 20 characters.",
        "status": "Choose a status: Accepted, Blocked.",
        "at": "Expiry must be a date and time, like 2030-01-31T18:00.",
    }


def test_times_are_typed_in_utc() -> None:
    form = Form({"at": "2030-01-31T18:00", "bad": "2030-02-31T18:00"})
    assert form.utc_time("at", "At") == datetime(2030, 1, 31, 18, tzinfo=UTC)
    assert form.utc_time("bad", "Bad") is None
    assert form.errors == {"bad": "Bad is not a valid date and time."}
    assert local_input(datetime(2030, 1, 31, 18, 5, 9, tzinfo=UTC)) == "2030-01-31T18:05"
    assert local_input(None) == ""
    assert form_of({"a": None, "b": 3}).values == {"a": "", "b": "3"}
