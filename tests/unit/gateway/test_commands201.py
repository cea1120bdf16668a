"""Version-neutral commands as OCPP 2.0.1 calls: what each becomes, what its answer leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import msgspec
import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.api import command_params as p
from chargegrid.config import Settings
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import (
    Command,
    CommandState,
    ComponentRef,
    DeviceVariable,
    VariableAttribute,
    VariableCharacteristics,
)
from chargegrid.domain.services import chargers, reports
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.gateway.handlers import commands201 as c
from chargegrid.ocpp.v201 import messages as m
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.storage.engine import Database
from chargegrid.storage.repositories import device_model

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
COMM = m.Component(name="OCPPCommCtrlr")
HEARTBEAT = m.Variable(name="HeartbeatInterval")


def command(name: str, body: BaseModel, command_id: int = 41) -> Command:
    """A command as the API queues it: the body's JSON, without nulls."""
    return Command(
        id=command_id,
        charger_id="CS-1",
        name=name,
        params=body.model_dump(mode="json", exclude_none=True),
        state=CommandState.SENT,
        created_at=NOW,
        expires_at=NOW,
        updated_at=NOW,
    )


def context(conn: AsyncConnection | None = None) -> HandlerContext:
    return HandlerContext(cast(AsyncConnection, conn), "CS-1", OcppVersion.V201, NOW, Settings())


async def build(name: str, body: BaseModel, command_id: int = 41) -> tuple[str, dict[str, Any]]:
    call = await c.TRANSLATIONS[name].build(context(), command(name, body, command_id))
    payload: dict[str, Any] = msgspec.to_builtins(call.request)
    return call.action, payload


async def refused(name: str, body: BaseModel) -> str:
    with pytest.raises(DomainError) as caught:
        await build(name, body)
    assert caught.value.kind is ErrorKind.INVALID
    return caught.value.message


async def test_evses_and_connectors() -> None:
    assert await build("unlock", p.Unlock(evse_id=2)) == (
        "UnlockConnector",
        {"evseId": 2, "connectorId": 1},
    )
    for body, sent in [
        (p.ChangeAvailability(operative=True), {"operationalStatus": "Operative"}),
        (p.ChangeAvailability(evse_id=0, operative=True), {"operationalStatus": "Operative"}),
        (
            p.ChangeAvailability(evse_id=2, operative=False),
            {"operationalStatus": "Inoperative", "evse": {"id": 2}},
        ),
    ]:
        assert await build("change-availability", body) == ("ChangeAvailability", sent)
    assert "needs the evse_id" in await refused(
        "change-availability", p.ChangeAvailability(evse_id=0, connector_id=1, operative=True)
    )
    assert await build("trigger-message", p.TriggerMessage(message="TransactionEvent")) == (
        "TriggerMessage",
        {"requestedMessage": "TransactionEvent"},
    )
    unknown = await refused("trigger-message", p.TriggerMessage(message="Diagnostics"))
    assert "cannot be asked to send Diagnostics" in unknown
    assert "SignChargingStationCertificate" in unknown


async def test_variables_to_read_and_set() -> None:
    ref = p.VariableRef(
        component="Connector",
        component_instance="Left",
        evse_id=1,
        connector_id=2,
        variable="Current",
        variable_instance="L1",
        attribute="MaxSet",
    )
    component = {"name": "Connector", "instance": "Left", "evse": {"id": 1, "connectorId": 2}}
    variable = {"name": "Current", "instance": "L1"}
    assert await build("get-configuration", p.GetConfiguration(variables=[ref])) == (
        "GetVariables",
        {
            "getVariableData": [
                {"component": component, "variable": variable, "attributeType": "MaxSet"}
            ]
        },
    )
    assert await build("set-configuration", p.SetConfiguration(variable=ref, value="16")) == (
        "SetVariables",
        {
            "setVariableData": [
                {
                    "attributeValue": "16",
                    "component": component,
                    "variable": variable,
                    "attributeType": "MaxSet",
                }
            ]
        },
    )
    assert "use variables" in await refused("get-configuration", p.GetConfiguration(keys=["A"]))
    for nothing in (p.GetConfiguration(), p.GetConfiguration(variables=[])):
        assert await refused("get-configuration", nothing) == (
            "GetVariables needs at least one variable; get-base-report reads the whole device model"
        )
    assert "give variable" in await refused(
        "set-configuration", p.SetConfiguration(key="K", value="1")
    )


