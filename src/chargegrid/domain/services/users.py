"""Operator users: creation, changes, removal and sign-in checks.

There is always at least one enabled admin once there was one: the last one cannot be
demoted, disabled or deleted. Password hashing runs in a worker thread (scrypt takes
tens of milliseconds and 16 MiB), never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.domain import user_passwords
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.services.access import Role
from chargegrid.domain.users import User
from chargegrid.storage.repositories import users as repo

MAX_EMAIL_LENGTH = 255
MAX_NAME_LENGTH = 100


class Keep(Enum):
    """Marks an optional change that was not asked for."""

    KEEP = "keep"


KEEP = Keep.KEEP


def normalize_email(email: str) -> str:
    """The stored form of an email address (trimmed, lower case); ``INVALID`` if malformed."""
    normalized = email.strip().lower()
    local, at, domain = normalized.partition("@")
    if (
        not at
        or not local
        or not domain
        or "@" in domain
        or len(normalized) > MAX_EMAIL_LENGTH
        or any(character.isspace() for character in normalized)
    ):
        raise DomainError(ErrorKind.INVALID, f"invalid email address {email!r}")
    return normalized


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise DomainError(ErrorKind.INVALID, f"unknown role {role!r} (use {choices})") from None


async def create(
    conn: AsyncConnection,
    *,
    email: str,
    password: str,
    role: str,
    now: datetime,
    name: str | None = None,
) -> User:
    """Create an enabled user; ``CONFLICT`` if the email is taken."""
    values: dict[str, Any] = {
        "email": normalize_email(email),
        "role": parse_role(role).value,
        "name": _checked_name(name),
        "disabled": False,
        "created_at": now,
        "updated_at": now,
    }
    if await repo.get_by_email(conn, values["email"]) is not None:
        raise DomainError(ErrorKind.CONFLICT, f"a user with email {values['email']!r} exists")
    values["password_hash"] = await _hash(password)
    return await _get(conn, await repo.insert(conn, values))


async def get(conn: AsyncConnection, user_id: int) -> User:
    """The user with this id; ``NOT_FOUND`` otherwise."""
    return await _get(conn, user_id)


async def update(
    conn: AsyncConnection,
    user_id: int,
    *,
    now: datetime,
    role: str | Keep = KEEP,
    password: str | Keep = KEEP,
    name: str | Keep | None = KEEP,
    disabled: bool | Keep = KEEP,
) -> User:
    """Change what is given; ``CONFLICT`` if that would leave no enabled admin."""
    user = await _get(conn, user_id)
    values: dict[str, Any] = {}
    if not isinstance(role, Keep):
        values["role"] = parse_role(role).value
    if not isinstance(name, Keep):
        values["name"] = _checked_name(name)
    if not isinstance(disabled, Keep):
        values["disabled"] = disabled
    if not isinstance(password, Keep):
        values["password_hash"] = await _hash(password)
    stays_admin = values.get("role", user.role) == Role.ADMIN and not values.get(
        "disabled", user.disabled
    )
    if not stays_admin:
        await _keep_an_admin(conn, user, "demote or disable")
    if values:
        await repo.update(conn, user_id, {**values, "updated_at": now})
    return await _get(conn, user_id)


async def delete(conn: AsyncConnection, user_id: int) -> None:
    """Delete a user; ``CONFLICT`` for the last enabled admin."""
    user = await _get(conn, user_id)
    await _keep_an_admin(conn, user, "delete")
    await repo.delete(conn, user_id)


async def authenticate(conn: AsyncConnection, email: str, password: str) -> User | None:
    """The enabled user with this email and password, or None (whatever was wrong)."""
    try:
        user = await repo.get_by_email(conn, normalize_email(email))
    except DomainError:
        user = None
    encoded = None if user is None else user.password_hash
    matches = await asyncio.to_thread(_verify, password, encoded)
    if user is None or not matches or user.disabled:
        return None
    return user


def _verify(password: str, encoded: str | None) -> bool:
    """Check ``password``; for an unknown user (None) take as long, then say no.

    Answering "unknown email" faster than "wrong password" would tell which emails exist.
    """
    if encoded is None:
        user_passwords.verify_password(password, _dummy_hash())
        return False
    return user_passwords.verify_password(password, encoded)


@functools.cache
def _dummy_hash() -> str:
    return user_passwords.hash_password(secrets.token_urlsafe(16))


async def _keep_an_admin(conn: AsyncConnection, user: User, change: str) -> None:
    if user.role != Role.ADMIN or user.disabled:
        return  # not an enabled admin now: the count of enabled admins does not drop
    if await repo.lock_enabled_admins(conn) == [user.id]:
        raise DomainError(
            ErrorKind.CONFLICT, f"cannot {change} the last enabled admin; make another first"
        )


async def _get(conn: AsyncConnection, user_id: int) -> User:
    user = await repo.get(conn, user_id)
    if user is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"no user with id {user_id}")
    return user


async def _hash(password: str) -> str:
    try:
        user_passwords.check_password_rules(password)
    except ValueError as error:
        raise DomainError(ErrorKind.INVALID, str(error)) from None
    return await asyncio.to_thread(user_passwords.hash_password, password)


def _checked_name(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    if len(name) > MAX_NAME_LENGTH:
        raise DomainError(ErrorKind.INVALID, f"name must be at most {MAX_NAME_LENGTH} characters")
    return name.strip()
