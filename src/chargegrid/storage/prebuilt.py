"""Support for statements built once at import and executed with a params dict."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table
from sqlalchemy.exc import CompileError

# The sets of names found to be columns, by table: a hot path writes the same few.
_CHECKED: set[tuple[Table, tuple[str, ...]]] = set()


def check_columns(table: Table, names: Iterable[str]) -> None:
    """Refuse names that are not columns of ``table``, as ``.values(**names)`` would.

    An UPDATE without ``.values()`` takes its SET clause from the params' keys and
    silently ignores those that are not columns.
    """
    key = (table, tuple(names))
    if key in _CHECKED:
        return
    unknown = [name for name in key[1] if name not in table.c]
    if unknown:
        raise CompileError(f"Unconsumed column names: {', '.join(unknown)}")
    _CHECKED.add(key)
