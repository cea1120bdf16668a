"""The pure parts of charger authentication: path, Basic header, failure limiter."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest

from chargegrid.gateway import auth
from chargegrid.gateway.auth import FailureLimiter, charger_id_from_path, parse_basic_auth


def basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("path", "charger_id"),
    [
        ("/ocpp/CP-1", "CP-1"),
        ("/ocpp/CP-1?token=x", "CP-1"),
        ("/ocpp/CP%2D1", "CP-1"),
        ("/ocpp/a.b_c~d*e@f+g|h=i-j", "a.b_c~d*e@f+g|h=i-j"),
        ("/ocpp/" + "x" * 48, "x" * 48),
    ],
)
def test_charger_id_from_a_valid_path(path: str, charger_id: str) -> None:
    assert charger_id_from_path(path) == charger_id


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/ocpp",
        "/ocpp/",
        "/ocpp/?x=1",
        "/OCPP/CP-1",
        "/ocppx/CP-1",
        "/other/CP-1",
        "/api/ocpp/CP-1",
        "/ocpp/CP-1/",
        "/ocpp/a/b",
        "/ocpp/a%2Fb",
        "/ocpp/a:b",
        "/ocpp/a%3Ab",
        "/ocpp/CP%201",
        "/ocpp/CP 1",
        "/ocpp/" + "x" * 49,
        "/ocpp/%",
    ],
)
def test_no_charger_id_from_an_invalid_path(path: str) -> None:
    assert charger_id_from_path(path) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (basic(b"CP-1:secret"), ("CP-1", "secret")),
        ("basic " + base64.b64encode(b"CP-1:secret").decode(), ("CP-1", "secret")),
        ("BASIC  " + base64.b64encode(b"CP-1:secret").decode() + " ", ("CP-1", "secret")),
        (basic(b"CP-1:pass:with:colons"), ("CP-1", "pass:with:colons")),
        (basic(b"CP-1:"), ("CP-1", "")),
        (basic(b":secret"), ("", "secret")),
        (basic("CP-1:pässwörd".encode()), ("CP-1", "pässwörd")),
    ],
)
def test_parse_basic_auth(header: str, expected: tuple[str, str]) -> None:
    assert parse_basic_auth(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic",
        "Basic ",
        "Bearer " + base64.b64encode(b"CP-1:secret").decode(),
        "Digest username=CP-1",
        basic(b"no colon here"),
        "Basic not*base64!",
        "Basic " + base64.b64encode(b"CP-1:secret").decode()[:-2],  # bad padding
        basic(b"CP-1:\xff\xfe"),  # not UTF-8
    ],
)
def test_parse_basic_auth_rejects(header: str | None) -> None:
    assert parse_basic_auth(header) is None


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    """Replace the limiter module's monotonic clock (only there) with one we move."""
    fake = FakeMonotonic()
    monkeypatch.setattr(auth, "time", SimpleNamespace(monotonic=fake))
    return fake


def test_limiter_blocks_at_the_limit(clock: FakeMonotonic) -> None:
    limiter = FailureLimiter(limit=3, window_s=60)
    assert not limiter.blocked("10.0.0.1")
    for _ in range(2):
        limiter.fail("10.0.0.1")
        assert not limiter.blocked("10.0.0.1")
    limiter.fail("10.0.0.1")
    assert limiter.blocked("10.0.0.1")


def test_limiter_counts_per_address(clock: FakeMonotonic) -> None:
    limiter = FailureLimiter(limit=2, window_s=60)
    limiter.fail("10.0.0.1")
    limiter.fail("10.0.0.1")
    limiter.fail("10.0.0.2")
    assert limiter.blocked("10.0.0.1")
    assert not limiter.blocked("10.0.0.2")
    assert not limiter.blocked("10.0.0.3")


def test_limiter_forgets_failures_older_than_the_window(clock: FakeMonotonic) -> None:
    limiter = FailureLimiter(limit=2, window_s=60)
    limiter.fail("10.0.0.1")
    clock.now += 30
    limiter.fail("10.0.0.1")
    assert limiter.blocked("10.0.0.1")
    clock.now += 29.9  # the first failure is 59.9 s old: still counted
    assert limiter.blocked("10.0.0.1")
    clock.now += 0.2  # now 60.1 s old: only one failure left in the window
    assert not limiter.blocked("10.0.0.1")
    limiter.fail("10.0.0.1")
    assert limiter.blocked("10.0.0.1")
    clock.now += 61  # everything expired
    assert not limiter.blocked("10.0.0.1")
    limiter.fail("10.0.0.1")
    assert not limiter.blocked("10.0.0.1")  # a fresh count starts at one


def test_limit_of_one_blocks_after_the_first_failure(clock: FakeMonotonic) -> None:
    limiter = FailureLimiter(limit=1, window_s=5)
    assert not limiter.blocked("::1")
    limiter.fail("::1")
    assert limiter.blocked("::1")
    clock.now += 5.1
    assert not limiter.blocked("::1")


def test_limiter_memory_stays_bounded(clock: FakeMonotonic) -> None:
    limiter = FailureLimiter(limit=1, window_s=60, max_addresses=4)
    for n in range(100):
        limiter.fail(f"10.0.{n // 256}.{n % 256}")
        assert len(limiter._failures) <= 4
    assert limiter.blocked("10.0.0.99")  # the latest failure is still counted


def test_limiter_forgets_stale_addresses_before_live_ones(clock: FakeMonotonic) -> None:
    limiter = FailureLimiter(limit=1, window_s=60, max_addresses=3)
    limiter.fail("10.0.0.1")
    limiter.fail("10.0.0.2")
    clock.now += 61
    limiter.fail("10.0.0.1")  # fresh again, though the oldest entry of the table
    limiter.fail("10.0.0.3")
    limiter.fail("10.0.0.4")  # the table is full: only the stale 10.0.0.2 goes
    assert limiter.blocked("10.0.0.1")
    assert limiter.blocked("10.0.0.3")
    assert limiter.blocked("10.0.0.4")
    assert not limiter.blocked("10.0.0.2")
