"""Who may connect: charger identity from the path, security profiles, rate limiting.

A connection reaches a level: 1 with a valid Basic password over ws, 2 with one over
wss, 3 over wss with a client certificate that verified against the client CA and whose
CN is the charger id (and O the configured organization). A charger is admitted when
the level reaches its ``security_profile`` (profile 0: no credentials at all). A
presented certificate must always belong to the charger, whatever its profile.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections import deque
from enum import StrEnum
from http import HTTPStatus
from urllib.parse import unquote

from sqlalchemy.exc import IntegrityError

from chargegrid.config import Settings
from chargegrid.domain.clock import Clock
from chargegrid.domain.errors import DomainError
from chargegrid.domain.model import RegistrationStatus
from chargegrid.domain.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    VerifiedPasswords,
    verify_password,
)
from chargegrid.domain.services import chargers
from chargegrid.gateway.tls import ClientCertificate
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories.chargers import get_credentials
from chargegrid.values import immutable

PATH_PREFIX = "/ocpp/"


class RefusalReason(StrEnum):
    """Why a connection was refused before the WebSocket upgrade."""

    BAD_PATH = "bad_path"
    UNKNOWN_CHARGER = "unknown_charger"
    NO_SUBPROTOCOL = "no_subprotocol"
    NO_CREDENTIALS = "no_credentials"
    USERNAME_MISMATCH = "username_mismatch"
    WRONG_PASSWORD = "wrong_password"
    INSECURE_TRANSPORT = "insecure_transport"
    NO_CLIENT_CERTIFICATE = "no_client_certificate"
    CERTIFICATE_MISMATCH = "certificate_mismatch"
    RATE_LIMITED = "rate_limited"


@immutable
class Refusal:
    """An HTTP answer that refuses the upgrade."""

    status: HTTPStatus
    reason: RefusalReason
    message: str


def charger_id_from_path(path: str) -> str | None:
    """The charger id of ``/ocpp/{charger_id}`` (percent-decoded), or None."""
    path = path.split("?", 1)[0]
    if not path.startswith(PATH_PREFIX):
        return None
    charger_id = unquote(path[len(PATH_PREFIX) :])
    try:
        chargers.check_charger_id(charger_id)
    except DomainError:
        return None
    return charger_id


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """(username, password) from an ``Authorization: Basic`` header, or None."""
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


class FailureLimiter:
    """Counts failed logins per remote address in a sliding window."""

    def __init__(self, limit: int, window_s: float, max_addresses: int = 100_000) -> None:
        self._limit = limit
        self._window = window_s
        self._max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, address: str) -> bool:
        failures = self._failures.get(address)
        if not failures:
            return False
        horizon = time.monotonic() - self._window
        while failures and failures[0] < horizon:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return False
        return len(failures) >= self._limit

    def fail(self, address: str) -> None:
        now = time.monotonic()
        if address not in self._failures and len(self._failures) >= self._max_addresses:
            self._forget_before(now - self._window)
        self._failures.setdefault(address, deque(maxlen=self._limit)).append(now)

    def _forget_before(self, horizon: float) -> None:
        """Drop addresses whose last failure is older than ``horizon`` (bounded memory)."""
        stale = [a for a, failures in self._failures.items() if failures[-1] < horizon]
        for address in stale or list(self._failures)[: max(1, len(self._failures) // 2)]:
            del self._failures[address]


class ChargerAuthenticator:
    """Decides, before the upgrade, whether a charger may connect (security profiles 0-3)."""

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._passwords = VerifiedPasswords()
        # Slow checks under way, by (hash, fingerprint): a storm of connections presenting
        # the same password waits for one PBKDF2 run instead of starting one each.
        self._checking: dict[tuple[str, bytes], asyncio.Future[bool]] = {}
        self._limiter = FailureLimiter(settings.auth_failure_limit, settings.auth_failure_window)

    async def check(
        self,
        charger_id: str,
        authorization: str | None,
        address: str,
        *,
        secure: bool,
        certificate: ClientCertificate | None = None,
    ) -> Refusal | None:
        """None when the charger may connect, else the refusal to send.

        ``secure``: the connection is TLS; ``certificate``: the client certificate the
        handshake verified.
        """
        if self._limiter.blocked(address):
            return Refusal(
                HTTPStatus.TOO_MANY_REQUESTS,
                RefusalReason.RATE_LIMITED,
                "too many failed logins from this address; try again later",
            )
        refusal = self._check_certificate(charger_id, certificate)
        if refusal is None:
            refusal = await self._check(
                charger_id,
                parse_basic_auth(authorization),
                secure=secure,
                certified=certificate is not None,
            )
        if refusal is not None and refusal.reason is not RefusalReason.INSECURE_TRANSPORT:
            self._limiter.fail(address)
        return refusal

    def _check_certificate(
        self, charger_id: str, certificate: ClientCertificate | None
    ) -> Refusal | None:
        """A client certificate, when there is one, must be this charger's."""
        if certificate is None:
            return None
        if certificate.common_name != charger_id:
            return Refusal(
                HTTPStatus.FORBIDDEN,
                RefusalReason.CERTIFICATE_MISMATCH,
                f"client certificate CN {certificate.common_name!r} is not the charger id",
            )
        organization = self._settings.tls_client_organization
        if organization is not None and certificate.organization != organization:
            return Refusal(
                HTTPStatus.FORBIDDEN,
                RefusalReason.CERTIFICATE_MISMATCH,
                f"client certificate O {certificate.organization!r} is not {organization!r}",
            )
        return None

    async def _check(
        self, charger_id: str, basic: tuple[str, str] | None, *, secure: bool, certified: bool
    ) -> Refusal | None:
        async with self._db.connect() as conn:
            credentials = await get_credentials(conn, charger_id)
        if credentials is None:
            if not self._settings.auto_register:
                return Refusal(
                    HTTPStatus.NOT_FOUND,
                    RefusalReason.UNKNOWN_CHARGER,
                    f"unknown charger {charger_id!r}",
                )
            return await self._register(charger_id, basic, secure=secure, certified=certified)
        profile = credentials.security_profile
        if profile == 0 or certified:
            # A verified certificate of this charger over TLS is the highest level (3).
            return None
        if profile >= 2 and not secure:
            return Refusal(
                HTTPStatus.FORBIDDEN,
                RefusalReason.INSECURE_TRANSPORT,
                f"charger {charger_id!r} uses security profile {profile}: connect over TLS",
            )
        if profile == 3:
            return Refusal(
                HTTPStatus.FORBIDDEN,
                RefusalReason.NO_CLIENT_CERTIFICATE,
                f"charger {charger_id!r} uses security profile 3: "
                "present a client certificate issued for it",
            )
        if credentials.password_hash is None:
            return None
        if basic is None:
            return Refusal(
                HTTPStatus.UNAUTHORIZED,
                RefusalReason.NO_CREDENTIALS,
                "HTTP Basic authentication required",
            )
        username, password = basic
        if username != charger_id:
            return Refusal(
                HTTPStatus.UNAUTHORIZED,
                RefusalReason.USERNAME_MISMATCH,
                "Basic auth username must equal the charger id in the path",
            )
        if not await self._verify(password, credentials.password_hash):
            return Refusal(HTTPStatus.UNAUTHORIZED, RefusalReason.WRONG_PASSWORD, "wrong password")
        return None

    async def _verify(self, password: str, encoded: str) -> bool:
        """Check a password; the slow hash runs off the event loop (reconnect storms)."""
        if self._passwords.is_known(password, encoded):
            return True
        key = (encoded, self._passwords.fingerprint(password))
        checking = self._checking.get(key)
        if checking is None:
            checking = asyncio.ensure_future(self._slow_check(password, encoded))
            self._checking[key] = checking
            checking.add_done_callback(lambda _: self._checking.pop(key, None))
        return await asyncio.shield(checking)

    async def _slow_check(self, password: str, encoded: str) -> bool:
        """The PBKDF2 check; a match is remembered before anyone waiting hears of it."""
        if not await asyncio.to_thread(verify_password, password, encoded):
            return False
        self._passwords.remember(password, encoded)
        return True

    async def _register(
        self, charger_id: str, basic: tuple[str, str] | None, *, secure: bool, certified: bool
    ) -> Refusal | None:
        """Auto-registration at the level the first connection reached.

        With a verified client certificate of this charger the charger is registered at
        profile 3 without a password (the CA vouches for it). Otherwise the first
        password presented becomes the charger's password, at profile 2 over wss and 1
        over ws. A charger without credentials is not registered: anyone could then
        connect in its name.
        """
        if certified:
            return await self._insert(charger_id, None, 3, basic, secure=secure)
        if basic is None:
            return Refusal(
                HTTPStatus.UNAUTHORIZED,
                RefusalReason.NO_CREDENTIALS,
                "HTTP Basic authentication required to register",
            )
        username, password = basic
        if username != charger_id:
            return Refusal(
                HTTPStatus.UNAUTHORIZED,
                RefusalReason.USERNAME_MISMATCH,
                "Basic auth username must equal the charger id in the path",
            )
        if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
            return Refusal(
                HTTPStatus.UNAUTHORIZED,
                RefusalReason.WRONG_PASSWORD,
                f"password must be {MIN_LENGTH}-{MAX_LENGTH} characters",
            )
        return await self._insert(charger_id, password, 2 if secure else 1, basic, secure=secure)

    async def _insert(
        self,
        charger_id: str,
        password: str | None,
        profile: int,
        basic: tuple[str, str] | None,
        *,
        secure: bool,
    ) -> Refusal | None:
        try:
            async with self._db.begin() as conn:
                await chargers.register(
                    conn,
                    charger_id=charger_id,
                    password=password,
                    now=self._clock.now(),
                    security_profile=profile,
                    registration_status=RegistrationStatus(self._settings.auto_register_status),
                )
        except (DomainError, IntegrityError):
            # Registered concurrently by another connection (PostgreSQL reports the race as
            # a unique violation, SQLite serialises writers): check against that.
            return await self._check(charger_id, basic, secure=secure, certified=password is None)
        return None
