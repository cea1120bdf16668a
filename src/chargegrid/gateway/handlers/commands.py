"""Commands to chargers in each OCPP version: what a command becomes, what its answer means.

A version-neutral command (``reset``, ``remote-start``...) is *built* into one OCPP call
for the charger's version and *settled* by the charger's answer. A raw command
(``ocpp``) is an action and its payload, checked against that version's schema.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, overload

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.config import Settings
from chargegrid.domain.clock import as_utc
from chargegrid.domain.errors import DomainError, ErrorKind
from chargegrid.domain.model import RAW_COMMAND, Command, CommandState
from chargegrid.domain.services import commands
from chargegrid.gateway.handlers import HandlerContext
from chargegrid.ocpp.rpc import RpcError, decode_payload
from chargegrid.ocpp.versions import OcppVersion, actions
from chargegrid.values import immutable

# Answers that mean "will do" (or "done"), whatever the action.
AGREEING_STATUSES = frozenset(
    {"Accepted", "AcceptedCanceled", "RebootRequired", "Scheduled", "Unlocked"}
)


@immutable
class OcppCall:
    """The OCPP message a command becomes."""

    action: str
    request: msgspec.Struct


@immutable
class Settlement:
    """How a command ended, read from the charger's answer."""

    state: CommandState
    error: str | None = None
    transaction_pk: int | None = None


Build = Callable[[HandlerContext, Command], Awaitable[OcppCall]]
Settle = Callable[[HandlerContext, Command, Any], Awaitable[Settlement]]


async def settle_by_status(ctx: HandlerContext, command: Command, response: Any) -> Settlement:
    """Accepted when the answer agrees (or has no status), rejected otherwise."""
    status = getattr(response, "status", None)
    if status is None or status in AGREEING_STATUSES:
        return Settlement(CommandState.ACCEPTED)
    reason = ""
    info = getattr(response, "status_info", None)
    if info is not None:
        reason = f": {info.reason_code}" + (
            f" ({info.additional_info})" if info.additional_info else ""
        )
    return Settlement(CommandState.REJECTED, error=f"the charger answered {status}{reason}")


@immutable
class Translation:
    """One command in one version."""

    build: Build
    settle: Settle = settle_by_status


def translations_for(version: OcppVersion) -> Mapping[str, Translation]:
    """The version-neutral commands a version can carry, by name."""
    if version is OcppVersion.V16:
        from chargegrid.gateway.handlers import commands16

        return commands16.TRANSLATIONS
    from chargegrid.gateway.handlers import commands201

    return commands201.TRANSLATIONS


def translation_of(version: OcppVersion, name: str) -> Translation:
    """How ``name`` is carried in ``version``; DomainError when it cannot be."""
    if name == RAW_COMMAND:
        return RAW
    translation = translations_for(version).get(name)
    if translation is None:
        raise DomainError(
            ErrorKind.INVALID,
            f"{name} does not exist in OCPP {version.value}; "
            f"commands of OCPP {version.value}: {', '.join(sorted(translations_for(version)))}",
        )
    return translation


def raw_request(version: OcppVersion, action: str, payload: Mapping[str, Any]) -> OcppCall:
    """An OCPP call given as action and payload, validated against the version's schema."""
    spec = actions(version).get(action)
    if spec is None or not spec.from_csms:
        sent = sorted(name for name, s in actions(version).items() if s.from_csms)
        raise DomainError(
            ErrorKind.INVALID,
            f"{action} is not an action the central system sends in OCPP {version.value}; "
            f"those are: {', '.join(sent)}",
        )
    try:
        request = decode_payload(msgspec.json.encode(payload), spec.request)
    except RpcError as error:
        raise DomainError(
            ErrorKind.INVALID,
            f"not a valid {action} request of OCPP {version.value}: {error.description}",
        ) from None
    return OcppCall(action, request)


def checked(version: OcppVersion, action: str, request: msgspec.Struct) -> OcppCall:
    """The call, once checked against its version's schema (lengths, enumerations)."""
    return raw_request(version, action, msgspec.to_builtins(request))


@overload
def at(value: str) -> datetime: ...
@overload
def at(value: None) -> None: ...
def at(value: str | None) -> datetime | None:
    """A time of a command's parameters (ISO 8601 with offset), in UTC."""
    return None if value is None else as_utc(datetime.fromisoformat(value))


async def _build_raw(ctx: HandlerContext, command: Command) -> OcppCall:
    return raw_request(ctx.version, command.params["action"], command.params["payload"])


RAW = Translation(_build_raw)


class VersionCatalog:
    """Checks, before a command is queued, that the charger's version can carry it.

    The command is built once as it would be sent (nothing is written): what the version
    cannot express is refused at once instead of failing when the charger comes back.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def check(
        self, conn: AsyncConnection, version: str, command: Command, now: datetime
    ) -> None:
        ocpp_version = OcppVersion(version)
        translation = translation_of(ocpp_version, command.name)
        context = HandlerContext(conn, command.charger_id, ocpp_version, now, self._settings)
        await translation.build(context, command)

    def names(self, version: str) -> frozenset[str]:
        try:
            ocpp_version = OcppVersion(version)
        except ValueError:
            return frozenset()
        return frozenset(translations_for(ocpp_version))


async def addressed_transaction(ctx: HandlerContext, command: Command) -> str:
    """The charger's name (OCPP transactionId) of the transaction a command addresses."""
    assert command.transaction_pk is not None
    transaction = await commands.addressed_transaction(
        ctx.conn, ctx.charger_id, command.transaction_pk
    )
    assert transaction.transaction_id is not None
    return transaction.transaction_id
