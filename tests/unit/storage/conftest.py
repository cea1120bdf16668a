"""Fixtures of the storage tests."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import upgrade
from tests import dbutil


@pytest.fixture
async def fresh(postgresql_admin_url: str) -> AsyncIterator[Database]:
    """A PostgreSQL database migrated just now: no table has been analyzed."""
    name = f"chargegrid_test_{secrets.token_hex(4)}"
    url = dbutil.create_database(postgresql_admin_url, name)
    database = Database(url)
    try:
        await upgrade(url)
        yield database
    finally:
        await database.dispose()
        dbutil.drop_database(postgresql_admin_url, name)
