"""URL routing for the security policy (`/orgs/<org>/sec_policy/...`): which `PolicyStore`
method answers. `routes.py` appends these to its table."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .replies import Reply
    from .routes import Call
    from .store import PceStore

Handler = Callable[["PceStore", "Call"], "Reply"]

_BASE = r"/orgs/\d+/sec_policy"
_RULE_SET = rf"{_BASE}/draft/rule_sets/\d+"


def _state(href: str) -> str:
    return "active" if "/sec_policy/active/" in href else "draft"


def _object_routes(kind: str) -> list[tuple[re.Pattern[str], dict[str, Any]]]:
    return [
        (
            re.compile(rf"{_BASE}/(draft|active)/{kind}"),
            {
                "GET": lambda s, c: s.policy.list_objects(
                    kind, _state(c.href), c.query, c.prefer_async
                ),
                # Active objects are read-only: every write goes to draft (405 otherwise).
                "POST": lambda s, c: (
                    s.policy.create_object(kind, c.body)
                    if _state(c.href) == "draft"
                    else _read_only(c.href)
                ),
            },
        ),
        (
            re.compile(rf"{_BASE}/active/{kind}/\d+"),
            {"GET": lambda s, c: s.policy.get_object(kind, "active", c.href)},
        ),
        (
            re.compile(rf"{_BASE}/draft/{kind}/\d+"),
            {
                "GET": lambda s, c: s.policy.get_object(kind, "draft", c.href),
                "PUT": lambda s, c: s.policy.update_object(kind, c.href, c.body),
                "DELETE": lambda s, c: s.policy.delete_object(kind, c.href),
            },
        ),
    ]


def _read_only(href: str) -> Reply:
    from .errors import ApiError

    raise ApiError(405, "method_not_allowed", f"active policy is read-only: {href}")


POLICY_ROUTES: list[tuple[re.Pattern[str], dict[str, Any]]] = [
    *_object_routes("rule_sets"),
    *_object_routes("ip_lists"),
    (
        re.compile(rf"{_RULE_SET}/sec_rules"),
        {
            "GET": lambda s, c: s.policy.list_rules(c.href.removesuffix("/sec_rules")),
            "POST": lambda s, c: s.policy.create_rule(c.href.removesuffix("/sec_rules"), c.body),
        },
    ),
    (
        re.compile(rf"{_RULE_SET}/sec_rules/\d+"),
        {
            "GET": lambda s, c: s.policy.get_rule(c.href),
            "PUT": lambda s, c: s.policy.update_rule(c.href, c.body),
            "DELETE": lambda s, c: s.policy.delete_rule(c.href),
        },
    ),
    (re.compile(rf"{_BASE}/pending"), {"GET": lambda s, c: s.policy.pending()}),
    (
        re.compile(rf"{_BASE}/draft/dependencies"),
        {"POST": lambda s, c: s.policy.dependencies(c.body)},
    ),
    (
        re.compile(_BASE),
        {
            "GET": lambda s, c: s.policy.list_versions(c.query, c.prefer_async),
            "POST": lambda s, c: s.policy.provision(c.body),
        },
    ),
    (re.compile(rf"{_BASE}/\d+"), {"GET": lambda s, c: s.policy.get_version(c.href)}),
]
