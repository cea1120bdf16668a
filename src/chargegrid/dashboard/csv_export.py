"""Transactions as CSV: a header row, then one line per transaction, written as read."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import datetime

from chargegrid.storage.repositories.transaction_listing import TransactionRow

HEADER = (
    "id",
    "charger_id",
    "transaction_id",
    "evse_id",
    "connector_id",
    "id_token",
    "status",
    "started_at",
    "stopped_at",
    "duration_s",
    "energy_wh",
    "meter_start_wh",
    "meter_stop_wh",
    "stop_reason",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: str | None) -> str:
    """Text from a charger or an operator, made inert for spreadsheets."""
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _time(value: datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else f"{value:.3f}".rstrip("0")


def line(row: TransactionRow) -> list[str]:
    duration = (
        ""
        if row.started_at is None or row.stopped_at is None
        else str(int((row.stopped_at - row.started_at).total_seconds()))
    )
    return [
        str(row.id),
        cell_text(row.charger_id),
        cell_text(row.transaction_id),
        "" if row.evse_id is None else str(row.evse_id),
        "" if row.connector_id is None else str(row.connector_id),
        cell_text(row.id_token),
        row.status.value,
        _time(row.started_at),
        _time(row.stopped_at),
        duration,
        _number(row.energy_wh),
        _number(row.meter_start_wh),
        _number(row.meter_stop_wh),
        cell_text(row.stop_reason),
    ]


def _text(lines: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue()


async def csv_text(batches: AsyncIterator[list[TransactionRow]]) -> AsyncIterator[str]:
    """The header, then each batch of rows as CSV text (RFC 4180 line ends)."""
    yield _text([HEADER])
    async for rows in batches:
        yield _text(line(row) for row in rows)
