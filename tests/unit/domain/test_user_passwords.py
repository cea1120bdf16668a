"""Operator user passwords: scrypt hashes, rules, and refusal of tampered encodings."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from chargegrid.domain.user_passwords import (
    check_password_rules,
    hash_password,
    verify_password,
)

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def encoded() -> str:
    return hash_password(PASSWORD)


def test_hash_is_salted_scrypt_and_verifies(encoded: str) -> None:
    algorithm, n, r, p, salt, digest = encoded.split("$")
    assert (algorithm, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert PASSWORD not in encoded
    assert verify_password(PASSWORD, encoded)
    other = hash_password(PASSWORD)
    assert other != encoded  # a new salt every time
    assert verify_password(PASSWORD, other)


@pytest.mark.parametrize("attempt", ["correct horse battery ", "Correct horse battery", ""])
def test_a_wrong_password_is_refused(encoded: str, attempt: str) -> None:
    assert not verify_password(attempt, encoded)


def _replace(encoded: str, index: int, value: str) -> str:
    parts = encoded.split("$")
    parts[index] = value
    return "$".join(parts)


def _flip_first_byte(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda e: _replace(e, 0, "pbkdf2_sha256"), id="algorithm"),
        pytest.param(lambda e: _replace(e, 1, str(2**13)), id="cost-lowered"),
        pytest.param(lambda e: _replace(e, 1, "1000"), id="cost-not-a-power-of-two"),
        pytest.param(lambda e: _replace(e, 1, str(2**24)), id="cost-too-high"),
        pytest.param(lambda e: _replace(e, 1, "x"), id="cost-not-a-number"),
        pytest.param(lambda e: _replace(e, 2, "4"), id="block-size"),
        pytest.param(lambda e: _replace(e, 4, _flip_first_byte(e.split("$")[4])), id="salt"),
        pytest.param(lambda e: _replace(e, 5, _flip_first_byte(e.split("$")[5])), id="hash"),
        pytest.param(lambda e: _replace(e, 5, ""), id="hash-empty"),
        pytest.param(lambda e: _replace(e, 5, "not base64!"), id="hash-not-base64"),
        pytest.param(lambda e: e.rsplit("$", 1)[0], id="hash-missing"),
        pytest.param(lambda e: e + "$extra", id="extra-field"),
        pytest.param(lambda e: "", id="empty"),
    ],
)
def test_a_tampered_encoding_is_refused(encoded: str, tamper: Callable[[str], str]) -> None:
    tampered = tamper(encoded)
    assert tampered != encoded
    assert not verify_password(PASSWORD, tampered)


@pytest.mark.parametrize("length", [8, 64, 1024])
def test_lengths_allowed(length: int) -> None:
    check_password_rules("x" * length)


@pytest.mark.parametrize("length", [0, 7, 1025])
def test_lengths_refused(length: int) -> None:
    with pytest.raises(ValueError, match="8-1024 characters"):
        check_password_rules("x" * length)
