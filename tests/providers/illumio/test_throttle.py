"""The client-side throttle: never more than N grants in any sliding window, across threads."""

from __future__ import annotations

import functools
import threading

import pytest

from providers.illumio.throttle import SlidingWindowLimiter, shared_limiter
from tests.providers.illumio.virtual_clock import (
    FakeTime,
    VirtualClock,
    max_in_any_window,
    run_workers,
)


def test_grants_up_to_the_limit_then_waits_until_the_oldest_leaves_the_window():
    clock = FakeTime()
    limiter = SlidingWindowLimiter(3, clock=clock.time, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert clock.sleeps == []
    clock.now = 10.0
    assert limiter.acquire() == 60.0  # waited for the first grant to age out
    assert clock.sleeps == [50.0]


def test_a_window_that_has_passed_frees_every_slot():
    clock = FakeTime()
    limiter = SlidingWindowLimiter(2, clock=clock.time, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire()
    clock.now = 61.0
    limiter.acquire()
    limiter.acquire()
    assert clock.sleeps == []


@pytest.mark.parametrize(("threads", "per_thread", "limit"), [(4, 10, 5), (4, 7, 1), (3, 20, 9)])
def test_threads_sharing_a_limiter_never_exceed_the_limit_in_any_minute(
    threads: int, per_thread: int, limit: int
):
    clock = VirtualClock(workers=threads)
    limiter = SlidingWindowLimiter(limit, clock=clock.time, sleep=clock.sleep)
    grants: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(per_thread):
            granted = limiter.acquire()
            with lock:
                grants.append(granted)

    run_workers(clock, [worker] * threads)

    total = threads * per_thread
    assert len(grants) == total
    assert max_in_any_window(grants, 60.0) <= limit
    # The throttle really spread the work: the last grant is as late as the limit implies.
    assert max(grants) >= 60.0 * ((total - 1) // limit)


def test_a_slow_answer_keeps_its_request_in_the_window_until_it_came_back():
    """The PCE counts a request when it arrives, which on a busy machine can be long after
    the grant: a request answered at t=5 holds its slot until t=65, so a second burst a
    minute after the first cannot land in the same PCE minute as the slow one."""
    clock = FakeTime()
    limiter = SlidingWindowLimiter(2, clock=clock.time, sleep=clock.sleep)
    with limiter.slot() as granted:  # granted at 0, answered at 5
        assert granted == 0.0
        assert limiter.acquire() == 0.0  # answered at once
        clock.now = 5.0
    clock.now = 60.0
    assert limiter.acquire() == 60.0, "the quick one's minute is over"
    assert limiter.acquire() == 65.0, "the slow one's minute runs from its answer"
    assert clock.sleeps == [5.0]


def test_every_slot_in_flight_makes_a_waiter_look_again_until_one_is_answered():
    clock = VirtualClock(workers=2)
    limiter = SlidingWindowLimiter(1, clock=clock.time, sleep=clock.sleep)
    grants: list[float] = []

    def slow() -> None:
        with limiter.slot() as granted:
            grants.append(granted)
            clock.sleep(2.0)  # no answer for 2 s

    def waiting() -> None:
        clock.sleep(0.5)
        grants.append(limiter.acquire())

    run_workers(clock, [slow, waiting])
    assert grants[0] == 0.0
    assert grants[1] >= 62.0, "not before a minute after the slow request's answer"


@pytest.mark.parametrize("delays", [(0.0, 4.0, 9.0), (7.0, 0.0), (0.5, 12.0, 3.0, 0.0)])
def test_requests_arriving_late_never_exceed_the_limit_in_any_pce_minute(
    delays: tuple[float, ...],
):
    """Each request reaches the PCE some seconds after its grant (a busy host), and is
    answered a second later; what the PCE sees stays within the limit in every window."""
    threads, per_thread, limit = 4, 12, 5
    clock = VirtualClock(workers=threads)
    limiter = SlidingWindowLimiter(limit, clock=clock.time, sleep=clock.sleep)
    arrivals: list[float] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        for i in range(per_thread):
            with limiter.slot():
                clock.sleep(delays[(index + i) % len(delays)])  # on its way to the PCE
                with lock:
                    arrivals.append(clock.time())
                clock.sleep(1.0)  # the PCE answers

    run_workers(clock, [functools.partial(worker, n) for n in range(threads)])
    assert len(arrivals) == threads * per_thread
    assert max_in_any_window(arrivals, 60.0) <= limit


def test_lower_limit_only_tightens():
    limiter = SlidingWindowLimiter(450)
    limiter.lower_limit(100)
    limiter.lower_limit(300)
    assert limiter.limit == 100


def test_shared_limiter_is_one_per_pce_and_api_key():
    a = shared_limiter("https://pce-throttle.test:8443", "api_a", 450)
    assert shared_limiter("https://pce-throttle.test:8443", "api_a", 450) is a
    assert shared_limiter("https://pce-throttle.test:8443", "api_b", 450) is not a
    assert shared_limiter("https://other-throttle.test:8443", "api_a", 450) is not a
    # The strictest configuration for the same key wins.
    shared_limiter("https://pce-throttle.test:8443", "api_a", 200)
    assert a.limit == 200


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0)
