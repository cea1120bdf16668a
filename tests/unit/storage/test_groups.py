"""Group commit: waiting items share a transaction; one item's failure stays its own."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvloop
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargegrid.storage.direct import savepoint
from chargegrid.storage.engine import Database
from chargegrid.storage.groups import CommitGroups, GroupWork, Settle
from chargegrid.storage.tables import locations
from tests import dbutil

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


class Refused(Exception):
    pass


class Recorder:
    """Inserts one location per item; refuses items named "bad" after inserting them."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []

    async def work(
        self, conn: AsyncConnection, items: Sequence[str], settle: Settle[str] | None = None
    ) -> list[str]:
        self.groups.append(list(items))
        done = []
        for item in items:
            await conn.execute(insert(locations).values(id=item, name=item, created_at=NOW))
            if item.startswith("bad"):
                raise Refused(item)
            done.append(f"{item}:ok")
        return done


async def _stored(db: Database) -> set[str]:
    async with db.connect() as conn:
        return set((await conn.execute(select(locations.c.id))).scalars())


async def test_items_waiting_together_commit_in_one_group(db: Database) -> None:
    recorder = Recorder()
    sizes: list[int] = []
    groups: CommitGroups[str, str] = CommitGroups(
        db, recorder.work, lanes=1, max_group=64, on_commit=sizes.append
    )
    names = [f"L{i}" for i in range(10)]
    outcomes = await asyncio.gather(*(groups.submit(name) for name in names))
    assert outcomes == [f"{name}:ok" for name in names]
    assert recorder.groups == [names]  # all were waiting when the lane started
    assert sizes == [10]
    assert await _stored(db) == set(names)


async def test_items_arriving_while_the_lane_commits_form_the_next_group(db: Database) -> None:
    recorder = Recorder()
    busy, release = asyncio.Event(), asyncio.Event()

    async def slow_work(
        conn: AsyncConnection, items: Sequence[str], settle: Settle[str]
    ) -> list[str]:
        if items == ["first"]:
            busy.set()
            await release.wait()
        return await recorder.work(conn, items)

    groups: CommitGroups[str, str] = CommitGroups(db, slow_work, lanes=1, max_group=64)
    first = asyncio.create_task(groups.submit("first"))
    await busy.wait()
    later = [asyncio.create_task(groups.submit(f"L{i}")) for i in range(5)]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in later)  # none is answered before its commit
    release.set()
    assert await first == "first:ok"
    assert [await task for task in later] == [f"L{i}:ok" for i in range(5)]
    assert recorder.groups == [["first"], [f"L{i}" for i in range(5)]]


async def test_an_item_submitted_as_soon_as_the_last_lane_ends_is_committed(
    db: Database,
) -> None:
    recorder = Recorder()
    groups: CommitGroups[str, str] = CommitGroups(db, recorder.work, lanes=1, max_group=64)
    assert await groups.submit("first") == "first:ok"
    # Submitted in the same step, before the finished lane's task callbacks have run: the
    # lane is free all the same.
    async with asyncio.timeout(10):
        assert await groups.submit("next") == "next:ok"
    assert recorder.groups == [["first"], ["next"]]


async def test_groups_are_bounded_and_spread_over_lanes(db: Database) -> None:
    recorder = Recorder()
    groups: CommitGroups[str, str] = CommitGroups(db, recorder.work, lanes=2, max_group=3)
    names = [f"L{i}" for i in range(11)]
    outcomes = await asyncio.gather(*(groups.submit(name) for name in names))
    assert outcomes == [f"{name}:ok" for name in names]
    assert max(len(group) for group in recorder.groups) == 3
    assert sorted(name for group in recorder.groups for name in group) == sorted(names)
    assert await _stored(db) == set(names)


async def test_a_failing_item_fails_alone_and_the_rest_commit(db: Database) -> None:
    recorder = Recorder()
    groups: CommitGroups[str, str] = CommitGroups(db, recorder.work, lanes=1, max_group=64)
    names = ["L0", "L1", "bad2", "L3"]
    outcomes = await asyncio.gather(
        *(groups.submit(name) for name in names), return_exceptions=True
    )
    assert [outcomes[i] for i in (0, 1, 3)] == ["L0:ok", "L1:ok", "L3:ok"]
    assert isinstance(outcomes[2], Refused)
    # The group was rolled back, then each of its items ran alone.
    assert recorder.groups == [names, ["L0"], ["L1"], ["bad2"], ["L3"]]
    assert await _stored(db) == {"L0", "L1", "L3"}  # nothing of the refused item


