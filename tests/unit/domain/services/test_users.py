"""Operator users: validation, uniqueness, sign-in checks, and the last enabled admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.services import users
from chargegrid.domain.users import User
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import users as repo

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PASSWORD = "pass-word"


async def create(db: Database, email: str, role: str = "operator", **extra: str) -> User:
    async with db.begin() as conn:
        return await users.create(
            conn,
            email=email,
            password=extra.pop("password", PASSWORD),
            role=role,
            now=NOW,
            **extra,
        )


async def update(db: Database, user_id: int, **changes: Any) -> User:
    async with db.begin() as conn:
        return await users.update(conn, user_id, now=NOW + timedelta(minutes=1), **changes)


async def delete(db: Database, user_id: int) -> None:
    async with db.begin() as conn:
        await users.delete(conn, user_id)


async def authenticate(db: Database, email: str, password: str) -> User | None:
    async with db.connect() as conn:
        return await users.authenticate(conn, email, password)


async def test_create_normalises_the_email_and_refuses_duplicates(db: Database) -> None:
    user = await create(db, "  Ada.Lovelace@Example.COM ", "admin", name=" Ada ")
    assert (user.email, user.role, user.name, user.disabled) == (
        "ada.lovelace@example.com",
        "admin",
        "Ada",
        False,
    )
    assert user.created_at == user.updated_at == NOW
    assert user.password_hash.startswith("scrypt$")
    assert PASSWORD not in repr(user)

    with pytest.raises(DomainError) as caught:
        await create(db, "ADA.LOVELACE@example.com")
    assert caught.value.kind == ErrorKind.CONFLICT
    async with db.connect() as conn:
        assert (await repo.list_page(conn, limit=10, offset=0)).total == 1


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"email": "no-at-sign"}, "invalid email"),
        ({"email": "two@@example.com"}, "invalid email"),
        ({"email": "space in@example.com"}, "invalid email"),
        ({"email": "@example.com"}, "invalid email"),
        ({"password": "seven!!"}, "8-1024 characters"),
        ({"role": "superuser"}, "unknown role 'superuser'"),
        ({"name": "n" * 101}, "at most 100"),
    ],
)
async def test_create_refuses_invalid_fields(
    db: Database, fields: dict[str, str], fragment: str
) -> None:
    values = {"email": "x@example.com", "role": "viewer", **fields}
    with pytest.raises(DomainError, match=fragment) as caught:
        await create(db, values.pop("email"), values.pop("role"), **values)
    assert caught.value.kind == ErrorKind.INVALID
    async with db.connect() as conn:
        assert (await repo.list_page(conn, limit=10, offset=0)).total == 0


async def test_authenticate(db: Database) -> None:
    user = await create(db, "ada@example.com")
    assert await authenticate(db, "ADA@example.com ", PASSWORD) == user
    assert await authenticate(db, "ada@example.com", PASSWORD + "x") is None
    assert await authenticate(db, "bob@example.com", PASSWORD) is None
    assert await authenticate(db, "not an email", PASSWORD) is None

    await update(db, user.id, disabled=True)
    assert await authenticate(db, "ada@example.com", PASSWORD) is None
    await update(db, user.id, disabled=False, password="new-pass-word")
    assert await authenticate(db, "ada@example.com", PASSWORD) is None
    assert await authenticate(db, "ada@example.com", "new-pass-word") is not None


async def test_update_changes_only_what_is_given(db: Database) -> None:
    user = await create(db, "ada@example.com", name="Ada")
    renamed = await update(db, user.id, role="viewer")
    assert (renamed.role, renamed.name, renamed.disabled) == ("viewer", "Ada", False)
    assert renamed.password_hash == user.password_hash
    assert renamed.updated_at == NOW + timedelta(minutes=1)
    assert (await update(db, user.id, name=None)).name is None

    with pytest.raises(DomainError, match="unknown role") as caught:
        await update(db, user.id, role="root")
    assert caught.value.kind == ErrorKind.INVALID
    with pytest.raises(DomainError, match="no user with id 999") as caught:
        await update(db, 999, role="viewer")
    assert caught.value.kind == ErrorKind.NOT_FOUND
    with pytest.raises(DomainError) as caught:
        await delete(db, 999)
    assert caught.value.kind == ErrorKind.NOT_FOUND


async def test_the_last_enabled_admin_stays(db: Database) -> None:
    first = await create(db, "first@example.com", "admin")
    for change in ({"role": "operator"}, {"disabled": True}):
        with pytest.raises(DomainError, match="last enabled admin") as caught:
            await update(db, first.id, **change)
        assert caught.value.kind == ErrorKind.CONFLICT
    with pytest.raises(DomainError, match="last enabled admin") as caught:
        await delete(db, first.id)
    assert caught.value.kind == ErrorKind.CONFLICT
    assert await update(db, first.id, name="Still here") is not None  # other changes are fine

    second = await create(db, "second@example.com", "admin")
    await update(db, second.id, disabled=True)  # a disabled admin does not count
    with pytest.raises(DomainError, match="last enabled admin"):
        await update(db, first.id, role="viewer")

    await update(db, second.id, disabled=False)
    assert (await update(db, first.id, role="viewer")).role == "viewer"
    with pytest.raises(DomainError, match="last enabled admin"):
        await delete(db, second.id)
    await update(db, first.id, role="admin")
    await delete(db, second.id)
    async with db.connect() as conn:
        assert await repo.get(conn, second.id) is None
        assert await repo.lock_enabled_admins(conn) == [first.id]
