"""Every request the emulator answered (or dropped), for counting API calls in tests."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import PceEmulator


@dataclass(frozen=True)
class RecordedRequest:
    """One request: method, URL path (with /api/v2), query, status sent.

    `dropped` is True when the request was applied but its response never sent.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    body: Any = None
    request_id: str = ""
    dropped: bool = False


class RequestLog:
    """Thread-safe append-only log with counting helpers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def add(self, item: RecordedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(item)

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of the log, oldest first."""
        with self._lock:
            return list(self._items)

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many requests match the method (any case) and path fragment."""
        wanted = method.upper() if method else None
        with self._lock:
            return sum(
                1
                for item in self._items
                if (wanted is None or item.method == wanted)
                and (path_contains is None or path_contains in item.path)
            )

    def clear(self) -> None:
        """Forget every request so far."""
        with self._lock:
            self._items.clear()


def request_kind(path: str) -> str:
    """Which PCE object a request path is about: cluster, profile, label, pairing_profile,
    pairing_key, service_backend, job, rule_set, rule, ip_list, pending, dependencies or
    policy_version (provisioning and the version history)."""
    for fragment, kind in (
        ("/sec_rules", "rule"),
        ("/rule_sets", "rule_set"),
        ("/ip_lists", "ip_list"),
        ("/sec_policy/pending", "pending"),
        ("/sec_policy/draft/dependencies", "dependencies"),
        ("/sec_policy", "policy_version"),
        ("/container_workload_profiles", "profile"),
        ("/service_backends", "service_backend"),
        ("/container_clusters", "cluster"),
        ("/pairing_key", "pairing_key"),
        ("/pairing_profiles", "pairing_profile"),
        ("/labels", "label"),
        ("/jobs", "job"),
    ):
        if fragment in path:
            return kind
    return "other"


def request_counts(emu: PceEmulator) -> dict[str, int]:
    """PCE requests since the last reset, per object kind and method: {"label POST": 3}."""
    return dict(Counter(f"{request_kind(r.path)} {r.method}" for r in emu.requests))
