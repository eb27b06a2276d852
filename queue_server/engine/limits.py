"""One sliding-window counter, and the two limits built on it: login throttling and ticket rate.

Both forget keys with nothing left in their window once they track many keys,
so a spray of names or addresses over days cannot grow memory without bound.
"""

from __future__ import annotations

import time
from collections import deque

MAX_TRACKED_KEYS = 10_000


class SlidingWindow:
    """Times of recent hits per key, within `window` seconds."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.times: dict[str, deque[float]] = {}

    def recent(self, key: str, now: float) -> deque[float]:
        times = self.times.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def hit(self, key: str, now: float) -> None:
        self.recent(key, now).append(now)
        if len(self.times) > MAX_TRACKED_KEYS:
            for stale in [k for k, v in self.times.items() if not v or v[-1] <= now - self.window]:
                del self.times[stale]

    def forget(self, key: str) -> None:
        self.times.pop(key, None)


class LoginThrottle:
    """Slows down guessing: after a few failures per key, each further attempt waits twice as long."""

    def __init__(self, free_failures: int = 5, window: float = 900.0, max_wait: float = 300.0) -> None:
        self.free_failures = free_failures
        self.max_wait = max_wait
        self.failures = SlidingWindow(window)

    def wait_seconds(self, keys: list[str], now: float | None = None) -> float:
        """How long these keys must wait before another attempt (0 when they may try)."""
        now = time.monotonic() if now is None else now
        longest = 0.0
        for key in keys:
            times = self.failures.recent(key, now)
            extra = len(times) - self.free_failures
            if extra >= 0 and times:
                wait = min(self.max_wait, 2.0 ** min(extra, 16))
                longest = max(longest, times[-1] + wait - now)
        return max(0.0, longest)

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for key in keys:
            self.failures.hit(key, now)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self.failures.forget(key)


class RateLimiter:
    """At most `per_minute` hits per key in any sliding minute (0 = no limit)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.hits = SlidingWindow(60.0)

    def allow(self, key: str, now: float | None = None) -> bool:
        if self.per_minute <= 0:
            return True
        now = time.monotonic() if now is None else now
        if len(self.hits.recent(key, now)) >= self.per_minute:
            return False
        self.hits.hit(key, now)
        return True
