"""Reconnection back-off: RetryBackOff semantics (minimum, random range, doublings)."""

from __future__ import annotations

import random

from chargegrid.simulator.backoff import BackOff


def test_the_wait_doubles_up_to_the_repeat_limit() -> None:
    backoff = BackOff(wait_minimum=3.0, random_range=10.0, repeat_times=5)
    assert [backoff.bounds(n) for n in range(8)] == [
        (3.0, 13.0),
        (6.0, 16.0),
        (12.0, 22.0),
        (24.0, 34.0),
        (48.0, 58.0),
        (96.0, 106.0),
        (96.0, 106.0),
        (96.0, 106.0),
    ]


def test_every_delay_is_within_its_bounds_and_jittered() -> None:
    backoff = BackOff(wait_minimum=0.5, random_range=2.0, repeat_times=3)
    rng = random.Random(3)
    for attempt in range(6):
        low, high = backoff.bounds(attempt)
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(low <= d <= high for d in delays)
        assert max(delays) - min(delays) > 1.5  # a fleet does not come back in lockstep


def test_no_random_range_means_a_fixed_schedule() -> None:
    backoff = BackOff(wait_minimum=1.0, random_range=0.0, repeat_times=2)
    rng = random.Random(1)
    assert [backoff.delay(n, rng) for n in range(4)] == [1.0, 2.0, 4.0, 4.0]
