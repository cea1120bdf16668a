"""Failed sign-ins counted per email and remote address, in a sliding window."""

from __future__ import annotations

import time
from collections import deque


class FailedSignIns:
    """Refuses further attempts for a key once it has failed ``limit`` times in the window."""

    def __init__(self, limit: int, window_s: float, max_keys: int = 100_000) -> None:
        self._limit = limit
        self._window = window_s
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may try again, or None if it may now."""
        failures = self._failures.get(key)
        if not failures:
            return None
        now = time.monotonic()
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        if len(failures) < self._limit:
            return None
        return failures[0] + self._window - now

    def fail(self, key: str) -> None:
        now = time.monotonic()
        if key not in self._failures and len(self._failures) >= self._max_keys:
            self._forget_before(now - self._window)
        self._failures.setdefault(key, deque(maxlen=self._limit)).append(now)

    def clear(self, key: str) -> None:
        """Forget the failures of ``key`` (after a successful sign-in)."""
        self._failures.pop(key, None)

    def _forget_before(self, horizon: float) -> None:
        """Drop keys whose last failure is older than ``horizon`` (bounded memory)."""
        stale = [key for key, failures in self._failures.items() if failures[-1] < horizon]
        for key in stale or list(self._failures)[: max(1, len(self._failures) // 2)]:
            del self._failures[key]
