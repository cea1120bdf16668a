"""Group commit: units of work from many callers share write transactions.

Chargers send their messages independently, and each message's reply waits for its
commit. Committing each one on its own costs a BEGIN, a COMMIT and a log flush per
message; under load most of that is overhead. A ``CommitGroups`` runs the work waiting
at any moment as one group, in one transaction, on one of a few lanes: under light load
every item still commits alone, under heavy load the waiting items commit together and
each caller is answered after that commit. A short window, during which the first item
waiting lets others join it, makes groups of several items at moderate load too, where
the cost of a group (its round trips) would otherwise be paid by one or two items.

A group's work may settle some of its items before the rest (``settle``): what it did so
far commits, those items' callers are answered, and the rest goes on in a new
transaction on the same connection. Quick items then need not wait for slow ones. It may
also hand slow items back to run ``alone``, each in a transaction of its own on another
connection, concurrently with the rest of the group: two slow items then need not wait
for each other either.

A group whose work fails is rolled back (the part not settled), and each of its items not
settled is then run again alone, so one item's failure reaches its own caller only. The
work must therefore have no effect outside the transaction (the outcome it returns is
applied by the caller, after the commit). A group's first run is ``optimistic``: it sets
no savepoints, and a block that would have needed one fails it; its items then run
again, alone and with savepoints (an item that ran alone already, only if that was
why it failed).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping, Sequence
from contextlib import nullcontext
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage import direct
from chargegrid.storage.engine import Database

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")
Answer = TypeVar("Answer", contravariant=True)

# uvloop's timers count whole milliseconds, and one set for less fires at once: a window
# with less than that left of it is taken as closed (waiting for it would spin).
TIMER_RESOLUTION = 0.001

# A submitted item, its caller's future, and when its window closes (loop time).
_Waiting = tuple[Item, asyncio.Future[Outcome], float]


class Settle(Protocol[Answer]):
    """Commits the group's work so far and answers the items given (by their index); the
    items ``alone`` leave the group, each to run in a transaction of its own."""

    async def __call__(
        self, outcomes: Mapping[int, Answer], /, *, alone: Collection[int] = ()
    ) -> None: ...


GroupWork = Callable[
    [AsyncConnection, Sequence[Item], Settle[Outcome]], Awaitable[Sequence[Outcome]]
]


class CommitGroups(Generic[Item, Outcome]):
    """Runs ``work`` on groups of submitted items, one write transaction per group.

    ``work`` gets the open transaction, the items of a group (in the order they were
    submitted) and a ``settle`` that commits and answers some of them early, and may
    hand others back to run alone; it returns one outcome per item (those of settled and
    handed back items are not used). At most ``lanes`` groups are in flight (with the
    items they handed back); a group takes at most ``max_group`` items, and starts once
    its first item has waited ``window`` seconds or ``enough`` items wait (by default
    ``max_group``): a long window then makes large groups at moderate load without
    delaying them at high load. Items with the same ``apart`` key never share a group:
    of two, the later waits for a later group. ``on_commit`` learns each committed
    group's size.
    """

    def __init__(
        self,
        db: Database,
        work: GroupWork[Item, Outcome],
        *,
        lanes: int,
        max_group: int,
        window: float = 0.0,
        enough: int | None = None,
        apart: Callable[[Item], Hashable] | None = None,
        on_commit: Callable[[int], None] = lambda size: None,
    ) -> None:
        if lanes < 1 or max_group < 1 or window < 0:
            raise ValueError("a commit group needs a lane, an item and a window of 0 s or more")
        self._db = db
        self._work = work
        self._lanes = lanes
        self._max_group = max_group
        self._window = window
        self._enough = max_group if enough is None else min(max(enough, 1), max_group)
        self._sleeping: list[asyncio.Future[None]] = []  # lanes waiting out a window
        self._waiting: deque[_Waiting[Item, Outcome]] = deque()
        self._busy_lanes = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._apart = apart
        self._on_commit = on_commit
        # Asked once: on Python 3.11 asking for the running loop is a system call.
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, item: Item) -> Outcome:
        """Run ``item`` in the next group; returns its outcome once the group committed."""
        loop = self._loop or self._running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._waiting.append((item, future, loop.time() + self._window))
        if self._sleeping and len(self._waiting) >= self._enough:
            for sleeping in self._sleeping:
                _wake(sleeping)
            self._sleeping.clear()
        if self._busy_lanes < self._lanes:
            self._busy_lanes += 1
            task = loop.create_task(self._lane())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        self._loop = asyncio.get_running_loop()
        return self._loop

    async def _lane(self) -> None:
        group: list[_Waiting[Item, Outcome]] = []
        loop = self._loop or self._running_loop()
        try:
            while self._waiting:
                if len(self._waiting) < self._enough:
                    wait = self._waiting[0][2] - loop.time()
                    if wait > TIMER_RESOLUTION:  # the first item's window is still open
                        await self._sleep(loop, wait)
                        continue
                group = self._take()
                await self._commit(group, optimistic=True)
                group = []
        finally:
            # Free at once, not when the task's callbacks run: an item submitted in
            # between must find the lane free or a lane that will still see it.
            self._busy_lanes -= 1
            for _, future, _ in group:  # the lane itself was cancelled
                if not future.done():
                    future.cancel()

    async def _sleep(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        """Wait ``seconds``, or until ``enough`` items wait."""
        woken: asyncio.Future[None] = loop.create_future()
        self._sleeping.append(woken)
        timer = loop.call_later(seconds, _wake, woken)
        try:
            await woken
        finally:
            timer.cancel()
            if woken in self._sleeping:
                self._sleeping.remove(woken)

    def _take(self) -> list[_Waiting[Item, Outcome]]:
        """The next group: the waiting items in order, up to ``max_group``, but none whose
        ``apart`` key is in the group already (those stay waiting, in order)."""
        if self._apart is None:
            size = min(len(self._waiting), self._max_group)
            return [self._waiting.popleft() for _ in range(size)]
        group: list[_Waiting[Item, Outcome]] = []
        keys: set[Hashable] = set()
        later: list[_Waiting[Item, Outcome]] = []
        while self._waiting and len(group) < self._max_group:
            waiting = self._waiting.popleft()
            key = self._apart(waiting[0])
            if key in keys:
                later.append(waiting)
            else:
                keys.add(key)
                group.append(waiting)
        self._waiting.extendleft(reversed(later))
        return group

    async def _commit(self, group: Sequence[_Waiting[Item, Outcome]], *, optimistic: bool) -> None:
        handed_back: dict[int, asyncio.Task[None]] = {}
        try:
            await self._run(group, handed_back, optimistic=optimistic)
        finally:
            # The lane waits for them: their connections count as its own.
            await asyncio.gather(*handed_back.values())

    async def _run(
        self,
        group: Sequence[_Waiting[Item, Outcome]],
        handed_back: dict[int, asyncio.Task[None]],
        *,
        optimistic: bool,
    ) -> None:
        """Run and commit ``group``; each item its work hands back runs alone, in a task
        of ``handed_back`` (by its index). An ``optimistic`` run sets no savepoints (see
        the module docstring)."""
        settled: set[int] = set()
        spoiled = False  # an optimistic run failed for want of a savepoint
        try:
            async with self._db.writer() as conn:

                async def settle(
                    outcomes: Mapping[int, Outcome], *, alone: Collection[int] = ()
                ) -> None:
                    direct.check_unspoiled(conn)
                    await conn.commit()
                    settled.update(outcomes)
                    self._answer([(group[i], outcome) for i, outcome in outcomes.items()])
                    for i in alone:
                        settled.add(i)
                        handed_back[i] = asyncio.create_task(
                            self._commit([group[i]], optimistic=True)
                        )
                    await conn.begin()

                await conn.begin()
                try:
                    with direct.optimistic(conn) if optimistic else nullcontext():
                        try:
                            items = [item for item, _, _ in group]
                            outcomes = await self._work(conn, items, settle)
                            direct.check_unspoiled(conn)
                        except BaseException:
                            spoiled = direct.spoiled(conn)
                            raise
                    await conn.commit()
                except BaseException:
                    await conn.rollback()
                    raise
        except Exception as error:
            if len(settled) > len(handed_back):
                self._on_commit(len(settled) - len(handed_back))
            unsettled = [one for i, one in enumerate(group) if i not in settled]
            # Alone, what failed without a savepoint it needed may do with one.
            if optimistic and (len(group) > 1 or spoiled):
                for one in unsettled:
                    await self._commit([one], optimistic=False)
            elif unsettled and not unsettled[0][1].done():
                unsettled[0][1].set_exception(error)
            return
        self._on_commit(len(group) - len(handed_back))
        self._answer(
            [
                (one, outcome)
                for i, (one, outcome) in enumerate(zip(group, outcomes, strict=True))
                if i not in handed_back  # answered by its own run
            ]
        )

    @staticmethod
    def _answer(answers: Sequence[tuple[_Waiting[Item, Outcome], Outcome]]) -> None:
        for (_, future, _), outcome in answers:
            if not future.done():
                future.set_result(outcome)


def _wake(sleeping: asyncio.Future[None]) -> None:
    if not sleeping.done():
        sleeping.set_result(None)
