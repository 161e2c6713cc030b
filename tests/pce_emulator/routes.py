"""URL routing: which store method answers (method, path) under /api/v2/orgs/<org>."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .policy_routes import POLICY_ROUTES
from .replies import Reply
from .store import PceStore

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_CLUSTER = rf"/orgs/\d+/container_clusters/{_UUID}"
_PROFILE = rf"{_CLUSTER}/container_workload_profiles/{_UUID}"


@dataclass(frozen=True)
class Call:
    """One parsed request as the store needs it."""

    href: str  # the path without /api/v2
    query: str
    body: Any
    prefer_async: bool


Handler = Callable[[PceStore, Call], Reply]


def _strip(href: str, suffix: str) -> str:
    return href[: -len(suffix)]


_ROUTES: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
    (
        re.compile(r"/orgs/\d+/container_clusters"),
        {
            "GET": lambda s, c: s.list_clusters(c.query, c.prefer_async),
            "POST": lambda s, c: s.create_cluster(c.body),
        },
    ),
    (
        re.compile(_CLUSTER),
        {
            "GET": lambda s, c: s.get_cluster(c.href),
            "PUT": lambda s, c: s.update_cluster(c.href, c.body),
            "DELETE": lambda s, c: s.delete_cluster(c.href),
        },
    ),
    (
        re.compile(rf"{_CLUSTER}/container_workload_profiles"),
        {
            "GET": lambda s, c: s.list_profiles(
                _strip(c.href, "/container_workload_profiles"), c.query, c.prefer_async
            ),
            "POST": lambda s, c: s.create_profile(
                _strip(c.href, "/container_workload_profiles"), c.body
            ),
        },
    ),
    (
        re.compile(_PROFILE),
        {
            "GET": lambda s, c: s.get_profile(c.href),
            "PUT": lambda s, c: s.update_profile(c.href, c.body),
            "DELETE": lambda s, c: s.delete_profile(c.href),
        },
    ),
    (
        re.compile(rf"{_CLUSTER}/service_backends"),
        {
            "GET": lambda s, c: s.list_service_backends(
                _strip(c.href, "/service_backends"), c.query, c.prefer_async
            ),
        },
    ),
    (
        re.compile(r"/orgs/\d+/labels"),
        {
            "GET": lambda s, c: s.list_labels(c.query, c.prefer_async),
            "POST": lambda s, c: s.create_label(c.body),
        },
    ),
    (
        re.compile(r"/orgs/\d+/labels/\d+"),
        {
            "GET": lambda s, c: s.get_label(c.href),
            "PUT": lambda s, c: s.update_label(c.href, c.body),
            "DELETE": lambda s, c: s.delete_label(c.href),
        },
    ),
    (
        re.compile(r"/orgs/\d+/pairing_profiles"),
        {
            "GET": lambda s, c: s.list_pairing_profiles(c.query, c.prefer_async),
            "POST": lambda s, c: s.create_pairing_profile(c.body),
        },
    ),
    (
        re.compile(r"/orgs/\d+/pairing_profiles/\d+"),
        {
            "GET": lambda s, c: s.get_pairing_profile(c.href),
            "PUT": lambda s, c: s.update_pairing_profile(c.href, c.body),
            "DELETE": lambda s, c: s.delete_pairing_profile(c.href),
        },
    ),
    (
        re.compile(r"/orgs/\d+/pairing_profiles/\d+/pairing_key"),
        {"POST": lambda s, c: s.create_pairing_key(_strip(c.href, "/pairing_key"), c.body)},
    ),
    (
        re.compile(rf"/orgs/\d+/jobs/{_UUID}"),
        {"GET": lambda s, c: s.jobs.poll(c.href)},
    ),
    (
        re.compile(rf"/orgs/\d+/datafiles/{_UUID}"),
        {"GET": lambda s, c: s.jobs.datafile(c.href)},
    ),
    *POLICY_ROUTES,
]

_ORG = re.compile(r"/orgs/(\d+)(?:/.*)?")


def dispatch(store: PceStore, method: str, call: Call) -> Reply:
    """Answer one request; 403 for another org, 404 for no such path, 405 for a method."""
    org = _ORG.fullmatch(call.href)
    if org is None:
        raise ApiError(404, "not_found", f"No API resource at {call.href}")
    if int(org.group(1)) != store.org_id:
        raise ApiError(403, "forbidden", f"This API key has no access to org {org.group(1)}")
    for pattern, methods in _ROUTES:
        if pattern.fullmatch(call.href):
            handler = methods.get(method)
            if handler is None:
                raise ApiError(
                    405, "method_not_allowed", f"{method} is not supported on {call.href}"
                )
            return handler(store, call)
    raise ApiError(404, "not_found", f"No API resource at {call.href}")
