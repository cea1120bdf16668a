"""Formatting and escaping in the dashboard's templates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from chargegrid.dashboard.templating import ago, dom_id, json_script, kwh, render, tone, when

NOW = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_energy_times_and_tones() -> None:
    assert kwh(None) == "—"
    assert kwh(0.0) == "0.00 kWh"
    assert kwh(640.4) == "640 Wh"
    assert kwh(12_345.0) == "12.35 kWh"
    assert kwh(1_234_567.0) == "1,234.6 kWh"
    assert ago(None, NOW) == "never"
    assert ago(NOW - timedelta(seconds=1), NOW) == "just now"
    assert ago(NOW - timedelta(seconds=42), NOW) == "42 s ago"
    assert ago(NOW - timedelta(minutes=3, seconds=5), NOW) == "3 min ago"
    assert ago(NOW - timedelta(days=2, hours=1), NOW) == "2 d ago"
    assert when(NOW - timedelta(hours=1), NOW) == "06:08:09"
    assert when(NOW - timedelta(days=1), NOW) == "2030-05-05 07:08"
    assert (tone("Charging"), tone("Faulted"), tone("Available"), tone(None)) == (
        "busy",
        "bad",
        "ok",
        "muted",
    )


def test_element_ids_are_safe_and_distinct() -> None:
    assert dom_id("live", "CP-1") == "live-CP-1"
    odd = [dom_id("live", charger) for charger in ("a.b", "a_2e_b", "a*b", "a b", 'a"b')]
    assert len(set(odd)) == len(odd)
    assert all(part.replace("-", "").replace("_", "").isalnum() for part in odd)


def test_script_data_cannot_end_its_script_element() -> None:
    text = str(json_script({"name": "</script><script>alert(1)</script>&"}))
    assert "</script>" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>&"}


def test_templates_escape_what_chargers_report() -> None:
    html = render(
        "overview/_alerts.html",
        live=type("Live", (), {"alerts": [_alert('<img src=x onerror="alert(1)">')]})(),
        now=NOW,
        oob=True,
    )
    assert "<img" not in html
    assert "&lt;img src=x" in html
    assert 'hx-swap-oob="true"' in html


def _alert(title: str) -> object:
    from chargegrid.storage.repositories.network import Alert

    return Alert("security", "CP-1", NOW, title)
