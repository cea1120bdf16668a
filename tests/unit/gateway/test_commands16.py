"""Version-neutral commands as OCPP 1.6 calls: what each becomes, what its answer leaves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import msgspec
import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.api import command_params as p
from chargegrid.config import Settings
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import Command, CommandState
from chargegrid.domain.services import chargers, configuration
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers import commands16 as c
from chargegrid.gateway.handlers.commands import OcppCall
from chargegrid.ocpp.v16 import messages as m
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.storage.engine import Database

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def command(name: str, body: BaseModel, command_id: int = 41) -> Command:
    """A command as the API queues it: the body's JSON, without nulls."""
    return Command(
        id=command_id,
        charger_id="CP-1",
        name=name,
        params=body.model_dump(mode="json", exclude_none=True),
        state=CommandState.SENT,
        created_at=NOW,
        expires_at=NOW,
        updated_at=NOW,
    )


def context(conn: AsyncConnection | None = None) -> HandlerContext:
    """A handler context; builds that read nothing get no database connection."""
    return HandlerContext(cast(AsyncConnection, conn), "CP-1", OcppVersion.V16, NOW, Settings())


async def build(name: str, body: BaseModel, command_id: int = 41) -> tuple[str, dict[str, Any]]:
    """The action and payload (as sent) a command becomes."""
    call: OcppCall = await c.TRANSLATIONS[name].build(context(), command(name, body, command_id))
    payload: dict[str, Any] = msgspec.to_builtins(call.request)
    return call.action, payload


async def refused(name: str, body: BaseModel) -> str:
    with pytest.raises(DomainError) as caught:
        await build(name, body)
    assert caught.value.kind is ErrorKind.INVALID
    return caught.value.message


async def test_unlock_and_change_availability_address_connectors() -> None:
    assert await build("unlock", p.Unlock(evse_id=2)) == ("UnlockConnector", {"connectorId": 2})
    assert "no connector_id" in await refused("unlock", p.Unlock(evse_id=2, connector_id=2))
    assert await build("change-availability", p.ChangeAvailability(operative=True)) == (
        "ChangeAvailability",
        {"connectorId": 0, "type": "Operative"},
    )
    assert await build("change-availability", p.ChangeAvailability(evse_id=3, operative=False)) == (
        "ChangeAvailability",
        {"connectorId": 3, "type": "Inoperative"},
    )
    assert "OCPP 2.0.1 only" in await refused(
        "change-availability", p.ChangeAvailability(evse_id=1, connector_id=1, operative=True)
    )


@pytest.mark.parametrize(
    ("message", "action", "requested"),
    [
        ("Heartbeat", "TriggerMessage", "Heartbeat"),
        ("DiagnosticsStatusNotification", "TriggerMessage", "DiagnosticsStatusNotification"),
        ("FirmwareStatusNotification", "TriggerMessage", "FirmwareStatusNotification"),
        ("LogStatusNotification", "ExtendedTriggerMessage", "LogStatusNotification"),
        ("SignChargePointCertificate", "ExtendedTriggerMessage", "SignChargePointCertificate"),
        (
            "SignedFirmwareStatusNotification",
            "ExtendedTriggerMessage",
            "FirmwareStatusNotification",
        ),
    ],
)
async def test_trigger_message_picks_the_message_that_can_ask(
    message: str, action: str, requested: str
) -> None:
    assert await build("trigger-message", p.TriggerMessage(message=message, evse_id=1)) == (
        action,
        {"requestedMessage": requested, "connectorId": 1},
    )


async def test_trigger_message_refuses_what_16_cannot_ask_for() -> None:
    message = await refused("trigger-message", p.TriggerMessage(message="TransactionEvent"))
    assert "cannot be asked to send TransactionEvent" in message
    assert "Heartbeat" in message
    assert "SignChargePointCertificate" in message
    assert "OCPP 2.0.1 only" in await refused(
        "trigger-message", p.TriggerMessage(message="Heartbeat", evse_id=1, connector_id=1)
    )


async def test_configuration_requests_are_checked_against_the_16_schema() -> None:
    assert await build("get-configuration", p.GetConfiguration()) == ("GetConfiguration", {})
    assert await build("get-configuration", p.GetConfiguration(keys=[])) == (
        "GetConfiguration",
        {},
    )
    assert await build("get-configuration", p.GetConfiguration(keys=["A", "B"])) == (
        "GetConfiguration",
        {"key": ["A", "B"]},
    )
    too_long = await refused("get-configuration", p.GetConfiguration(keys=["K" * 51]))
    assert too_long.startswith("not a valid GetConfiguration request of OCPP 1.6")
    assert "give keys" in await refused(
        "get-configuration",
        p.GetConfiguration(variables=[p.VariableRef(component="C", variable="V")]),
    )
    assert await build("set-configuration", p.SetConfiguration(key="K", value="v")) == (
        "ChangeConfiguration",
        {"key": "K", "value": "v"},
    )
    assert "not a valid ChangeConfiguration" in await refused(
        "set-configuration", p.SetConfiguration(key="K", value="v" * 501)
    )
    assert "give key" in await refused(
        "set-configuration",
        p.SetConfiguration(variable=p.VariableRef(component="C", variable="V"), value="1"),
    )


