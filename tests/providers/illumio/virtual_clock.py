"""Virtual time for tests of retries and the throttle.

`FakeTime` serves one thread: it moves only when someone sleeps, and records each sleep.
`VirtualClock` serves several: it only moves when every registered worker thread is
asleep (or finished), then jumps to the earliest wake-up time. No thread ever runs while
time advances, so "what time was it when this request went out" has one exact answer,
and minutes of throttling take milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class FakeTime:
    """A clock that moves only when `sleep` is called; `sleeps` lists every wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def max_in_any_window(times: list[float], window: float) -> int:
    """The largest number of timestamps inside any half-open window (t - window, t]."""
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


class VirtualClock:
    """A clock whose `sleep` blocks until virtual time reaches the wake-up time."""

    def __init__(self, workers: int, start: float = 0.0) -> None:
        self._now = start
        self._active = workers
        self._wakeups: list[float] = []
        self._cond = threading.Condition()

    def time(self) -> float:
        with self._cond:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._cond:
            target = self._now + max(seconds, 0.0)
            self._wakeups.append(target)
            self._advance_if_idle()
            while self._now < target:
                if not self._cond.wait(timeout=10):
                    raise AssertionError("virtual clock stalled: a worker never slept or finished")
            self._wakeups.remove(target)

    def finished(self) -> None:
        """A worker thread is done; it no longer holds time back."""
        with self._cond:
            self._active -= 1
            self._advance_if_idle()

    def _advance_if_idle(self) -> None:
        # Threads whose wake-up time has come are runnable even before they re-take the
        # lock, so only those still waiting count as asleep.
        pending = [t for t in self._wakeups if t > self._now]
        if pending and len(pending) >= self._active:
            self._now = min(pending)
            self._cond.notify_all()


def run_workers(clock: VirtualClock, workers: list[Callable[[], None]]) -> None:
    """Run each of `workers` on its own thread under `clock` (one registered worker each),
    telling the clock when each is done; fail if any is still running after 30 s."""

    def run(work: Callable[[], None]) -> None:
        try:
            work()
        finally:
            clock.finished()

    pool = [threading.Thread(target=run, args=(work,)) for work in workers]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in pool), "a worker never finished"
