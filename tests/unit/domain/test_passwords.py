"""Charger password rules and hashing."""

from __future__ import annotations

import pytest

from chargegrid.domain.passwords import (
    VerifiedPasswords,
    check_password_rules,
    hash_password,
    verify_password,
)


@pytest.mark.parametrize("length", [16, 28, 40])
def test_lengths_the_spec_allows(length: int) -> None:
    check_password_rules("x" * length)


@pytest.mark.parametrize("length", [0, 15, 41])
def test_lengths_the_spec_forbids(length: int) -> None:
    with pytest.raises(ValueError, match="16-40 characters"):
        check_password_rules("x" * length)


def test_hash_is_salted_and_verifies() -> None:
    first = hash_password("correct-horse-battery", iterations=1000)
    second = hash_password("correct-horse-battery", iterations=1000)
    assert first != second
    assert first.startswith("pbkdf2_sha256$1000$")
    assert "correct-horse" not in first
    assert verify_password("correct-horse-battery", first)
    assert verify_password("correct-horse-battery", second)
    assert not verify_password("correct-horse-batterz", first)


@pytest.mark.parametrize(
    "encoded", ["", "garbage", "md5$1$abc$def", "pbkdf2_sha256$x$AAAA$AAAA", "a$b$c"]
)
def test_malformed_hashes_never_verify(encoded: str) -> None:
    assert not verify_password("anything-at-all-16", encoded)


def test_verified_cache_follows_the_stored_hash() -> None:
    cache = VerifiedPasswords()
    stored = hash_password("first-password-of-16", iterations=1000)
    assert cache.verify("first-password-of-16", stored)
    assert cache.verify("first-password-of-16", stored)  # from the cache
    assert not cache.verify("other-password-of-16", stored)
    changed = hash_password("second-password-of-16", iterations=1000)
    assert not cache.verify("first-password-of-16", changed)
    assert cache.verify("second-password-of-16", changed)


def test_verified_cache_is_bounded() -> None:
    cache = VerifiedPasswords(max_entries=2)
    hashes = [hash_password(f"password-number-{n:02d}", iterations=1000) for n in range(3)]
    for n, stored in enumerate(hashes):
        assert cache.verify(f"password-number-{n:02d}", stored)
    assert len(cache._entries) <= 2
