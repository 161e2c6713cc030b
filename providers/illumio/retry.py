"""Retry decisions for PCE requests: which failures to retry, and how long to wait.

Pure functions and a small policy object, no I/O, so the rules (POST is only re-sent when
it certainly was not applied; PUT/DELETE/GET are retried on every transient failure) are
tested on their own and the client stays a thin loop around them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import Enum

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class Failure(Enum):
    """How a failed attempt relates to the server's state."""

    NOT_APPLIED = "not_applied"  # certainly not processed (429, refused connection)
    UNKNOWN = "unknown"  # maybe processed (5xx gateway errors, read timeout, dropped reply)
    FATAL = "fatal"  # retrying cannot help (TLS failure, bad URL, other 4xx)


def classify_status(status: int) -> Failure:
    """429 is refused before processing; 502/503/504 may come after the PCE applied it."""
    if status == 429:
        return Failure.NOT_APPLIED
    if status in RETRYABLE_STATUSES:
        return Failure.UNKNOWN
    return Failure.FATAL


def classify_exception(exc: requests.RequestException) -> Failure:
    """Tell a connection that never carried the request from one that died after sending.

    requests raises ConnectTimeout, or ConnectionError wrapping urllib3's MaxRetryError
    with a NewConnectionError (refused, DNS) reason, when the request never left; a
    ReadTimeout or a ConnectionError wrapping ProtocolError (connection reset/closed while
    waiting for the reply) means the PCE may have received and applied it.
    """
    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.InvalidURL):
        return Failure.FATAL
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Failure.NOT_APPLIED
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return Failure.UNKNOWN
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        if isinstance(reason, NewConnectionError | ConnectTimeoutError):
            return Failure.NOT_APPLIED
        return Failure.UNKNOWN
    return Failure.FATAL


def may_retry(method: str, failure: Failure) -> bool:
    """Idempotent methods retry any transient failure; POST only one that was not applied."""
    if failure is Failure.FATAL:
        return False
    if method.upper() in IDEMPOTENT_METHODS:
        return True
    return failure is Failure.NOT_APPLIED


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), else None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


@dataclass
class Backoff:
    """Bounded exponential backoff with "equal jitter": attempt n waits in [d/2, d],
    d = min(cap, base * 2**n). A server's Retry-After wins when present (up to
    `max_retry_after`; a longer demand fails fast instead of stalling a deployment)."""

    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * (2**attempt))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return self.delay(attempt)
