"""OCPP 2.0.1 sessions with a tariff: the running cost in CostUpdated, the final cost in
the answer to the end, and a CDR once every event is in (or after the wait for late ones)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ocpp.v201 import call

from tests.integration.answering import answering_charger
from tests.integration.conftest import start_server
from tests.integration.harness import ServerProcess
from tests.integration.ocpp201 import boot, energy
from tests.integration.tariffing import (
    MINUTE,
    add_tariff,
    amounts,
    assign,
    cdr_totals,
    cdrs_of,
    engine_price,
    iso,
    period,
    totals,
    wait_for_cdrs,
)

PASSWORD = "correct-horse-battery"
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
CDR_WAIT = 2
# Energy only: the running cost depends on the readings, not on when it is asked.
TARIFF: dict[str, Any] = {
    "id": "KWH",
    "currency": "EUR",
    "elements": [
        {
            "price_components": [
                {"type": "FLAT", "price": 1.00, "vat": 21.0, "step_size": 1},
                {"type": "ENERGY", "price": 0.25, "vat": 21.0, "step_size": 1},
            ]
        }
    ],
}


@pytest.fixture
def server(empty_database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that sends every cost change and waits 2 s for late events."""
    process = start_server(
        empty_database_url,
        tmp_path,
        CHARGEGRID_COST_UPDATE_INTERVAL="0",
        CHARGEGRID_CDR_WAIT=str(CDR_WAIT),
    )
    try:
        yield process
    finally:
        code = process.stop()
        assert code == 0, f"server exited with {code}:\n{process.log()}"


def event(
    transaction_id: str,
    kind: str,
    seq_no: int,
    minute: int,
    *,
    state: str | None = None,
    wh: float | None = None,
    **extra: Any,
) -> call.TransactionEvent:
    at = T0 + minute * MINUTE
    info: dict[str, Any] = {"transaction_id": transaction_id}
    if state is not None:
        info["charging_state"] = state
    if kind == "Ended":
        info["stopped_reason"] = "EVDisconnected"
    return call.TransactionEvent(
        event_type=kind,
        timestamp=iso(at),
        trigger_reason={"Started": "Authorized", "Ended": "EVCommunicationLost"}.get(
            kind, "MeterValuePeriodic"
        ),
        seq_no=seq_no,
        transaction_info=info,
        meter_value=None if wh is None else [energy(at, wh)],
        **extra,
    )


def started(transaction_id: str, *, wh: float = 1250) -> call.TransactionEvent:
    return event(
        transaction_id,
        "Started",
        0,
        0,
        state="EVConnected",
        wh=wh,
        evse={"id": 1, "connector_id": 1},
        id_token={"id_token": "TAG-201", "type": "ISO14443"},
    )


async def cost_updates(charger: Any) -> list[tuple[float, str]]:
    return [
        (payload["total_cost"], payload["transaction_id"])
        for action, payload in charger.received.calls
        if action == "CostUpdated"
    ]


async def test_costs_reach_the_charger_and_the_cdr_matches_the_engine(
    server: ServerProcess,
) -> None:
    await server.register_charger("CS-COST", PASSWORD)
    await server.add_id_token("TAG-201", type="ISO14443")
    async with server.api() as api:
        stored = await add_tariff(api, TARIFF)
        await assign(api, "CS-COST", 1, "KWH")
        async with answering_charger(
            server, "CS-COST", PASSWORD, {"CostUpdated": {}}, version="2.0.1"
        ) as charger:
            await charger.call(boot())
            answer = await charger.call(started("TX-A"))
            assert answer.total_cost is None  # only the end's answer carries it
            await charger.received.wait_for(1)
            # Charging starts: the cost stays what it was, so no CostUpdated for it.
            await charger.call(event("TX-A", "Updated", 1, 1, state="Charging"))
            await charger.call(event("TX-A", "Updated", 2, 15, state="Charging", wh=4250))
            await charger.received.wait_for(2)
            ended = await charger.call(event("TX-A", "Ended", 3, 45, state="Idle", wh=9750))
            # The charger sends the end again (a new message id): the same answer, one CDR.
            again = await charger.call(event("TX-A", "Ended", 3, 45, state="Idle", wh=9750))
            await asyncio.sleep(0.5)  # room for a CostUpdated that must not come
            updates = await cost_updates(charger)

        (cdr,) = await cdrs_of(api, "CS-COST")
        listed = (await api.get("/transactions", params={"charger_id": "CS-COST"})).json()
        detail = (await api.get(f"/transactions/{listed['items'][0]['id']}")).json()

    # FLAT 1.00, then 3 kWh, at 0.25 per kWh, 21 % VAT.
    assert updates == [(1.21, "TX-A"), (2.1175, "TX-A")]
    assert ended.total_cost == again.total_cost == 3.7813
    assert cdr["total_cost"] == {"excl_vat": 3.125, "incl_vat": 3.7813}
    assert detail["cost"]["cdr_id"] == cdr["id"]
    # EVConnected for the first minute: parking, then charging until the end.
    expected = engine_price(
        stored,
        "UTC",
        T0,
        T0 + 45 * MINUTE,
        [
            period(T0, parking="0.0167"),
            period(T0 + MINUTE, energy="3", time="0.2333"),
            period(T0 + 15 * MINUTE, energy="5.5", time="0.5"),
        ],
    )
    assert cdr_totals(cdr) == totals(expected)
    assert amounts(cdr["charging_periods"]) == amounts(expected.charging_periods)
    assert cdr["session_id"] == "TX-A"
    assert cdr["cdr_token"]["type"] == "RFID"
    assert cdr["tariffs"][0]["id"] == "KWH"


async def test_a_cdr_waits_for_late_events(server: ServerProcess) -> None:
    await server.register_charger("CS-LATE", PASSWORD)
    async with server.api() as api:
        await add_tariff(api, TARIFF)
        await assign(api, "CS-LATE", 1, "KWH")
        async with answering_charger(
            server, "CS-LATE", PASSWORD, {"CostUpdated": {}}, version="2.0.1"
        ) as charger:
            await charger.call(boot())
            # Event 1 is late (the charger was offline): the end arrives before it.
            await charger.call(started("TX-GAP"))
            await charger.call(event("TX-GAP", "Updated", 2, 30, state="Charging", wh=5250))
            ended = await charger.call(event("TX-GAP", "Ended", 3, 45, state="Idle", wh=6250))
            # Priced with what arrived: 5 kWh.
            assert ended.total_cost == 2.7225
            assert await cdrs_of(api, "CS-LATE") == []
            await charger.call(
                event("TX-GAP", "Updated", 1, 15, state="Charging", wh=3250, offline=True)
            )
            (complete,) = await cdrs_of(api, "CS-LATE")
            assert complete["total_energy"] == 5.0
            assert complete["remark"] == "stopped: EVDisconnected"  # nothing was missing

            # Event 1 of this one never comes: the CDR is made after the wait.
            await charger.call(started("TX-LOST"))
            await charger.call(event("TX-LOST", "Ended", 2, 20, state="Idle", wh=2250))
            assert len(await cdrs_of(api, "CS-LATE")) == 1
            found = await wait_for_cdrs(api, "CS-LATE", 2, within=CDR_WAIT + 10)

    late = found[0]
    assert late["session_id"] == "TX-LOST"
    assert late["remark"].startswith("made without 1 event(s) of the transaction")
    assert late["total_energy"] == 1.0
    assert late["total_cost"] == {"excl_vat": 1.25, "incl_vat": 1.5125}
