"""Session cookies: signed, expiring, and only as good as their user still is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargegrid.dashboard.sessions import SessionCookies, same_token
from chargegrid.domain.services import users
from chargegrid.storage.engine import Database

NOW = datetime(2030, 1, 1, tzinfo=UTC)


async def test_a_cookie_opens_a_session_until_it_expires(db: Database) -> None:
    cookies = SessionCookies(ttl_s=60)
    async with db.begin() as conn:
        user = await users.create(
            conn, email="op@example.com", password="long password", role="operator", now=NOW
        )
        await cookies.load_key(conn, now=NOW)
    cookie = cookies.issue(user, now=NOW)
    async with db.connect() as conn:
        session = await cookies.open(conn, cookie, now=NOW + timedelta(seconds=59))
        assert session is not None
        assert session.user.email == "op@example.com"
        assert same_token(session.csrf_token, session.csrf_token)
        assert not same_token(None, session.csrf_token)
        assert await cookies.open(conn, cookie, now=NOW + timedelta(seconds=60)) is None
        body, _, signature = cookie.partition(".")
        for forged in (
            # A changed first character changes the bytes decoded: a changed last one
            # may not (base64's last character carries bits that decoding drops).
            f"{body}.{_changed(signature)}",
            f"{_changed(body)}.{signature}",
            body,
            "",
            "not.a.cookie",
        ):
            assert await cookies.open(conn, forged, now=NOW) is None
        # Another node reads the same key from the database and takes the cookie.
        other = SessionCookies(ttl_s=60)
        assert await other.open(conn, cookie, now=NOW) is not None
    # Each sign-in has its own CSRF token.
    second = cookies.issue(user, now=NOW)
    async with db.connect() as conn:
        first_session = await cookies.open(conn, cookie, now=NOW)
        second_session = await cookies.open(conn, second, now=NOW)
    assert first_session is not None
    assert second_session is not None
    assert first_session.csrf_token != second_session.csrf_token


async def test_a_session_ends_with_its_user(db: Database) -> None:
    cookies = SessionCookies(ttl_s=600)
    async with db.begin() as conn:
        user = await users.create(
            conn, email="op@example.com", password="long password", role="operator", now=NOW
        )
        await cookies.load_key(conn, now=NOW)
    cookie = cookies.issue(user, now=NOW)
    async with db.begin() as conn:
        await users.update(conn, user.id, now=NOW, role="viewer")
    async with db.connect() as conn:
        session = await cookies.open(conn, cookie, now=NOW)
        assert session is not None
        assert session.user.role.value == "viewer"  # the role that counts is the current one
    async with db.begin() as conn:
        await users.update(conn, user.id, now=NOW, password="another long password")
    async with db.connect() as conn:
        assert await cookies.open(conn, cookie, now=NOW) is None
    async with db.begin() as conn:
        await users.delete(conn, user.id)
    async with db.connect() as conn:
        assert await cookies.open(conn, cookies.issue(user, now=NOW), now=NOW) is None


def _changed(text: str) -> str:
    """``text`` with another first character."""
    return ("B" if text[0] == "A" else "A") + text[1:]
