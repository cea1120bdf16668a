"""Transactions as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from chargegrid.dashboard.csv_export import HEADER, cell_text, csv_text
from chargegrid.domain.model import TransactionStatus
from chargegrid.storage.repositories.transaction_listing import TransactionRow

START = datetime(2030, 1, 1, 12, tzinfo=UTC)


def row(pk: int, **changes: object) -> TransactionRow:
    values: dict[str, object] = {
        "id": pk,
        "charger_id": "CP-1",
        "transaction_id": "77",
        "evse_id": 1,
        "connector_id": 1,
        "id_token": "04A2B3",
        "status": TransactionStatus.COMPLETED,
        "started_at": START,
        "stopped_at": START + timedelta(minutes=90, seconds=5),
        "meter_start_wh": 1000.0,
        "meter_stop_wh": 13_345.5,
        "energy_wh": 12_345.5,
        "stop_reason": "EVDisconnected",
    }
    values.update(changes)
    return TransactionRow(**values)  # type: ignore[arg-type]


async def batches(*groups: list[TransactionRow]) -> AsyncIterator[list[TransactionRow]]:
    for group in groups:
        yield group


async def test_a_header_then_a_line_per_transaction() -> None:
    running = row(
        2,
        status=TransactionStatus.ACTIVE,
        stopped_at=None,
        energy_wh=None,
        meter_stop_wh=None,
        stop_reason=None,
        id_token="=HYPERLINK(1)",
    )
    text = "".join([part async for part in csv_text(batches([row(1)], [running]))])
    assert text.endswith("\r\n")
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == HEADER
    first = dict(zip(HEADER, lines[1], strict=True))
    assert first["started_at"] == "2030-01-01T12:00:00Z"
    assert first["duration_s"] == "5405"
    assert first["energy_wh"] == "12345.5"
    assert first["meter_start_wh"] == "1000"
    second = dict(zip(HEADER, lines[2], strict=True))
    assert second["status"] == "active"
    assert second["stopped_at"] == second["duration_s"] == second["energy_wh"] == ""
    assert second["id_token"] == "'=HYPERLINK(1)"  # inert in a spreadsheet
    assert len(lines) == 3


def test_text_that_a_spreadsheet_would_run_is_made_inert() -> None:
    assert cell_text("@SUM(A1)") == "'@SUM(A1)"
    assert cell_text("-1+1") == "'-1+1"
    assert cell_text("CP-1") == "CP-1"
    assert cell_text(None) == ""
