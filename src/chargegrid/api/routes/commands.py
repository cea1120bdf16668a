"""/api/v1/chargers/{id}/commands/{name}, /chargers/{id}/ocpp/{action}, /commands"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

from chargegrid.api.command_params import COMMANDS, Params
from chargegrid.api.deps import PagingDep, PlatformDep, ReadConn, require
from chargegrid.api.schemas import PageOut, page_out
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import RAW_COMMAND, Command, CommandState
from chargegrid.domain.services import commands
from chargegrid.domain.services.access import Role
from chargegrid.domain.services.command_requests import request_command
from chargegrid.platform import Platform
from chargegrid.storage.repositories import chargers as charger_repo
from chargegrid.storage.repositories import commands as repo
from chargegrid.values import immutable

router = APIRouter(tags=["commands"])


class CommandOut(BaseModel):
    id: int
    charger_id: str
    name: str = Field(description="The command (remote-start, reset...), or ocpp for a raw call.")
    params: dict[str, Any] = Field(description="What was asked, as given.")
    state: CommandState
    ocpp_version: str | None = Field(description="The charger's OCPP version when it was sent.")
    action: str | None = Field(description="The OCPP action it was sent as.")
    request: dict[str, Any] | None = Field(description="The OCPP payload sent.")
    response: dict[str, Any] | None = Field(
        description="The charger's answer (or its CALLERROR code and description)."
    )
    error: str | None = Field(description="Why the command failed, was rejected or expired.")
    transaction_id: int | None = Field(
        description="The transaction it started (remote start) or addressed (platform id)."
    )
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    requested_by: str | None
    created_at: datetime
    expires_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None

    @classmethod
    def of(cls, command: Command) -> CommandOut:
        return cls(
            id=command.id,
            charger_id=command.charger_id,
            name=command.name,
            params=command.params,
            state=command.state,
            ocpp_version=command.ocpp_version,
            action=command.action,
            request=command.request,
            response=command.response,
            error=command.error,
            transaction_id=command.transaction_pk,
            evse_id=command.evse_id,
            connector_id=command.connector_id,
            id_token=command.id_token,
            requested_by=command.requested_by,
            created_at=command.created_at,
            expires_at=command.expires_at,
            sent_at=command.sent_at,
            answered_at=command.answered_at,
        )


@immutable
class CommandOptions:
    wait: float | None
    queue: bool
    expires_at: datetime | None


def command_options(
    wait: Annotated[
        float | None,
        Query(
            ge=0,
            le=120,
            description="Seconds to wait for the charger's answer before returning the "
            "command as it stands (default: the server's setting; 0: do not wait).",
        ),
    ] = None,
    queue: Annotated[
        bool,
        Query(
            description="Queue the command if the charger is offline (default). With false, "
            "a command for an offline charger fails at once."
        ),
    ] = True,
    expires_at: Annotated[
        AwareDatetime | None,
        Query(description="When a queued command expires unsent (default: the setting)."),
    ] = None,
) -> CommandOptions:
    return CommandOptions(wait, queue, expires_at)


Options = Annotated[CommandOptions, Depends(command_options)]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": CommandOut,
        "description": "The command has finished (accepted, rejected, failed...).",
    },
    202: {
        "model": CommandOut,
        "description": "The command is queued or sent; poll GET /api/v1/commands/{id}.",
    },
}


async def submit(
    platform: Platform,
    request: Request,
    response: Response,
    *,
    charger_id: str,
    name: str,
    params: dict[str, Any],
    options: CommandOptions,
) -> CommandOut:
    """Queue a command, hand it to the charger's node and wait a little for its answer."""
    command = await request_command(
        platform,
        charger_id=charger_id,
        name=name,
        params=params,
        requested_by=getattr(request.state, "principal", None),
        wait=options.wait,
        queue=options.queue,
        expires_at=options.expires_at,
    )
    response.status_code = 200 if command.state.finished else 202
    return CommandOut.of(command)


