"""Reconnection back-off with the semantics of OCPP 2.0.1's RetryBackOff variables.

The first attempt after a connection is lost waits RetryBackOffWaitMinimum plus a random
part of up to RetryBackOffRandomRange seconds; each failed attempt doubles the waiting
minimum, RetryBackOffRepeatTimes times at most, after which the wait stays there. The
random part spreads a fleet's reconnections after an outage of the CSMS.
"""

from __future__ import annotations

import random

from chargegrid.values import immutable


@immutable
class BackOff:
    wait_minimum: float = 3.0
    random_range: float = 10.0
    repeat_times: int = 5

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The shortest and longest wait before reconnection attempt ``attempt`` (0: first)."""
        base = self.wait_minimum * 2 ** min(max(attempt, 0), self.repeat_times)
        return base, base + self.random_range

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The wait before reconnection attempt ``attempt``, jittered."""
        low, high = self.bounds(attempt)
        return low + rng.random() * (high - low)
