"""Access tokens (JWT): issue, verify, expiry, the shared signing key, revocation by user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from chargegrid.domain.services import users
from chargegrid.domain.services.access_tokens import (
    ISSUER,
    SIGNING_KEY_NAME,
    AccessTokens,
    looks_like_access_token,
)
from chargegrid.domain.users import User
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import platform_secrets

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TTL = 600


async def make_user(db: Database, email: str = "ada@example.com", role: str = "operator") -> User:
    async with db.begin() as conn:
        return await users.create(conn, email=email, password="pass-word", role=role, now=NOW)


async def node(db: Database) -> AccessTokens:
    """The access tokens of one process, its signing key loaded."""
    tokens = AccessTokens(ttl_s=TTL)
    async with db.begin() as conn:
        await tokens.load_key(conn, now=NOW)
    return tokens


async def verify(db: Database, tokens: AccessTokens, token: str, now: datetime) -> User | None:
    async with db.connect() as conn:
        return await tokens.verify(conn, token, now=now)


async def stored_key(db: Database) -> str:
    async with db.connect() as conn:
        key = await platform_secrets.get(conn, SIGNING_KEY_NAME)
    assert key is not None
    return key


async def test_an_issued_token_names_its_user_until_it_expires(db: Database) -> None:
    user = await make_user(db)
    tokens = await node(db)
    issued = tokens.issue(user, now=NOW)
    assert issued.expires_in == TTL
    assert looks_like_access_token(issued.token)

    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert len(claims.pop("pwd")) == 16
    assert claims == {
        "sub": str(user.id),
        "role": "operator",
        "email": "ada@example.com",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + TTL,
        "iss": ISSUER,
    }
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS256"

    last_second = NOW + timedelta(seconds=TTL - 1)
    assert await verify(db, tokens, issued.token, last_second) == user
    assert await verify(db, tokens, issued.token, NOW + timedelta(seconds=TTL)) is None
    assert await verify(db, tokens, issued.token, NOW + timedelta(days=1)) is None


async def test_every_node_shares_the_first_key(db: Database) -> None:
    user = await make_user(db)
    first = await node(db)
    key = await stored_key(db)
    second = await node(db)  # another process: reads, does not replace
    assert await stored_key(db) == key

    token = second.issue(user, now=NOW).token
    assert await verify(db, first, token, NOW) == user
    # A process that never issued a token reads the key when it first checks one.
    assert await verify(db, AccessTokens(ttl_s=TTL), token, NOW) == user


async def test_nothing_verifies_before_any_key_exists(db: Database) -> None:
    user = await make_user(db)
    forged = jwt.encode(
        {
            "sub": str(user.id),
            "role": "admin",
            "email": user.email,
            "iat": 0,
            "exp": 2**40,
            "iss": ISSUER,
        },
        "a-guessed-key-" * 4,
        algorithm="HS256",
    )
    tokens = AccessTokens(ttl_s=TTL)
    assert not tokens.has_key
    assert await verify(db, tokens, forged, NOW) is None
    with pytest.raises(RuntimeError, match="load_key"):
        tokens.issue(user, now=NOW)


# Signing with the right key under HS512 warns that the key is short for HS512.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_forged_and_malformed_tokens_are_refused(db: Database) -> None:
    user = await make_user(db)
    tokens = await node(db)
    key = await stored_key(db)
    good = {
        "sub": str(user.id),
        "role": "operator",
        "email": user.email,
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + TTL,
        "iss": ISSUER,
        "pwd": jwt.decode(tokens.issue(user, now=NOW).token, options={"verify_signature": False})[
            "pwd"
        ],
    }
    assert await verify(db, tokens, jwt.encode(good, key, algorithm="HS256"), NOW) == user

    header, payload, signature = tokens.issue(user, now=NOW).token.split(".")
    refused = [
        jwt.encode(good, "another-key-" * 4, algorithm="HS256"),
        jwt.encode(good, key, algorithm="HS512"),
        jwt.encode(good, "", algorithm="none"),
        jwt.encode({**good, "iss": "someone-else"}, key, algorithm="HS256"),
        jwt.encode({**good, "sub": "not-a-number"}, key, algorithm="HS256"),
        jwt.encode({k: v for k, v in good.items() if k != "exp"}, key, algorithm="HS256"),
        jwt.encode({k: v for k, v in good.items() if k != "sub"}, key, algorithm="HS256"),
        jwt.encode({**good, "sub": "999999"}, key, algorithm="HS256"),  # no such user
        jwt.encode({**good, "pwd": "0" * 16}, key, algorithm="HS256"),  # another password
        jwt.encode({k: v for k, v in good.items() if k != "pwd"}, key, algorithm="HS256"),
        f"{header}.{payload}.{signature[:-2]}xx",
        f"{header}.{payload[:-2]}.{signature}",
        "a.b.c",
        "",
    ]
    for token in refused:
        assert await verify(db, tokens, token, NOW) is None, token


async def test_disabled_or_deleted_users_lose_their_tokens_and_roles_follow_the_user(
    db: Database,
) -> None:
    admin = await make_user(db, "root@example.com", "admin")
    user = await make_user(db)
    tokens = await node(db)
    token = tokens.issue(user, now=NOW).token

    async with db.begin() as conn:
        await users.update(conn, user.id, now=NOW, role="viewer")
    found = await verify(db, tokens, token, NOW)
    assert found is not None
    assert found.role == "viewer"  # the user's role now, not the one in the token

    async with db.begin() as conn:
        await users.update(conn, user.id, now=NOW, disabled=True)
    assert await verify(db, tokens, token, NOW) is None
    async with db.begin() as conn:
        await users.update(conn, user.id, now=NOW, disabled=False)
    assert await verify(db, tokens, token, NOW) is not None

    admin_token = tokens.issue(admin, now=NOW).token
    async with db.begin() as conn:
        await users.delete(conn, user.id)
    assert await verify(db, tokens, token, NOW) is None
    assert await verify(db, tokens, admin_token, NOW) == admin


async def test_a_new_password_ends_the_sessions_of_the_old_one(db: Database) -> None:
    user = await make_user(db)
    tokens = await node(db)
    before = tokens.issue(user, now=NOW)
    async with db.begin() as conn:
        changed = await users.update(conn, user.id, now=NOW, password="another-pass-word")
    assert await verify(db, tokens, before.token, NOW) is None
    after = tokens.issue(changed, now=NOW)
    assert await verify(db, tokens, after.token, NOW) == changed
    async with db.begin() as conn:
        renamed = await users.update(conn, user.id, now=NOW, name="Ada")
    assert await verify(db, tokens, after.token, NOW) == renamed, "other changes keep sessions"