async def test_a_caller_that_gives_up_does_not_undo_its_item(db: Database) -> None:
    recorder = Recorder()
    sizes: list[int] = []
    both_committed = asyncio.Event()

    def committed(size: int) -> None:
        sizes.append(size)
        if sum(sizes) == 2:
            both_committed.set()

    groups: CommitGroups[str, str] = CommitGroups(
        db, recorder.work, lanes=1, max_group=64, on_commit=committed
    )
    first = asyncio.create_task(groups.submit("L0"))
    impatient = asyncio.create_task(groups.submit("L1"))
    await asyncio.sleep(0)
    impatient.cancel()
    assert await first == "L0:ok"
    with pytest.raises(asyncio.CancelledError):
        await impatient
    await asyncio.wait_for(both_committed.wait(), 10)  # committed all the same
    assert await _stored(db) == {"L0", "L1"}


def test_a_group_needs_a_lane_room_and_a_window(db: Database) -> None:
    with pytest.raises(ValueError, match="needs a lane"):
        CommitGroups(db, Recorder().work, lanes=0, max_group=1)
    with pytest.raises(ValueError, match="needs a lane"):
        CommitGroups(db, Recorder().work, lanes=1, max_group=0)
    with pytest.raises(ValueError, match="needs a lane"):
        CommitGroups(db, Recorder().work, lanes=1, max_group=1, window=-0.1)


