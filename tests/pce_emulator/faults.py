"""Faults a real PCE (or the network in front of it) produces, injected on demand.

Injected 429s and failures answer before the request is processed (nothing applied);
a dropped response is the opposite: the request is applied and the connection is then
closed with no answer, so the client cannot know the outcome.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from .errors import ApiError, default_token


@dataclass
class _Injected:
    remaining: int
    status: int
    method: str | None
    retry_after: int | None


@dataclass
class _Drop:
    remaining: int
    method: str | None
    path_contains: str | None
    even_errors: bool = False


class FaultPlan:
    """The faults armed on one emulator; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._injected: list[_Injected] = []
        self._drops: list[_Drop] = []
        self._latency = 0.0
        self._per_window: int | None = None
        self._window_seconds = 60.0
        self._seen: dict[str, deque[float]] = {}

    def inject_rate_limit(self, count: int, retry_after: int = 1) -> None:
        """The next `count` requests get 429 with `Retry-After: retry_after`."""
        with self._lock:
            self._injected.append(_Injected(count, 429, None, retry_after))

    def inject_failures(
        self,
        count: int,
        status: int = 503,
        method: str | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        """The next `count` requests (of `method`, if given) fail with `status`."""
        with self._lock:
            self._injected.append(_Injected(count, status, method and method.upper(), retry_after))

    def set_latency(self, seconds: float) -> None:
        """Every request waits this long before it is processed."""
        with self._lock:
            self._latency = max(0.0, seconds)

    def drop_response_after_apply(
        self,
        method: str | None = "POST",
        path_contains: str | None = None,
        count: int = 1,
        *,
        even_errors: bool = False,
    ) -> None:
        """The next `count` matching requests (any method if None) are applied, then the
        socket is closed with no response; with `even_errors`, a refusal (e.g. a 406
        duplicate) is swallowed the same way, so the client cannot tell what happened."""
        with self._lock:
            self._drops.append(_Drop(count, method and method.upper(), path_contains, even_errors))

    def enforce_rate_limit(
        self, per_minute: int | None = 500, window_seconds: float = 60.0
    ) -> None:
        """A sliding-window limit of `per_minute` requests per API key per window
        (None switches it off); `window_seconds` is shortened in tests."""
        with self._lock:
            self._per_window = per_minute
            self._window_seconds = window_seconds
            self._seen.clear()

    @property
    def latency(self) -> float:
        """Seconds each request waits before processing."""
        with self._lock:
            return self._latency

    def before_processing(
        self, method: str, api_key: str
    ) -> tuple[ApiError, dict[str, str]] | None:
        """An error to answer instead of processing the request, with its headers."""
        with self._lock:
            for rule in self._injected:
                if rule.remaining > 0 and (rule.method is None or rule.method == method):
                    rule.remaining -= 1
                    self._injected = [r for r in self._injected if r.remaining > 0]
                    headers = {}
                    if rule.retry_after is not None:
                        headers["Retry-After"] = str(rule.retry_after)
                    message = (
                        "Too many requests"
                        if rule.status == 429
                        else f"Injected failure {rule.status}"
                    )
                    return ApiError(rule.status, default_token(rule.status), message), headers
            if self._per_window is not None:
                now = time.monotonic()
                seen = self._seen.setdefault(api_key, deque())
                while seen and seen[0] <= now - self._window_seconds:
                    seen.popleft()
                if len(seen) >= self._per_window:
                    wait = max(1, math.ceil(seen[0] + self._window_seconds - now))
                    error = ApiError(
                        429,
                        default_token(429),
                        f"Rate limit of {self._per_window} requests per "
                        f"{self._window_seconds:g}s exceeded for this API key",
                    )
                    return error, {"Retry-After": str(wait)}
                seen.append(now)
        return None

    def take_drop(self, method: str, path: str, *, failed: bool = False) -> bool:
        """Whether this request's response must be dropped (`failed`: it was refused)."""
        with self._lock:
            for rule in self._drops:
                if (
                    rule.remaining > 0
                    and (rule.even_errors or not failed)
                    and (rule.method is None or rule.method == method)
                    and (rule.path_contains is None or _path_matches(rule.path_contains, path))
                ):
                    rule.remaining -= 1
                    self._drops = [r for r in self._drops if r.remaining > 0]
                    return True
        return False


def _path_matches(fragment: str, path: str) -> bool:
    """`fragment` occurs in `path`; a trailing `$` anchors it at the end
    (`/sec_policy$` is the provision POST, not `/sec_policy/draft/dependencies`)."""
    if fragment.endswith("$"):
        return path.endswith(fragment[:-1])
    return fragment in path
