"""Dashboard sign-ins: a signed session cookie, checked against the user on every request.

The cookie holds the user's id, a stamp of their password, the session's CSRF token and
its expiry, signed (HMAC-SHA256) with a key stored once in ``platform_secrets`` so that
every node accepts it. Each request loads the user again: a disabled or deleted user is
out at once, the role that counts is the current one, and a changed password ends every
session opened with the old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.ids import new_secret
from chargegrid.domain.users import User
from chargegrid.storage.repositories import platform_secrets
from chargegrid.storage.repositories import users as users_repo
from chargegrid.values import immutable

COOKIE = "chargegrid_session"
KEY_NAME = "dashboard_session_key"


@immutable
class Session:
    """A signed-in user, their session's CSRF token and when the session ends."""

    user: User
    csrf_token: str
    expires_at: int  # Unix time


class SessionCookies:
    """Issues and checks session cookies; one per process (it caches the signing key)."""

    def __init__(self, *, ttl_s: int) -> None:
        self.ttl_s = ttl_s
        self._key: bytes | None = None

    async def load_key(self, conn: AsyncConnection, *, now: datetime) -> None:
        """Read the signing key, creating it if no node has yet (in a write transaction)."""
        if self._key is None:
            await platform_secrets.insert_if_absent(conn, KEY_NAME, new_secret(32), now=now)
            await self._read_key(conn)

    @property
    def has_key(self) -> bool:
        return self._key is not None

    def issue(self, user: User, *, now: datetime) -> str:
        """A cookie value opening a session for ``user`` (``load_key`` must have run)."""
        if self._key is None:
            raise RuntimeError("load_key() must run before sessions are issued")
        claims = {
            "uid": user.id,
            "pwd": _stamp(self._key, user),
            "csrf": secrets.token_urlsafe(24),
            "exp": int(now.timestamp()) + self.ttl_s,
        }
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{body}.{_b64(_sign(self._key, body))}"

    async def open(
        self, conn: AsyncConnection, cookie: str | None, *, now: datetime
    ) -> Session | None:
        """The session a cookie proves, if it is intact, unexpired and its user may still
        sign in; None otherwise."""
        if not cookie:
            return None
        key = self._key if self._key is not None else await self._read_key(conn)
        body, dot, signature = cookie.partition(".")
        if key is None or not dot:
            return None
        try:
            if not hmac.compare_digest(_unb64(signature), _sign(key, body)):
                return None
            claims = json.loads(_unb64(body))
            user_id, stamp = int(claims["uid"]), str(claims["pwd"])
            csrf, expires_at = str(claims["csrf"]), int(claims["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        if expires_at <= now.timestamp():
            return None
        user = await users_repo.get(conn, user_id)
        if user is None or user.disabled or not hmac.compare_digest(stamp, _stamp(key, user)):
            return None
        return Session(user, csrf, expires_at)

    async def _read_key(self, conn: AsyncConnection) -> bytes | None:
        value = await platform_secrets.get(conn, KEY_NAME)
        if value is not None:
            self._key = value.encode()
        return self._key


def same_token(given: str | None, expected: str) -> bool:
    """Whether a CSRF token sent with a request is the expected one (constant time)."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _stamp(key: bytes, user: User) -> str:
    """A keyed digest of the user's password hash: a new password ends old sessions."""
    return hmac.new(key, b"pwd:" + user.password_hash.encode(), hashlib.sha256).hexdigest()[:16]


def _sign(key: bytes, body: str) -> bytes:
    return hmac.new(key, b"session:" + body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
