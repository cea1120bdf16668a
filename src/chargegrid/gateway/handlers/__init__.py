"""Per-version handlers: translate each OCPP message into domain service calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.config import Settings
from chargegrid.domain.clock import Clock
from chargegrid.gateway.connection import FollowUp
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.storage.engine import Database
from chargegrid.values import immutable


@immutable
class HandlerContext:
    """What a handler gets besides the request: the open transaction and who is asking.

    ``db`` and ``clock`` are for follow-ups, which run after the handler's transaction has
    ended (None where no follow-up needs them).
    """

    conn: AsyncConnection
    charger_id: str
    version: OcppVersion
    now: datetime
    settings: Settings
    follow_ups: list[FollowUp] = field(default_factory=list)
    db: Database | None = None
    clock: Clock | None = None

    def after_reply(self, follow_up: FollowUp) -> None:
        """Run ``follow_up`` once the reply is committed and sent (e.g. a CALL of ours)."""
        self.follow_ups.append(follow_up)


Handler = Callable[[HandlerContext, Any], Awaitable[Any]]


RequestNames = Callable[[Any], str | None]  # what a request names, if anything
TransactionOf = RequestNames
IdTokenOf = RequestNames
StartsOrEnds = Callable[[Any], bool]


def transactions_read_by(version: OcppVersion) -> Mapping[str, TransactionOf]:
    """For the actions of ``version`` whose handling reads a transaction the request
    names: which one (the transaction id, or None)."""
    return _of(version).reads_transaction


def id_tokens_read_by(version: OcppVersion) -> Mapping[str, IdTokenOf]:
    """For the actions of ``version`` whose handling authorizes an id token the request
    names: which one (or None)."""
    return _of(version).reads_id_token


def transaction_starts_and_ends(version: OcppVersion) -> Mapping[str, StartsOrEnds]:
    """For the actions of ``version`` that may start or end a transaction: whether a
    request does. Such a request's handling runs many statements (the transaction's
    tariff, its CDR)."""
    return _of(version).starts_or_ends


def handlers_for(version: OcppVersion) -> Mapping[str, Handler]:
    """The handler of every charger-initiated action of ``version``."""
    return _of(version).handlers


@immutable
class _VersionHandlers:
    handlers: Mapping[str, Handler]
    reads_transaction: Mapping[str, TransactionOf]
    reads_id_token: Mapping[str, IdTokenOf]
    starts_or_ends: Mapping[str, StartsOrEnds]


@cache
def _of(version: OcppVersion) -> _VersionHandlers:
    """The handlers of ``version`` (their modules import this one: imported on first use)."""
    if version is OcppVersion.V16:
        from chargegrid.gateway.handlers import v16

        return _VersionHandlers(
            v16.HANDLERS, v16.READS_TRANSACTION, v16.READS_ID_TOKEN, v16.STARTS_OR_ENDS
        )
    from chargegrid.gateway.handlers import v201

    return _VersionHandlers(
        v201.HANDLERS, v201.READS_TRANSACTION, v201.READS_ID_TOKEN, v201.STARTS_OR_ENDS
    )
