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
from collections.abc import Callable, Iterator
from contextlib import contextmanager

WINDOW_SECONDS = 60.0


IN_FLIGHT_POLL_SECONDS = 0.05
"""How often a waiter looks again when every slot is taken by a request still in flight."""


class SlidingWindowLimiter:
    """At most `limit` requests in any `window` seconds, as the PCE sees them (a sliding log).

    A request counts from when it is granted until `window` seconds after its answer came
    back (or it failed): the PCE counts it when it arrives, which may be well after the
    grant on a busy machine, so a log of grant times alone lets two bursts a window apart
    land inside one of the PCE's windows and draw 429s. `slot()` is that span;
    `acquire()` is a request that is answered the moment it is granted.

    The lock is never held while sleeping: a waiter computes when the oldest answer
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
        self._answered: deque[float] = deque()  # when each request in the window ended
        self._in_flight = 0
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

    @contextmanager
    def slot(self) -> Iterator[float]:
        """One request's span: blocks until it may be sent, yields the grant time, and on
        exit (answered or failed) starts its `window` seconds in the log."""
        granted = self._grant()
        try:
            yield granted
        finally:
            with self._lock:
                self._in_flight -= 1
                self._answered.append(self._clock())

    def acquire(self) -> float:
        """Block until a request may be sent; return the time it was granted (clock units).
        The request counts as answered at once."""
        with self.slot() as granted:
            return granted

    def _grant(self) -> float:
        while True:
            with self._lock:
                now = self._clock()
                horizon = now - self._window
                while self._answered and self._answered[0] <= horizon:
                    self._answered.popleft()
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif self._in_flight + len(self._answered) < self._limit:
                    self._in_flight += 1
                    return now
                elif self._answered:
                    wait = self._answered[0] + self._window - now
                else:  # every slot is a request still waiting for its answer
                    wait = IN_FLIGHT_POLL_SECONDS
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
