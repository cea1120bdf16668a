"""OCPP 2.0.1 chargers of the PyPI ``ocpp`` package, and the messages of a session."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call

from tests.integration.harness import ServerProcess

SUBPROTOCOL = "ocpp2.0.1"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@contextlib.asynccontextmanager
async def charger201(
    server: ServerProcess, charger_id: str, password: str
) -> AsyncIterator[ChargePoint201]:
    """An OCPP 2.0.1 charger, connected and listening."""
    async with server.websocket(charger_id, password, subprotocols=(SUBPROTOCOL,)) as ws:
        charge_point = ChargePoint201(charger_id, ws, response_timeout=10)
        task = asyncio.create_task(charge_point.start())
        try:
            yield charge_point
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def boot(reason: str = "PowerUp") -> call.BootNotification:
    return call.BootNotification(
        charging_station={
            "vendor_name": "Acme",
            "model": "Wallbox 2",
            "serial_number": "SN-201",
            "firmware_version": "2.0.7",
            "modem": {"iccid": "8931080019073497795", "imsi": "204080150000001"},
        },
        reason=reason,
    )


def energy(at: datetime, value: float, *, unit: str = "Wh", **extra: Any) -> dict[str, Any]:
    """A meterValue with one Energy.Active.Import.Register reading."""
    sampled: dict[str, Any] = {
        "value": value,
        "measurand": "Energy.Active.Import.Register",
        "unit_of_measure": {"unit": unit},
        **extra,
    }
    return {"timestamp": iso(at), "sampled_value": [sampled]}


def session_events(
    transaction_id: str, start: datetime, *, token: str = "TAG-201"
) -> list[call.TransactionEvent]:
    """Started, two updates and the end of a session: 1250 Wh to 9750 Wh."""
    id_token = {"id_token": token, "type": "ISO14443"}
    return [
        call.TransactionEvent(
            event_type="Started",
            timestamp=iso(start),
            trigger_reason="Authorized",
            seq_no=0,
            transaction_info={"transaction_id": transaction_id, "charging_state": "EVConnected"},
            evse={"id": 1, "connector_id": 1},
            id_token=id_token,
            meter_value=[energy(start, 1250, context="Transaction.Begin")],
            number_of_phases_used=3,
            cable_max_current=32,
            reservation_id=11,
        ),
        call.TransactionEvent(
            event_type="Updated",
            timestamp=iso(start + timedelta(minutes=1)),
            trigger_reason="ChargingStateChanged",
            seq_no=1,
            transaction_info={"transaction_id": transaction_id, "charging_state": "Charging"},
            offline=True,
        ),
        call.TransactionEvent(
            event_type="Updated",
            timestamp=iso(start + timedelta(minutes=15)),
            trigger_reason="MeterValuePeriodic",
            seq_no=2,
            transaction_info={"transaction_id": transaction_id, "charging_state": "Charging"},
            meter_value=[
                {
                    "timestamp": iso(start + timedelta(minutes=15)),
                    "sampled_value": [
                        # 4.25 kWh, stated as Wh with a multiplier of 10^3
                        {
                            "value": 4.25,
                            "measurand": "Energy.Active.Import.Register",
                            "unit_of_measure": {"unit": "Wh", "multiplier": 3},
                        },
                        {
                            "value": 11.04,
                            "measurand": "Power.Active.Import",
                            "unit_of_measure": {"unit": "kW"},
                        },
                        {
                            "value": 16.0,
                            "measurand": "Current.Import",
                            "phase": "L1",
                            "unit_of_measure": {"unit": "A"},
                        },
                        {"value": 62, "measurand": "SoC", "unit_of_measure": {"unit": "Percent"}},
                    ],
                }
            ],
        ),
        call.TransactionEvent(
            event_type="Ended",
            timestamp=iso(start + timedelta(minutes=45)),
            trigger_reason="EVCommunicationLost",
            seq_no=3,
            transaction_info={
                "transaction_id": transaction_id,
                "charging_state": "Idle",
                "stopped_reason": "EVDisconnected",
                "time_spent_charging": 2400,
            },
            id_token=id_token,
            meter_value=[
                energy(start + timedelta(minutes=45), 9.75, unit="kWh", context="Transaction.End")
            ],
        ),
    ]