def _command_route(name: str, params_type: type[Params]) -> Callable[..., Awaitable[CommandOut]]:
    async def send_command(
        charger_id: str,
        body: Params,
        options: Options,
        platform: PlatformDep,
        request: Request,
        response: Response,
    ) -> CommandOut:
        return await submit(
            platform,
            request,
            response,
            charger_id=charger_id,
            name=name,
            params=body.model_dump(mode="json", exclude_none=True),
            options=options,
        )

    # The body's type differs per command: give FastAPI the signature it documents.
    signature = inspect.signature(send_command)
    send_command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            p.replace(annotation=params_type) if p.name == "body" else p
            for p in signature.parameters.values()
        ]
    )
    send_command.__name__ = "command_" + name.replace("-", "_")
    return send_command


for _name, _params in COMMANDS.items():
    router.add_api_route(
        f"/chargers/{{charger_id}}/commands/{_name}",
        _command_route(_name, _params),
        methods=["POST"],
        status_code=202,
        responses=_RESPONSES,
        summary=f"Send {_name}",
        description=(_params.__doc__ or "") + " Translated to the charger's OCPP version.",
        dependencies=[require(Role.OPERATOR)],
    )


@router.post(
    "/chargers/{charger_id}/ocpp/{action}",
    status_code=202,
    responses=_RESPONSES,
    dependencies=[require(Role.OPERATOR)],
)
async def send_ocpp_call(
    charger_id: str,
    action: str,
    payload: Annotated[
        dict[str, Any], Body(description="The OCPP request payload of the charger's version.")
    ],
    options: Options,
    platform: PlatformDep,
    request: Request,
    response: Response,
) -> CommandOut:
    """Send any OCPP call the central system may send, checked against the charger's
    version's schema before it is queued."""
    return await submit(
        platform,
        request,
        response,
        charger_id=charger_id,
        name=RAW_COMMAND,
        params={"action": action, "payload": payload},
        options=options,
    )


@router.get("/commands/{command_id}", dependencies=[require(Role.VIEWER)])
async def get_command(command_id: int, conn: ReadConn) -> CommandOut:
    return CommandOut.of(await commands.get(conn, command_id))


StateFilter = Annotated[CommandState | None, Query(description="Only commands in this state.")]
NameFilter = Annotated[str | None, Query(description="Only this command (e.g. remote-start).")]


@router.get("/commands", dependencies=[require(Role.VIEWER)])
async def list_commands(
    conn: ReadConn,
    paging: PagingDep,
    state: StateFilter = None,
    name: NameFilter = None,
    charger_id: Annotated[str | None, Query(description="Only this charger's.")] = None,
    transaction_id: Annotated[
        int | None, Query(description="Only those that started or addressed this transaction.")
    ] = None,
) -> PageOut[CommandOut]:
    """Commands, newest first."""
    page = await repo.list_page(
        conn,
        limit=paging.limit,
        offset=paging.offset,
        charger_id=charger_id,
        state=None if state is None else state.value,
        name=name,
        transaction_pk=transaction_id,
    )
    return page_out(page, CommandOut.of)


@router.get("/chargers/{charger_id}/commands", dependencies=[require(Role.VIEWER)])
async def list_charger_commands(
    charger_id: str,
    conn: ReadConn,
    paging: PagingDep,
    state: StateFilter = None,
    name: NameFilter = None,
) -> PageOut[CommandOut]:
    """A charger's commands, newest first."""
    if await charger_repo.get(conn, charger_id) is None:
        raise DomainError(ErrorKind.NOT_FOUND, f"charger {charger_id} not found")
    page = await repo.list_page(
        conn,
        limit=paging.limit,
        offset=paging.offset,
        charger_id=charger_id,
        state=None if state is None else state.value,
        name=name,
    )
    return page_out(page, CommandOut.of)
