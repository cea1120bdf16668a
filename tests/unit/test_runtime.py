"""The server's garbage collection policy: survivors set aside, everything freed in time."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from chargegrid.config import Settings
from chargegrid.runtime import set_survivors_aside


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("thawed")
async def test_survivors_are_set_aside_and_their_cyclic_garbage_freed_by_the_full_pass() -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: only the collector frees it
    gone = weakref.ref(first)
    policy = asyncio.create_task(
        set_survivors_aside(Settings(gc_freeze_interval=0.05, gc_full_interval=0.6))
    )
    try:
        await asyncio.sleep(0.2)
        assert gc.get_freeze_count() > 0, "what survived is set aside"
        del first, second
        gc.collect()
        assert gone() is not None, "set aside, the cycle is not scanned by ordinary passes"
        for _ in range(40):
            await asyncio.sleep(0.05)
            if gone() is None:
                break
        assert gone() is None, "the periodic full pass frees it"
    finally:
        policy.cancel()
