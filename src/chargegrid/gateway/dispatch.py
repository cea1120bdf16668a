"""From an inbound CALL to its reply: commit first, answer second, exactly once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.config import COMMIT_GROUP_ENOUGH, Settings
from chargegrid.domain.clock import Clock
from chargegrid.domain.errors import DomainError
from chargegrid.domain.errors import ErrorKind as DomainErrorKind
from chargegrid.domain.model import Direction, MessageRecord, RegistrationStatus
from chargegrid.domain.services import chargers, messages, transactions
from chargegrid.gateway.connection import ChargerConnection, FollowUp, Reply
from chargegrid.gateway.handlers import (
    Handler,
    HandlerContext,
    RequestNames,
    handlers_for,
    id_tokens_read_by,
    transaction_starts_and_ends,
    transactions_read_by,
)
from chargegrid.metrics import Metrics
from chargegrid.ocpp.protocol import ErrorReply, IncomingCall, IncomingError, IncomingResult
from chargegrid.ocpp.rpc import ErrorKind, RpcError, encode_payload, encode_result, error_code
from chargegrid.ocpp.versions import OcppVersion
from chargegrid.storage.engine import Database
from chargegrid.storage.group_scope import GuardRefused, group_scope, write_kept
from chargegrid.storage.groups import CommitGroups, Settle
from chargegrid.values import immutable

logger = logging.getLogger(__name__)

# Answers that carry the current time are never replayed from the log: their side
# effects are idempotent, and a stale clock would mislead the charger.
FRESH_ANSWERS = frozenset({"BootNotification", "Heartbeat"})
MAX_LOGGED_FRAME = 65_536
MAX_GROUP = 64  # CALLs committed together at most

_DOMAIN_TO_RPC = {
    DomainErrorKind.NOT_FOUND: ErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    DomainErrorKind.INVALID: ErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
    DomainErrorKind.CONFLICT: ErrorKind.GENERIC_ERROR,
    DomainErrorKind.FORBIDDEN: ErrorKind.SECURITY_ERROR,
}


def rpc_error_of(error: Exception) -> RpcError:
    """The one mapping from any failure while handling a CALL to a CALLERROR."""
    if isinstance(error, RpcError):
        return error
    if isinstance(error, DomainError):
        return RpcError(_DOMAIN_TO_RPC[error.kind], error.message, {})
    return RpcError(ErrorKind.INTERNAL_ERROR, "internal error while processing the call", {})


@immutable
class _Call:
    """A CALL waiting for its commit group."""

    connection: ChargerConnection
    call: IncomingCall
    handler: Handler
    received_at: datetime
    started: float


@immutable
class _Answer:
    """What a CALL's group made of it, applied once the group committed."""

    frame: bytes
    follow_ups: tuple[FollowUp, ...]
    result: str
    accepted: bool  # the charger's registration is accepted (commands may flow)


# The outcome given for a CALL handed back to run alone: its own run answers it.
_HANDED_BACK = _Answer(b"", (), "handed back", accepted=False)


def _named(
    calls: Iterable[_Call], names_of: Callable[[OcppVersion], Mapping[str, RequestNames]]
) -> Iterator[tuple[_Call, str]]:
    """Each of ``calls`` whose request names something its handling reads (as the entry
    for its action in ``names_of(version)`` finds it), with what it names."""
    for item in calls:
        name_of = names_of(item.connection.version).get(item.call.action)
        name = None if name_of is None else name_of(item.call.request)
        if name is not None:
            yield item, name


def _transactions_read(calls: Iterable[_Call]) -> list[tuple[str, str]]:
    """The transactions (charger id, transaction id) that handling ``calls`` reads."""
    return [
        (item.connection.charger_id, name) for item, name in _named(calls, transactions_read_by)
    ]


def _id_tokens_read(calls: Iterable[_Call]) -> list[str]:
    """The id tokens that handling ``calls`` authorizes."""
    return [token for _, token in _named(calls, id_tokens_read_by)]


