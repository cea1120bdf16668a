"""Access tokens of signed-in users: JWTs (HS256) signed with a key shared by all nodes.

The signing key is a random secret stored once in ``platform_secrets``: the first node
that issues a token creates it (race-free: the primary key keeps one value), every node
reads it and then keeps it in memory. A token names its user; whoever checks it loads
that user again, so a deleted or disabled user's tokens stop working at once and the
role that counts is the user's current one. A token also carries a stamp of the password
it was issued under: changing the password ends every session of the old one.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import jwt
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain.ids import new_secret
from chargegrid.domain.users import User
from chargegrid.storage.repositories import platform_secrets
from chargegrid.storage.repositories import users as users_repo
from chargegrid.values import immutable

ISSUER = "chargegrid"
SIGNING_KEY_NAME = "jwt_signing_key"
_ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "role", "email", "iat", "exp", "iss", "pwd"]


@immutable
class IssuedToken:
    """A new access token and its lifetime in seconds."""

    token: str
    expires_in: int


def looks_like_access_token(token: str) -> bool:
    """Whether ``token`` has the shape of a JWT (API tokens contain no dots)."""
    return token.count(".") == 2


class AccessTokens:
    """Issues and checks access tokens; one per process (it caches the signing key)."""

    def __init__(self, *, ttl_s: int) -> None:
        self._ttl_s = ttl_s
        self._key: bytes | None = None

    @property
    def has_key(self) -> bool:
        """Whether the signing key is in memory (else ``load_key`` must run first)."""
        return self._key is not None

    async def load_key(self, conn: AsyncConnection, *, now: datetime) -> None:
        """Read the signing key, creating it if no node has yet (needs a write transaction)."""
        if self._key is not None:
            return
        await platform_secrets.insert_if_absent(conn, SIGNING_KEY_NAME, new_secret(32), now=now)
        await self._read_key(conn)

    def issue(self, user: User, *, now: datetime) -> IssuedToken:
        """A signed access token for ``user``, valid for the configured lifetime."""
        if self._key is None:
            raise RuntimeError("load_key() must run before tokens are issued")
        issued_at = int(now.timestamp())
        claims = {
            "sub": str(user.id),
            "role": user.role.value,
            "email": user.email,
            "iat": issued_at,
            "exp": issued_at + self._ttl_s,
            "iss": ISSUER,
            "pwd": _password_stamp(self._key, user),
        }
        return IssuedToken(jwt.encode(claims, self._key, algorithm=_ALGORITHM), self._ttl_s)

    async def verify(self, conn: AsyncConnection, token: str, *, now: datetime) -> User | None:
        """The enabled user a valid, unexpired token was issued to; None otherwise."""
        key = self._key if self._key is not None else await self._read_key(conn)
        if key is None:  # no token was ever issued
            return None
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against the platform's clock, not the library's.
                options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
            user_id = int(claims["sub"])
            expires_at = int(claims["exp"])
            stamp = str(claims["pwd"])
        except (jwt.InvalidTokenError, ValueError, TypeError):
            return None
        if expires_at <= now.timestamp():
            return None
        user = await users_repo.get(conn, user_id)
        if user is None or user.disabled:
            return None
        if not hmac.compare_digest(stamp, _password_stamp(key, user)):
            return None  # issued under a password that has changed since
        return user

    async def _read_key(self, conn: AsyncConnection) -> bytes | None:
        value = await platform_secrets.get(conn, SIGNING_KEY_NAME)
        if value is not None:
            self._key = value.encode()
        return self._key


def _password_stamp(key: bytes, user: User) -> str:
    """A keyed digest of the user's password hash (reveals nothing about the password)."""
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:16]
