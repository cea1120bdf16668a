"""Waiting in a test for what another task, thread or process brings about."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(
    condition: Callable[[], object],
    what: str = "the condition",
    *,
    within: float = 5.0,
    every: float = 0.01,
) -> None:
    """Return once ``condition()`` is true, asked every ``every`` seconds; fail if it is
    not within ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {within} s")
        await asyncio.sleep(every)