def _starts_or_ends(item: _Call) -> bool:
    """Whether handling ``item`` may start or end a transaction."""
    starts_or_ends = transaction_starts_and_ends(item.connection.version).get(item.call.action)
    return starts_or_ends is not None and starts_or_ends(item.call.request)


class Dispatcher:
    """Handles CALLs from chargers and records every message in the log."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        metrics: Metrics,
        on_accepted: Callable[[ChargerConnection], None] = lambda _: None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._metrics = metrics
        self._on_accepted = on_accepted
        # Writers in flight: a group per lane, the rest wait for the next group.
        self._groups: CommitGroups[_Call, _Answer] = CommitGroups(
            db,
            self._answer_group,
            lanes=settings.ocpp_write_lanes,
            max_group=MAX_GROUP,
            window=settings.ocpp_commit_window,
            enough=COMMIT_GROUP_ENOUGH,
            # A group reads its transactions ahead and writes readings behind: that
            # holds when each of its CALLs is from a different charger.
            apart=lambda item: item.connection.charger_id,
            on_commit=metrics.commit_group_size.observe,
        )
        # CALLs being answered, by charger and message id. A repeat that arrives meanwhile
        # (on the charger's next connection, the first having dropped unanswered) waits
        # for the first to be committed, and then finds its stored reply: looked up
        # before, it would have been handled a second time. The Event is made for the
        # first repeat only.
        self._answering: dict[tuple[str, str], asyncio.Event | None] = {}

    async def handle_inbound(
        self, connection: ChargerConnection, item: IncomingCall | ErrorReply, frame: str | bytes
    ) -> Reply:
        started = time.perf_counter()
        received_at = self._clock.now()
        if isinstance(item, ErrorReply):
            # The whole bad frame is kept (up to a bound): it is what the operator debugs.
            raw = frame.encode(errors="replace") if isinstance(frame, str) else bytes(frame)
            await self._record_error(
                connection,
                item.unique_id,
                item.action,
                raw[:MAX_LOGGED_FRAME],
                item.error,
                received_at,
                started,
            )
            return Reply(item.frame)
        key = (connection.charger_id, item.unique_id)
        while key in self._answering:
            answered = self._answering[key]
            if answered is None:
                answered = self._answering[key] = asyncio.Event()
            await answered.wait()
        self._answering[key] = None
        try:
            reply, result = await self._answer(connection, item, received_at, started)
        except Exception as failure:
            if not isinstance(failure, RpcError | DomainError):
                logger.exception("%s from charger %s failed", item.action, connection.charger_id)
            error = rpc_error_of(failure)
            await self._record_error(
                connection,
                item.unique_id,
                item.action,
                item.raw_payload,
                error,
                received_at,
                started,
            )
            return Reply(connection.protocol.error_frame(item.unique_id, error))
        finally:
            answered = self._answering.pop(key)
            if answered is not None:
                answered.set()
        self._observe(item.action, result, started)
        return reply

    async def _answer(
        self,
        connection: ChargerConnection,
        call: IncomingCall,
        received_at: datetime,
        started: float,
    ) -> tuple[Reply, str]:
        handler = handlers_for(connection.version).get(call.action)
        if handler is None:
            raise RpcError(
                ErrorKind.NOT_SUPPORTED, f"{call.action} is not supported by this system", {}
            )
        answer = await self._groups.submit(_Call(connection, call, handler, received_at, started))
        follow_ups = answer.follow_ups
        if answer.accepted and not connection.accepts_commands:
            # After this reply: commands queued for the charger may go out now.
            connection.accepts_commands = True
            follow_ups = (*follow_ups, self._accepted)
        return Reply(answer.frame, follow_ups), answer.result

    async def _answer_group(
        self, conn: AsyncConnection, calls: Sequence[_Call], settle: Settle[_Answer]
    ) -> list[_Answer]:
        """Answer the CALLs of a commit group in one transaction, and log them in one go.

        A CALL may repeat one answered before whose reply the charger did not get: it is
        answered with the stored reply, and not handled again. Repeats are rare, so they
        are looked for where the CALLs are logged (``messages.record_answered``); when one
        is found, nothing was written since the group's last commit, and its CALLs not
        answered yet are answered again, the repeats from their stored replies (looked up
        first, in one query).
        """
        settled: dict[int, _Answer] = {}
        handed_back: set[int] = set()

        async def settle_some(
            answers: Mapping[int, _Answer], *, alone: Collection[int] = ()
        ) -> None:
            await settle(answers, alone=alone)
            settled.update(answers)
            handed_back.update(alone)

        try:
            return await self._answer_calls(conn, calls, settle_some, look_up=False)
        except GuardRefused:
            await conn.rollback()
            await conn.begin()
        rest = [i for i in range(len(calls)) if i not in settled and i not in handed_back]

        async def settle_rest(
            answers: Mapping[int, _Answer], *, alone: Collection[int] = ()
        ) -> None:
            await settle_some(
                {rest[i]: answer for i, answer in answers.items()},
                alone=[rest[i] for i in alone],
            )

        answers = await self._answer_calls(
            conn, [calls[i] for i in rest], settle_rest, look_up=True
        )
        settled.update(zip(rest, answers, strict=True))
        return [settled.get(i, _HANDED_BACK) for i in range(len(calls))]

    async def _answer_calls(
        self,
        conn: AsyncConnection,
        calls: Sequence[_Call],
        settle: Settle[_Answer],
        *,
        look_up: bool,
    ) -> list[_Answer]:
        """Answer ``calls``: repeats from their stored replies, if ``look_up``, the others
        by their handlers.

        CALLs that start or end a transaction run many statements: the others (most
        CALLs: readings, heartbeats, statuses) are committed and answered first, and
        those then in a second transaction, so that the quick need not wait for them.
        Where writes run side by side, the second of those is handed back to run alone
        meanwhile, on a connection of its own, so that it need not wait for the first.
        """
        inbound = [
            messages.InboundCall(
                charger_id=item.connection.charger_id,
                unique_id=item.call.unique_id,
                action=item.call.action,
                payload=item.call.raw_payload.decode(),
                received_at=item.received_at,
            )
            for item in calls
        ]
        replies: list[str | None] = [None] * len(calls)
        if look_up:
            repeatable = [i for i, call in enumerate(inbound) if call.action not in FRESH_ANSWERS]
            stored = await messages.stored_replies(
                conn,
                [inbound[i] for i in repeatable],
                window_s=self._settings.ocpp_replay_window,
            )
            for i, reply in zip(repeatable, stored, strict=True):
                replies[i] = reply
        fresh = [i for i in range(len(calls)) if replies[i] is None]
        later = [i for i in fresh if _starts_or_ends(calls[i])]
        first = [i for i in range(len(calls)) if i not in later]
        # One at most: a lane then holds two connections at most (the default four lanes
        # eight of the ten for writes), and a large group, one that fell behind, does not
        # pay for a transaction per start or end.
        alone = later[1:2] if self._db.writes_concurrently else []
        each = [
            (item, call.payload, reply)
            for item, call, reply in zip(calls, inbound, replies, strict=True)
        ]
        answers: dict[int, _Answer] = {}
        here = [calls[i] for i in fresh if i not in alone]
        async with (
            group_scope(conn),
            transactions.read_ahead(conn, _transactions_read(here), _id_tokens_read(here)),
        ):
            for i in first:
                answers[i] = await self._answer_or_replay(conn, *each[i])
            if (first and later) or alone:
                await write_kept(conn)
                await settle(dict(answers), alone=alone)
            for i in later:
                if i not in alone:
                    answers[i] = await self._answer_or_replay(conn, *each[i])
        return [answers.get(i, _HANDED_BACK) for i in range(len(calls))]

    async def _answer_or_replay(
        self, conn: AsyncConnection, item: _Call, payload: str, reply: str | None
    ) -> _Answer:
        """A repeated CALL's stored ``reply``, or a fresh one's answer (logged)."""
        if reply is not None:
            frame = encode_result(item.call.unique_id, reply.encode())
            return _Answer(frame, (), "replayed", accepted=False)
        answer, record = await self._answer_one(conn, item, payload)
        if item.call.action in FRESH_ANSWERS:
            await messages.record(conn, record)
        else:
            await messages.record_answered(conn, record, window_s=self._settings.ocpp_replay_window)
        return answer

    async def _answer_one(
        self, conn: AsyncConnection, item: _Call, payload: str
    ) -> tuple[_Answer, MessageRecord]:
        connection, call, now = item.connection, item.call, item.received_at
        context = HandlerContext(
            conn,
            connection.charger_id,
            connection.version,
            now,
            self._settings,
            db=self._db,
            clock=self._clock,
        )
        response = encode_payload(await item.handler(context, call.request))
        accepted = not connection.accepts_commands and (
            await chargers.registration_status(conn, connection.charger_id)
            is RegistrationStatus.ACCEPTED
        )
        record = MessageRecord(
            charger_id=connection.charger_id,
            direction=Direction.INBOUND,
            unique_id=call.unique_id,
            action=call.action,
            payload=payload,
            received_at=now,
            response=response.decode(),
            answered_at=self._clock.now(),
            latency_ms=(time.perf_counter() - item.started) * 1000,
        )
        frame = encode_result(call.unique_id, response)
        return _Answer(frame, tuple(context.follow_ups), "ok", accepted=accepted), record

    async def _accepted(self, connection: ChargerConnection) -> None:
        self._on_accepted(connection)

    async def _record_error(
        self,
        connection: ChargerConnection,
        unique_id: str,
        action: str | None,
        payload: bytes,
        error: RpcError,
        received_at: datetime,
        started: float,
    ) -> None:
        code = error_code(connection.version, error.kind)
        self._observe(action or "?", code, started)
        try:
            async with self._db.begin() as conn:
                await messages.record(
                    conn,
                    MessageRecord(
                        charger_id=connection.charger_id,
                        direction=Direction.INBOUND,
                        unique_id=unique_id[:36],
                        action=action,
                        payload=payload.decode(errors="replace"),
                        received_at=received_at,
                        error_code=code,
                        error_description=error.description,
                        answered_at=self._clock.now(),
                        latency_ms=(time.perf_counter() - started) * 1000,
                    ),
                )
        except Exception:
            logger.exception("could not log a CALLERROR for charger %s", connection.charger_id)

    async def record_outbound(
        self,
        connection: ChargerConnection,
        action: str,
        unique_id: str,
        payload: bytes,
        answer: IncomingResult | IncomingError | None,
        latency_s: float,
    ) -> None:
        now = self._clock.now()
        sent_at = now - timedelta(seconds=latency_s)
        record = MessageRecord(
            charger_id=connection.charger_id,
            direction=Direction.OUTBOUND,
            unique_id=unique_id,
            action=action,
            payload=payload.decode(),
            received_at=sent_at,
            response=answer.payload.decode() if isinstance(answer, IncomingResult) else None,
            error_code=answer.code if isinstance(answer, IncomingError) else None,
            error_description=(
                answer.description if isinstance(answer, IncomingError) else "no answer"
            )
            if not isinstance(answer, IncomingResult)
            else None,
            answered_at=now if answer is not None else None,
            latency_ms=latency_s * 1000 if answer is not None else None,
        )
        async with self._db.begin() as conn:
            await messages.record(conn, record)

    def _observe(self, action: str, result: str, started: float) -> None:
        self._metrics.observe_call(action, result, time.perf_counter() - started)
