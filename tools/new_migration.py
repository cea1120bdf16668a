"""Regenerate the initial migration from ``chargegrid.storage.tables``.

Until the first release the project keeps one migration, ``versions/0001_initial.py``;
after a schema change in ``tables.py`` run::

    .venv/bin/python tools/new_migration.py

It deletes ``0001_initial.py``, autogenerates it again against an empty SQLite
database, and formats it with ruff. Review the result; the storage tests check that
upgrading an empty database gives exactly the tables in ``tables.py``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from chargegrid.storage.engine import Database
from chargegrid.storage.migrate import MIGRATIONS_DIR, alembic_config

INITIAL = MIGRATIONS_DIR / "versions" / "0001_initial.py"


def _generate(connection: Connection) -> None:
    command.revision(
        alembic_config(connection), message="initial", autogenerate=True, rev_id="0001"
    )


async def regenerate() -> Path:
    """Write a fresh ``0001_initial.py`` and return its path."""
    others = [p for p in INITIAL.parent.glob("*.py") if p != INITIAL]
    if others:
        raise SystemExit(f"other migrations exist, not regenerating: {others}")
    INITIAL.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'empty.db'}", poolclass=NullPool)
        try:
            async with database.begin() as connection:
                await connection.run_sync(_generate)
        finally:
            await database.dispose()
    if not INITIAL.exists():
        raise SystemExit(f"alembic did not write {INITIAL}")
    return INITIAL


def _ruff() -> str:
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.exists() else (shutil.which("ruff") or "ruff")


def main() -> None:
    """Regenerate and format the initial migration."""
    path = asyncio.run(regenerate())
    subprocess.run([_ruff(), "format", "--quiet", str(path)], check=True)
    subprocess.run([_ruff(), "check", "--fix", "--quiet", str(path)], check=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
