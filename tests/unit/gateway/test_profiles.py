"""Security profiles 0-3: which connections the authenticator admits (real database)."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from sqlalchemy import text

from chargegrid.config import Settings
from chargegrid.domain import passwords
from chargegrid.domain.clock import SystemClock
from chargegrid.domain.services import chargers
from chargegrid.gateway import auth as auth_module
from chargegrid.gateway.auth import ChargerAuthenticator, RefusalReason
from chargegrid.gateway.tls import ClientCertificate
from chargegrid.storage.engine import Database

PASSWORD = "correct-horse-battery"
R = RefusalReason


def basic(username: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def certificate(common_name: str | None, organization: str | None = None) -> ClientCertificate:
    return ClientCertificate(common_name, organization, "1f", "ab" * 32)


def authenticator(db: Database, **settings: object) -> ChargerAuthenticator:
    values: dict[str, object] = {"auth_failure_limit": 1000, **settings}
    return ChargerAuthenticator(db, Settings(**values), SystemClock())  # type: ignore[arg-type]


@pytest.fixture
async def registered(db: Database) -> Database:
    now = SystemClock().now()
    async with db.begin() as conn:
        for charger_id, profile, password in [
            ("P0", 0, None),
            ("P1", 1, PASSWORD),
            ("P2", 2, PASSWORD),
            ("P3", 3, None),
            ("P3-PW", 3, PASSWORD),
        ]:
            await chargers.register(
                conn,
                charger_id=charger_id,
                password=password,
                now=now,
                security_profile=profile,
            )
    return db


WS, WSS = False, True

CASES = [
    # charger, Authorization, TLS, client certificate -> refusal reason (None: admitted)
    ("P0", None, WS, None, None),
    ("P1", basic("P1"), WS, None, None),
    ("P1", basic("P1"), WSS, None, None),
    ("P1", None, WS, None, R.NO_CREDENTIALS),
    ("P1", None, WSS, certificate("P1"), None),  # level 3 is above profile 1
    ("P1", basic("P1"), WSS, certificate("P2"), R.CERTIFICATE_MISMATCH),
    ("P2", basic("P2"), WS, None, R.INSECURE_TRANSPORT),
    ("P2", basic("P2"), WSS, None, None),
    ("P2", basic("P2", "wrong-password-000000"), WSS, None, R.WRONG_PASSWORD),
    ("P2", basic("P1"), WSS, None, R.USERNAME_MISMATCH),
    ("P2", None, WSS, certificate("P2"), None),
    ("P3", None, WS, None, R.INSECURE_TRANSPORT),
    ("P3", None, WSS, None, R.NO_CLIENT_CERTIFICATE),
    ("P3", None, WSS, certificate("P3"), None),
    ("P3", None, WSS, certificate("P3", "Any O"), None),
    ("P3", None, WSS, certificate("P1"), R.CERTIFICATE_MISMATCH),
    ("P3", None, WSS, certificate(None), R.CERTIFICATE_MISMATCH),  # no CN at all
    ("P3-PW", basic("P3-PW"), WSS, None, R.NO_CLIENT_CERTIFICATE),
    ("P3-PW", basic("P3-PW", "wrong-password-000000"), WSS, certificate("P3-PW"), None),
]


@pytest.mark.parametrize(("charger_id", "authorization", "secure", "cert", "reason"), CASES)
async def test_profiles(
    registered: Database,
    charger_id: str,
    authorization: str | None,
    secure: bool,
    cert: ClientCertificate | None,
    reason: RefusalReason | None,
) -> None:
    refusal = await authenticator(registered).check(
        charger_id, authorization, "10.0.0.1", secure=secure, certificate=cert
    )
    assert (None if refusal is None else refusal.reason) is reason


async def test_the_organization_is_checked_when_set(registered: Database) -> None:
    auth = authenticator(registered, tls_client_organization="Acme CPO")
    ok = await auth.check("P3", None, "a", secure=True, certificate=certificate("P3", "Acme CPO"))
    assert ok is None
    for organization in (None, "Other CPO"):
        refusal = await auth.check(
            "P3", None, "a", secure=True, certificate=certificate("P3", organization)
        )
        assert refusal is not None
        assert refusal.reason is R.CERTIFICATE_MISMATCH
        assert refusal.status == 403


async def test_certificate_failures_count_towards_the_rate_limit(registered: Database) -> None:
    auth = authenticator(registered, auth_failure_limit=2)
    for _ in range(3):  # plain ws for a TLS charger is a configuration slip: not counted
        refusal = await auth.check("P2", basic("P2"), "b", secure=False)
        assert refusal is not None
        assert refusal.reason is R.INSECURE_TRANSPORT
    for reason in (R.CERTIFICATE_MISMATCH, R.NO_CLIENT_CERTIFICATE, R.RATE_LIMITED):
        cert = certificate("P1") if reason is R.CERTIFICATE_MISMATCH else None
        refusal = await auth.check("P3", None, "b", secure=True, certificate=cert)
        assert refusal is not None
        assert refusal.reason is reason


async def profile_of(db: Database, charger_id: str) -> tuple[int, bool] | None:
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT security_profile, password_hash FROM chargers WHERE id = :i"),
                {"i": charger_id},
            )
        ).first()
    return None if row is None else (row.security_profile, row.password_hash is not None)


async def test_auto_registration_takes_the_level_of_the_first_connection(db: Database) -> None:
    auth = authenticator(db, auto_register=True)
    assert await auth.check("NEW-1", basic("NEW-1"), "c", secure=False) is None
    assert await auth.check("NEW-2", basic("NEW-2"), "c", secure=True) is None
    assert (
        await auth.check("NEW-3", None, "c", secure=True, certificate=certificate("NEW-3")) is None
    )
    refusal = await auth.check("NEW-4", None, "c", secure=True, certificate=certificate("NEW-3"))
    assert refusal is not None
    assert refusal.reason is R.CERTIFICATE_MISMATCH
    assert await profile_of(db, "NEW-1") == (1, True)
    assert await profile_of(db, "NEW-2") == (2, True)
    assert await profile_of(db, "NEW-3") == (3, False)
    assert await profile_of(db, "NEW-4") is None
    # Afterwards each is held to what it registered with.
    refusal = await auth.check("NEW-3", basic("NEW-3"), "c", secure=True)
    assert refusal is not None
    assert refusal.reason is R.NO_CLIENT_CERTIFICATE
    refusal = await auth.check("NEW-2", basic("NEW-2"), "c", secure=False)
    assert refusal is not None
    assert refusal.reason is R.INSECURE_TRANSPORT


async def test_a_storm_of_connections_runs_the_slow_check_once_per_password(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = SystemClock().now()
    ids = [f"FLEET-{n}" for n in range(30)]
    async with db.begin() as conn:
        for charger_id in ids:
            await chargers.register(conn, charger_id=charger_id, password=PASSWORD, now=now)
        shared = (
            await conn.execute(text("SELECT password_hash FROM chargers WHERE id = 'FLEET-0'"))
        ).scalar_one()
        await conn.execute(text("UPDATE chargers SET password_hash = :h"), {"h": shared})
    runs: list[str] = []
    real = passwords.verify_password

    def counted(password: str, encoded: str) -> bool:
        runs.append(password)
        # As slow as a hash on a busy node: the storm's lookups all end while it runs
        # (at 11 ms here, a loaded test run sometimes let a late one start another).
        time.sleep(0.5)
        return real(password, encoded)

    monkeypatch.setattr(auth_module, "verify_password", counted)
    auth = authenticator(db)
    wrong = "wrong-password-000000"
    refusals = await asyncio.gather(
        *(auth.check(i, basic(i), "d", secure=False) for i in ids),
        *(auth.check(i, basic(i, wrong), "d", secure=False) for i in ids[:5]),
    )
    assert refusals[: len(ids)] == [None] * len(ids)
    assert [r.reason if r else None for r in refusals[len(ids) :]] == [R.WRONG_PASSWORD] * 5
    assert sorted(runs) == sorted([PASSWORD, wrong])  # one slow check per password
    assert await auth.check("FLEET-7", basic("FLEET-7"), "d", secure=False) is None
    assert len(runs) == 2  # remembered since