async def test_firmware_logs_reports_and_messages_carry_the_command_id() -> None:
    firmware = p.UpdateFirmware(location="https://fw", retrieve_at=NOW, signature="S")
    assert await build("update-firmware", firmware, command_id=5) == (
        "UpdateFirmware",
        {
            "requestId": 5,
            "firmware": {
                "location": "https://fw",
                "retrieveDateTime": "2026-05-04T12:00:00Z",
                "signature": "S",
            },
        },
    )
    assert await build("get-diagnostics", p.GetDiagnostics(location="https://up"), 6) == (
        "GetLog",
        {"log": {"remoteLocation": "https://up"}, "logType": "DiagnosticsLog", "requestId": 6},
    )
    report = p.GetBaseReport(report_base="ConfigurationInventory")
    assert await build("get-base-report", report, command_id=7) == (
        "GetBaseReport",
        {"requestId": 7, "reportBase": "ConfigurationInventory"},
    )
    message = p.SetDisplayMessage(message=p.DisplayMessageContent(content="Hi"))
    assert await build("set-display-message", message, command_id=8) == (
        "SetDisplayMessage",
        {
            "message": {
                "id": 8,
                "priority": "NormalCycle",
                "message": {"format": "UTF8", "content": "Hi"},
            }
        },
    )
    own_id = message.model_copy(update={"id": 0, "evse_id": 2})
    assert (await build("set-display-message", own_id))[1]["message"]["id"] == 0
    assert (await build("set-display-message", own_id))[1]["message"]["display"] == {
        "name": "Display",
        "evse": {"id": 2},
    }
    transfer = p.DataTransfer(vendor_id="V", message_id="M", data={"k": [1, "2"]})
    assert await build("data-transfer", transfer) == (
        "DataTransfer",
        {"vendorId": "V", "messageId": "M", "data": {"k": [1, "2"]}},
    )


@pytest.fixture
async def registered(db: Database) -> Database:
    async with db.begin() as conn:
        await chargers.register(conn, charger_id="CS-1", password=None, now=NOW, security_profile=0)
    return db


async def stored(db: Database, name: str) -> dict[str, tuple[Any, ...]]:
    async with db.connect() as conn:
        page = await device_model.list_page(conn, "CS-1", limit=10, offset=0, variable=name)
    (variable,) = page.items
    return {a.type: (a.value, a.mutability, a.persistent) for a in variable.attributes}


async def settle(db: Database, name: str, body: BaseModel, response: Any) -> tuple[Any, ...]:
    async with db.begin() as conn:
        settlement = await c.TRANSLATIONS[name].settle(context(conn), command(name, body), response)
    return settlement.state, settlement.error


def read(value: str, status: str = "Accepted", **extra: Any) -> m.GetVariableResult:
    return m.GetVariableResult(
        attribute_status=status,  # type: ignore[arg-type]
        component=COMM,
        variable=HEARTBEAT,
        attribute_value=value,
        **extra,
    )


async def test_values_read_and_set_join_the_device_model(registered: Database) -> None:
    db = registered
    reported = DeviceVariable(
        component=ComponentRef(name="OCPPCommCtrlr"),
        name="HeartbeatInterval",
        attributes=(VariableAttribute("Actual", "300", "ReadWrite", True, False),),
        characteristics=VariableCharacteristics(data_type="integer", supports_monitoring=False),
    )
    async with db.begin() as conn:
        await reports.record_device_model(
            conn, "CS-1", [reported], reported_at=NOW - timedelta(days=1), now=NOW
        )
    get = p.GetConfiguration(
        variables=[p.VariableRef(component="OCPPCommCtrlr", variable="HeartbeatInterval")]
    )
    answer = m.GetVariablesResponse(get_variable_result=[read("120")])
    assert await settle(db, "get-configuration", get, answer) == (CommandState.ACCEPTED, None)
    assert await stored(db, "HeartbeatInterval") == {"Actual": ("120", "ReadWrite", True)}

    unknown = m.GetVariablesResponse(
        get_variable_result=[
            read(
                "x",
                status="UnknownComponent",
                attribute_status_info=m.StatusInfo(reason_code="R", additional_info="more"),
                attribute_type="Target",
            )
        ]
    )
    assert await settle(db, "get-configuration", get, unknown) == (
        CommandState.REJECTED,
        "the charger read none of the variables: OCPPCommCtrlr/HeartbeatInterval (Target): "
        "UnknownComponent: R (more)",
    )
    assert await stored(db, "HeartbeatInterval") == {"Actual": ("120", "ReadWrite", True)}

    ref = p.VariableRef(component="OCPPCommCtrlr", variable="HeartbeatInterval")
    set_60 = p.SetConfiguration(variable=ref, value="60")
    reboot = m.SetVariablesResponse(
        set_variable_result=[
            m.SetVariableResult(
                attribute_status="RebootRequired", component=COMM, variable=HEARTBEAT
            )
        ]
    )
    assert await settle(db, "set-configuration", set_60, reboot) == (CommandState.ACCEPTED, None)
    assert await stored(db, "HeartbeatInterval") == {"Actual": ("60", "ReadWrite", True)}

    no = m.SetVariablesResponse(
        set_variable_result=[
            m.SetVariableResult(
                attribute_status="NotSupportedAttributeType",
                component=COMM,
                variable=HEARTBEAT,
                attribute_type="MinSet",
            )
        ]
    )
    set_min = p.SetConfiguration(variable=ref.model_copy(update={"attribute": "MinSet"}), value="1")
    assert await settle(db, "set-configuration", set_min, no) == (
        CommandState.REJECTED,
        "the charger answered NotSupportedAttributeType",
    )
    assert await stored(db, "HeartbeatInterval") == {"Actual": ("60", "ReadWrite", True)}

    # A report made after the value was set wins over it, as reports do among themselves.
    async with db.begin() as conn:
        await reports.record_device_model(
            conn, "CS-1", [reported], reported_at=NOW + timedelta(seconds=1), now=NOW
        )
    assert await settle(db, "set-configuration", set_60, reboot) == (CommandState.ACCEPTED, None)
    assert await stored(db, "HeartbeatInterval") == {"Actual": ("300", "ReadWrite", True)}