async def test_items_arriving_within_the_window_of_the_first_share_its_group(
    db: Database,
) -> None:
    recorder = Recorder()
    sizes: list[int] = []
    groups: CommitGroups[str, str] = CommitGroups(
        db, recorder.work, lanes=4, max_group=64, window=0.3, on_commit=sizes.append
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    first = asyncio.create_task(groups.submit("first"))
    await asyncio.sleep(0.1)
    assert not first.done()
    second = asyncio.create_task(groups.submit("second"))
    assert await first == "first:ok"
    answered = loop.time() - started
    assert await second == "second:ok"
    assert 0.3 <= answered < 2
    assert recorder.groups == [["first", "second"]]
    assert sizes == [2]


async def test_a_full_group_does_not_wait_for_its_window(db: Database) -> None:
    recorder = Recorder()
    groups: CommitGroups[str, str] = CommitGroups(
        db, recorder.work, lanes=1, max_group=3, window=1.5
    )
    names = ["L0", "L1", "L2", "L3"]
    tasks = [asyncio.create_task(groups.submit(name)) for name in names]
    done, _ = await asyncio.wait(tasks[:3], timeout=1)
    assert len(done) == 3
    assert recorder.groups == [names[:3]]
    assert not tasks[3].done()  # alone, it waits for its window
    assert await tasks[3] == "L3:ok"
    assert recorder.groups == [names[:3], ["L3"]]


async def test_a_group_starts_before_its_window_closes_once_enough_items_wait(
    db: Database,
) -> None:
    recorder = Recorder()
    groups: CommitGroups[str, str] = CommitGroups(
        db, recorder.work, lanes=1, max_group=8, window=1.5, enough=3
    )
    first = [asyncio.create_task(groups.submit(f"L{i}")) for i in range(2)]
    await asyncio.sleep(0.1)
    assert not any(task.done() for task in first)  # two: the window is still open
    more = [asyncio.create_task(groups.submit(f"L{i}")) for i in range(2, 5)]
    done, _ = await asyncio.wait([*first, *more], timeout=1)
    assert len(done) == 5  # the third started the group, which took all that waited
    assert recorder.groups == [[f"L{i}" for i in range(5)]]


async def test_items_kept_apart_wait_for_a_later_group_in_order(db: Database) -> None:
    recorder = Recorder()
    groups: CommitGroups[str, str] = CommitGroups(
        db, recorder.work, lanes=1, max_group=64, apart=lambda name: name.split("-")[0]
    )
    names = ["A-1", "B-1", "A-2", "C-1", "A-3", "B-2"]
    outcomes = await asyncio.gather(*(groups.submit(name) for name in names))
    assert outcomes == [f"{name}:ok" for name in names]
    assert recorder.groups == [["A-1", "B-1", "C-1"], ["A-2", "B-2"], ["A-3"]]
    assert await _stored(db) == set(names)


def test_a_lane_sleeps_through_a_window_on_uvloop(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvloop's timers count whole milliseconds: a lane must not wake again and again in
    the last millisecond of a window."""
    path = tmp_path / "chargegrid.db"
    shutil.copyfile(sqlite_template, path)
    sleeps: list[float] = []
    sleep = asyncio.sleep

    async def counted_sleep(delay: float) -> None:
        sleeps.append(delay)
        await sleep(delay)

    async def scenario() -> list[str]:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            groups: CommitGroups[str, str] = CommitGroups(
                db, Recorder().work, lanes=1, max_group=64, window=0.0031
            )
            return [await groups.submit(f"L{i}") for i in range(5)]
        finally:
            await db.dispose()

    monkeypatch.setattr(asyncio, "sleep", counted_sleep)
    assert uvloop.run(scenario()) == [f"L{i}:ok" for i in range(5)]
    assert len(sleeps) <= 5 * 2  # a sleep for the window, at most one more per item


async def test_items_settled_early_are_committed_and_answered_before_the_rest(
    db: Database,
) -> None:
    settled, release = asyncio.Event(), asyncio.Event()

    async def work(conn: AsyncConnection, items: Sequence[str], settle: Settle[str]) -> list[str]:
        await conn.execute(insert(locations).values(id=items[0], name="", created_at=NOW))
        await settle({0: f"{items[0]}:early"})
        settled.set()
        await release.wait()
        await conn.execute(insert(locations).values(id=items[1], name="", created_at=NOW))
        return [f"{items[0]}:late", f"{items[1]}:ok"]

    sizes: list[int] = []
    groups: CommitGroups[str, str] = CommitGroups(
        db, work, lanes=1, max_group=64, on_commit=sizes.append
    )
    quick = asyncio.create_task(groups.submit("quick"))
    slow = asyncio.create_task(groups.submit("slow"))
    await asyncio.wait_for(settled.wait(), 10)
    assert await asyncio.wait_for(quick, 10) == "quick:early"  # while the group goes on
    assert not slow.done()
    assert await _stored(db) == {"quick"}  # committed: another connection sees it
    release.set()
    assert await slow == "slow:ok"
    assert await _stored(db) == {"quick", "slow"}
    assert sizes == [2]


async def test_a_failure_after_settling_keeps_the_settled_and_runs_the_rest_alone(
    db: Database,
) -> None:
    seen: list[list[str]] = []

    async def work(conn: AsyncConnection, items: Sequence[str], settle: Settle[str]) -> list[str]:
        """Inserts each item, settling the first before the others; refuses "bad" ones."""
        seen.append(list(items))
        outcomes = []
        for item in items:
            await conn.execute(insert(locations).values(id=item, name=item, created_at=NOW))
            if item.startswith("bad"):
                raise Refused(item)
            outcomes.append(f"{item}:ok")
            if len(outcomes) == 1 < len(items):
                await settle({0: outcomes[0]})
        return outcomes

    sizes: list[int] = []
    groups: CommitGroups[str, str] = CommitGroups(
        db, work, lanes=1, max_group=64, on_commit=sizes.append
    )
    names = ["L0", "bad1", "L2"]
    outcomes = await asyncio.gather(
        *(groups.submit(name) for name in names), return_exceptions=True
    )
    assert [outcomes[0], outcomes[2]] == ["L0:ok", "L2:ok"]
    assert isinstance(outcomes[1], Refused)
    # The settled item stayed committed; the others ran again, each alone.
    assert seen == [names, ["bad1"], ["L2"]]
    assert await _stored(db) == {"L0", "L2"}
    assert sizes == [1, 1]


async def test_a_block_failing_without_its_savepoint_runs_the_group_again_item_by_item(
    db: Database,
) -> None:
    seen: list[list[str]] = []

    async def work(conn: AsyncConnection, items: Sequence[str], settle: Settle[str]) -> list[str]:
        """Inserts each item; a "bad" one inserts a second row in a savepoint and fails
        there, which the work shrugs off."""
        seen.append(list(items))
        for item in items:
            await conn.execute(insert(locations).values(id=item, name=item, created_at=NOW))
            if item.startswith("bad"):
                with contextlib.suppress(Refused):
                    async with savepoint(conn):
                        extra = {"id": f"{item}-extra", "name": "", "created_at": NOW}
                        await conn.execute(insert(locations).values(extra))
                        raise Refused(item)
        return [f"{item}:ok" for item in items]

    groups: CommitGroups[str, str] = CommitGroups(db, work, lanes=1, max_group=64)
    names = ["L0", "bad1"]
    assert await asyncio.gather(*(groups.submit(name) for name in names)) == ["L0:ok", "bad1:ok"]
    # The block's insert is undone either way: by its savepoint, set when each item ran
    # alone (PostgreSQL, where the group set none), or at once (SQLite).
    assert await _stored(db) == {"L0", "bad1"}
    assert seen == ([names, ["L0"], ["bad1"]] if db.dialect_name == "postgresql" else [names])


def _handing_back(
    seen: list[list[str]], alone_ran: asyncio.Event | None = None
) -> GroupWork[str, str]:
    """Work that settles a group's first item, hands back its third and later, and goes on
    with its second (once two have run alone, if ``alone_ran`` is given); each item
    inserts itself, and one named "bad" fails."""
    ran_alone: list[str] = []

    async def work(conn: AsyncConnection, items: Sequence[str], settle: Settle[str]) -> list[str]:
        seen.append(list(items))
        if len(items) == 1:
            await conn.execute(insert(locations).values(id=items[0], name="", created_at=NOW))
            if items[0].startswith("bad"):
                raise Refused(items[0])
            ran_alone.append(items[0])
            if alone_ran is not None and len(ran_alone) == 2:
                alone_ran.set()
            return [f"{items[0]}:alone"]
        await conn.execute(insert(locations).values(id=items[0], name="", created_at=NOW))
        await settle({0: f"{items[0]}:early"}, alone=range(2, len(items)))
        if alone_ran is not None:
            await asyncio.wait_for(alone_ran.wait(), 10)
        await conn.execute(insert(locations).values(id=items[1], name="", created_at=NOW))
        if items[1].startswith("bad"):
            raise Refused(items[1])
        return ["unused", f"{items[1]}:ok", *["not theirs"] * (len(items) - 2)]

    return work


async def test_items_handed_back_run_alone_and_answer_for_themselves(db: Database) -> None:
    seen: list[list[str]] = []
    sizes: list[int] = []
    groups: CommitGroups[str, str] = CommitGroups(
        db, _handing_back(seen), lanes=1, max_group=64, on_commit=sizes.append
    )
    names = ["L0", "S1", "S2", "bad3"]
    outcomes = await asyncio.gather(
        *(groups.submit(name) for name in names), return_exceptions=True
    )
    assert outcomes[:3] == ["L0:early", "S1:ok", "S2:alone"]
    assert isinstance(outcomes[3], Refused)  # its own failure, reaching its caller only
    assert seen[0] == names
    assert sorted(seen[1:]) == [["S2"], ["bad3"]]  # each once, alone
    assert await _stored(db) == {"L0", "S1", "S2"}
    assert sorted(sizes) == [1, 2]  # the group's two, and the one that ran alone


async def test_items_handed_back_stay_out_of_a_failing_group(db: Database) -> None:
    seen: list[list[str]] = []
    groups: CommitGroups[str, str] = CommitGroups(db, _handing_back(seen), lanes=1, max_group=64)
    names = ["L0", "bad1", "S2"]
    outcomes = await asyncio.gather(
        *(groups.submit(name) for name in names), return_exceptions=True
    )
    assert [outcomes[0], outcomes[2]] == ["L0:early", "S2:alone"]
    assert isinstance(outcomes[1], Refused)
    # The group failed after handing S2 back: only bad1 ran again, alone.
    assert sorted(seen[1:]) == [["S2"], ["bad1"]]
    assert await _stored(db) == {"L0", "S2"}


async def test_an_item_handed_back_runs_again_with_the_savepoint_it_went_without(
    db: Database,
) -> None:
    """An item handed back runs optimistically too: a block of it that fails without its
    savepoint runs it again, alone, with one (PostgreSQL; SQLite sets them anyway)."""
    seen: list[list[str]] = []

    async def work(conn: AsyncConnection, items: Sequence[str], settle: Settle[str]) -> list[str]:
        seen.append(list(items))
        await conn.execute(insert(locations).values(id=items[0], name="", created_at=NOW))
        if len(items) > 1:
            await settle({0: f"{items[0]}:early"}, alone=[1])
            return ["unused", "not theirs"]
        with contextlib.suppress(Refused):
            async with savepoint(conn):
                extra = {"id": f"{items[0]}-extra", "name": "", "created_at": NOW}
                await conn.execute(insert(locations).values(extra))
                raise Refused(items[0])
        return [f"{items[0]}:alone"]

    groups: CommitGroups[str, str] = CommitGroups(db, work, lanes=1, max_group=64)
    outcomes = await asyncio.gather(groups.submit("L0"), groups.submit("S1"))
    assert list(outcomes) == ["L0:early", "S1:alone"]
    assert await _stored(db) == {"L0", "S1"}
    again = [["S1"]] if db.dialect_name == "postgresql" else []
    assert seen == [["L0", "S1"], ["S1"], *again]


@pytest.mark.postgresql
async def test_items_handed_back_run_side_by_side_with_the_group(postgresql_url: str) -> None:
    """The group goes on only once both items it handed back have run: they run meanwhile,
    each on a connection of its own."""
    await dbutil.reset_database(postgresql_url)
    db = Database(postgresql_url)
    try:
        seen: list[list[str]] = []
        groups: CommitGroups[str, str] = CommitGroups(
            db, _handing_back(seen, asyncio.Event()), lanes=1, max_group=64
        )
        names = ["L0", "S1", "S2", "S3"]
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(groups.submit(name) for name in names)), 20
        )
        assert outcomes == ["L0:early", "S1:ok", "S2:alone", "S3:alone"]
        assert await _stored(db) == set(names)
    finally:
        await db.dispose()
