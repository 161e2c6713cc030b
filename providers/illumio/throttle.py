"""Client-side request throttle: at most N requests per sliding minute per PCE API key.

The PCE allows 500 requests per minute per API key and answers 429 past it. Every thread
and every PceClient of the process that uses the same (pce_url, api_key) shares one
`SlidingWindowLimiter` from `shared_limiter`, so parallel Pulumi resource operations stay
under the limit together. Clock and sleep are injectable so tests run in virtual time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class SlidingWindowLimiter:
    """Grants at most `limit` acquisitions in any `window` seconds (a sliding log).

    The lock is never held while sleeping: a waiter computes when the oldest grant
    leaves the window, sleeps outside the lock, and tries again.
    """

    def __init__(
        self,
        limit: int,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._grants: deque[float] = deque()
        self._paused_until = float("-inf")
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def window(self) -> float:
        return self._window

    def lower_limit(self, limit: int) -> None:
        """Tighten the limit (never loosen: the strictest configuration sharing a key wins)."""
        with self._lock:
            self._limit = max(1, min(self._limit, limit))

    def pause(self, seconds: float) -> None:
        """Grant nothing for `seconds` (the PCE answered 429 with Retry-After): every thread
        sharing the key waits, not only the one that was refused."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))

    def acquire(self) -> float:
        """Block until a request may be sent; return the time it was granted (clock units)."""
        while True:
            with self._lock:
                now = self._clock()
                horizon = now - self._window
                while self._grants and self._grants[0] <= horizon:
                    self._grants.popleft()
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif len(self._grants) < self._limit:
                    self._grants.append(now)
                    return now
                else:
                    wait = self._grants[0] + self._window - now
            self._sleep(max(wait, 0.001))


_registry: dict[tuple[str, str], SlidingWindowLimiter] = {}
_registry_lock = threading.Lock()


def shared_limiter(pce_url: str, api_key: str, per_minute: int) -> SlidingWindowLimiter:
    """The process-wide limiter for one PCE and API key (created on first use)."""
    key = (pce_url, api_key)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = SlidingWindowLimiter(per_minute)
            _registry[key] = limiter
        else:
            limiter.lower_limit(per_minute)
        return limiter