async def test_firmware_updates_signed_or_not() -> None:
    plain = p.UpdateFirmware(
        location="ftp://fw/1.bin",
        retrieve_at=datetime.fromisoformat("2026-06-01T03:30:00+03:30"),
        retries=0,
    )
    assert await build("update-firmware", plain) == (
        "UpdateFirmware",
        {"location": "ftp://fw/1.bin", "retrieveDate": "2026-06-01T00:00:00Z", "retries": 0},
    )
    signed = plain.model_copy(update={"signing_certificate": "PEM", "signature": "SIG"})
    assert await build("update-firmware", signed, command_id=77) == (
        "SignedUpdateFirmware",
        {
            "requestId": 77,
            "firmware": {
                "location": "ftp://fw/1.bin",
                "retrieveDateTime": "2026-06-01T00:00:00Z",
                "signingCertificate": "PEM",
                "signature": "SIG",
            },
            "retries": 0,
        },
    )
    half = plain.model_copy(update={"signature": "SIG"})
    assert "needs both" in await refused("update-firmware", half)
    later = plain.model_copy(update={"install_at": NOW})
    assert "has no install time" in await refused("update-firmware", later)


async def test_diagnostics_or_the_security_log() -> None:
    diagnostics = p.GetDiagnostics(location="ftp://up", until=NOW, retry_interval=5)
    assert await build("get-diagnostics", diagnostics) == (
        "GetDiagnostics",
        {"location": "ftp://up", "retryInterval": 5, "stopTime": "2026-05-04T12:00:00Z"},
    )
    security = diagnostics.model_copy(update={"log_type": "security"})
    assert await build("get-diagnostics", security, command_id=9) == (
        "GetLog",
        {
            "log": {"remoteLocation": "ftp://up", "latestTimestamp": "2026-05-04T12:00:00Z"},
            "logType": "SecurityLog",
            "requestId": 9,
            "retryInterval": 5,
        },
    )


@pytest.mark.parametrize(
    ("data", "sent"),
    [
        (None, None),
        ("as is", "as is"),
        ({"a": [1, None]}, '{"a":[1,null]}'),
        (3, "3"),
        (["x"], '["x"]'),
    ],
)
async def test_data_transfer_data_is_a_string(data: Any, sent: str | None) -> None:
    action, payload = await build("data-transfer", p.DataTransfer(vendor_id="V", data=data))
    assert action == "DataTransfer"
    assert payload == {"vendorId": "V", **({} if sent is None else {"data": sent})}


@pytest.fixture
async def registered(db: Database) -> Database:
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CP-1", password=None, now=NOW, security_profile=0)
    return db


async def keys(db: Database) -> list[tuple[str, str | None, bool | None]]:
    async with db.connect() as conn:
        page = await configuration.list_keys(conn, "CP-1", limit=100, offset=0)
    return [(key.key, key.value, key.readonly) for key in page.items]


async def settle(db: Database, name: str, body: BaseModel, response: Any) -> tuple[Any, ...]:
    async with db.begin() as conn:
        settlement = await c.TRANSLATIONS[name].settle(context(conn), command(name, body), response)
    return settlement.state, settlement.error


async def test_configuration_reads_and_changes_are_kept(registered: Database) -> None:
    db = registered
    full = m.GetConfigurationResponse(
        configuration_key=[
            m.KeyValue(key="A", readonly=False, value="1"),
            m.KeyValue(key="B", readonly=True, value="2"),
            m.KeyValue(key="C", readonly=False),
        ]
    )
    assert await settle(db, "get-configuration", p.GetConfiguration(), full) == (
        CommandState.ACCEPTED,
        None,
    )
    assert await keys(db) == [("A", "1", False), ("B", "2", True), ("C", None, False)]

    # Some keys: those read are updated, the unknown ones forgotten, the others kept.
    some = m.GetConfigurationResponse(
        configuration_key=[m.KeyValue(key="A", readonly=False, value="5")],
        unknown_key=["C", "Z"],
    )
    assert await settle(
        db, "get-configuration", p.GetConfiguration(keys=["A", "C", "Z"]), some
    ) == (CommandState.ACCEPTED, "the charger does not know C, Z")
    assert await keys(db) == [("A", "5", False), ("B", "2", True)]

    change = p.SetConfiguration(key="D", value="new")
    assert await settle(
        db, "set-configuration", change, m.ChangeConfigurationResponse(status="RebootRequired")
    ) == (CommandState.ACCEPTED, None)
    refused = p.SetConfiguration(key="B", value="9")
    assert await settle(
        db, "set-configuration", refused, m.ChangeConfigurationResponse(status="Rejected")
    ) == (CommandState.REJECTED, "the charger answered Rejected")
    assert await keys(db) == [("A", "5", False), ("B", "2", True), ("D", "new", False)]

    # A complete read is the whole list.
    only_b = m.GetConfigurationResponse(
        configuration_key=[m.KeyValue(key="B", readonly=True, value="3")]
    )
    await settle(db, "get-configuration", p.GetConfiguration(), only_b)
    assert await keys(db) == [("B", "3", True)]
    await settle(db, "get-configuration", p.GetConfiguration(), m.GetConfigurationResponse())
    assert await keys(db) == []
