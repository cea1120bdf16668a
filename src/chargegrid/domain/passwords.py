"""Charger passwords (OCPP security profile 1/2 ``AuthorizationKey``): hashing and checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

MIN_LENGTH = 16
MAX_LENGTH = 40
_ALGORITHM = "pbkdf2_sha256"
_ITERATIONS = 60_000


def check_password_rules(password: str) -> None:
    """Raise ``ValueError`` unless the password has the 16-40 characters OCPP requires."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValueError(
            f"charger password must be {MIN_LENGTH}-{MAX_LENGTH} characters, got {len(password)}"
        )


def hash_password(password: str, *, iterations: int = _ITERATIONS) -> str:
    """Return a salted PBKDF2-SHA256 hash in ``algorithm$iterations$salt$digest`` form."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return "$".join(
        (_ALGORITHM, str(iterations), _b64(salt), _b64(digest)),
    )


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches the stored hash (constant-time comparison)."""
    try:
        algorithm, iterations, salt, digest = encoded.split("$")
        if algorithm != _ALGORITHM:
            return False
        candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, _unb64(digest))


class VerifiedPasswords:
    """Remembers recent successful checks so a reconnect storm does not redo PBKDF2.

    Keyed by the stored hash, so a changed password invalidates the entry; the
    remembered value is a keyed digest, never the password itself.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._key = secrets.token_bytes(32)
        self._entries: dict[str, bytes] = {}
        self._max_entries = max_entries

    def is_known(self, password: str, encoded: str) -> bool:
        """Whether this password was verified against this hash before (cheap)."""
        known = self._entries.get(encoded)
        return known is not None and hmac.compare_digest(known, self.fingerprint(password))

    def remember(self, password: str, encoded: str) -> None:
        """Note a successful full check of ``password`` against ``encoded``."""
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[encoded] = self.fingerprint(password)

    def verify(self, password: str, encoded: str) -> bool:
        """``verify_password`` with the cache in front of it."""
        if self.is_known(password, encoded):
            return True
        if not verify_password(password, encoded):
            return False
        self.remember(password, encoded)
        return True

    def fingerprint(self, password: str) -> bytes:
        """A keyed digest of ``password``: what is remembered instead of the password."""
        return hmac.new(self._key, password.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(data: str) -> bytes:
    return base64.b64decode(data.encode(), validate=True)
