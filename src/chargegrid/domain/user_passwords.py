"""Operator user passwords: scrypt hashes (memory-hard), checked in constant time.

Charger passwords (OCPP Basic auth) are another scheme: see ``passwords.py``.
These functions are CPU- and memory-bound (tens of milliseconds): async callers run
them in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

MIN_LENGTH = 8
MAX_LENGTH = 1024
_ALGORITHM = "scrypt"
_N = 2**14
_R = 8
_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024  # bytes scrypt may use: 128 * n * r * p is 16 MiB by default
_MAX_COST = 2**20  # refuse stored parameters that would take seconds (a tampered row)


def check_password_rules(password: str) -> None:
    """Raise ``ValueError`` unless the password has 8-1024 characters."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValueError(f"password must be {MIN_LENGTH}-{MAX_LENGTH} characters")


def hash_password(password: str, *, n: int = _N, r: int = _R, p: int = _P) -> str:
    """A salted scrypt hash in ``scrypt$n$r$p$salt$hash`` form (base64 salt and hash)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, n=n, r=r, p=p, length=_HASH_BYTES)
    return "$".join((_ALGORITHM, str(n), str(r), str(p), _b64(salt), _b64(digest)))


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded``; False for anything malformed."""
    try:
        algorithm, n, r, p, salt, digest = encoded.split("$")
        if algorithm != _ALGORITHM or int(n) * int(r) * int(p) > _MAX_COST:
            return False
        expected = _unb64(digest)
        if not expected:
            return False
        candidate = _scrypt(
            password, _unb64(salt), n=int(n), r=int(r), p=int(p), length=len(expected)
        )
    except (ValueError, TypeError, binascii.Error):
        return False
    return hmac.compare_digest(candidate, expected)


def _scrypt(password: str, salt: bytes, *, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=length
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(data: str) -> bytes:
    return base64.b64decode(data.encode(), validate=True)
