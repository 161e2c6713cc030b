"""Rule sets, rules and IP lists: their input form, offline checks, PCE bodies, revisions.

Pure functions (no I/O), shared by `rule_set`, `ip_list` and their tests.

Input form (what the resources take and keep in state):
- a scope is a list of at most 3 label hrefs; `scopes` is a list of scopes;
- a rule is `{"providers": [actor], "consumers": [actor], "services": [service],
  "unscoped_consumers": bool, "enabled": bool, "description": str}` where an actor is
  `"ams"` (all workloads in scope) or the href of a label, label group, IP list, workload
  or virtual service (its kind is read from the href), and a service is
  `{"proto": "tcp"|"udp"|"icmp"|"icmpv6", "port": n, "to_port": m}` (ports optional);
- an IP range is `"10.0.0.0/8"`, `"10.0.0.1-10.0.0.9"` or `"!10.1.0.0/16"` (an exclusion).

Normal form sorts what the PCE treats as a set (actors, services, rules, ranges), so a
reordered spec is no change. The revision is a digest of the normal form: it changes
exactly when the object's content does, which is what `PolicyProvision` watches.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from providers.illumio.limits import name_problem
from providers.illumio.provider_base import is_unknown

PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
_PROTO_NAMES = {number: name for name, number in PROTOCOLS.items()}
_ACTOR_KINDS = (
    ("/labels/", "label"),
    ("/label_groups/", "label_group"),
    ("/ip_lists/", "ip_list"),
    ("/workloads/", "workload"),
    ("/virtual_services/", "virtual_service"),
)
RULE_KEYS = ("providers", "consumers", "services", "unscoped_consumers", "enabled", "description")
MAX_SCOPE_LABELS = 3
_HREF = re.compile(r"^/orgs/\d+/\S+$")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def revision(content: Mapping[str, Any]) -> str:
    """A short digest of an object's normal-form content."""
    return hashlib.sha256(canonical(dict(content)).encode()).hexdigest()[:16]


def as_int(value: Any) -> Any:
    """Numbers cross gRPC as floats: 53.0 -> 53 (other values unchanged)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def actor_kind(actor: str) -> str | None:
    """`ams`, `label`, `ip_list`, ... for an actor in input form; None if unrecognised."""
    if actor == "ams":
        return "ams"
    if not isinstance(actor, str) or not _HREF.match(actor):
        return None
    return next((kind for fragment, kind in _ACTOR_KINDS if fragment in actor), None)


# -- normal form ------------------------------------------------------------------------


def normal_service(service: Mapping[str, Any]) -> dict[str, Any]:
    proto = as_int(service.get("proto"))
    proto = _PROTO_NAMES.get(proto, proto) if isinstance(proto, int) else str(proto).lower()
    out: dict[str, Any] = {"proto": proto}
    for key in ("port", "to_port"):
        if service.get(key) is not None:
            out[key] = as_int(service[key])
    return out


def normal_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "providers": sorted({str(a) for a in rule.get("providers") or []}),
        "consumers": sorted({str(a) for a in rule.get("consumers") or []}),
        "services": sorted((normal_service(s) for s in rule.get("services") or []), key=canonical),
        "unscoped_consumers": bool(rule.get("unscoped_consumers", False)),
        "enabled": bool(rule.get("enabled", True)),
        "description": rule.get("description") or "",
    }


def normal_rules(rules: Any) -> list[dict[str, Any]]:
    unique = {canonical(r): r for r in (normal_rule(r) for r in rules or [])}
    return [unique[key] for key in sorted(unique)]


def normal_scopes(scopes: Any) -> list[list[str]]:
    unique = {canonical(s): s for s in (sorted({str(h) for h in scope}) for scope in scopes or [])}
    return [unique[key] for key in sorted(unique)]


def normal_range(value: str) -> str:
    return value.strip()


# -- offline checks (for check(); values may be unknown during preview) ---------------


def scopes_problems(scopes: Any) -> list[str]:
    if is_unknown(scopes):
        return []
    if not isinstance(scopes, list):
        return ["scopes: a list of scopes, each a list of label hrefs"]
    problems = []
    for i, scope in enumerate(scopes):
        if is_unknown(scope):
            continue
        if not isinstance(scope, list):
            problems.append(f"scopes[{i}]: a list of label hrefs")
            continue
        if len(scope) > MAX_SCOPE_LABELS:
            problems.append(f"scopes[{i}]: at most {MAX_SCOPE_LABELS} labels (got {len(scope)})")
        for j, href in enumerate(scope):
            if not is_unknown(href) and actor_kind(href) not in ("label", "label_group"):
                problems.append(f"scopes[{i}][{j}]: {href!r} is not a label or label group href")
    return problems


def _service_problems(service: Any, where: str) -> list[str]:
    if is_unknown(service):
        return []
    if not isinstance(service, Mapping) or not set(service) <= {"proto", "port", "to_port"}:
        return [f"{where}: {{proto, port, to_port}}"]
    proto = service.get("proto")
    if not is_unknown(proto) and normal_service({"proto": proto})["proto"] not in PROTOCOLS:
        return [f"{where}.proto: one of {', '.join(PROTOCOLS)} (got {proto!r})"]
    problems = []
    for key in ("port", "to_port"):
        value = as_int(service.get(key))
        if value is None or is_unknown(value):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
            problems.append(f"{where}.{key}: a port from 1 to 65535 (got {value!r})")
    port, to_port = as_int(service.get("port")), as_int(service.get("to_port"))
    if isinstance(port, int) and isinstance(to_port, int) and to_port < port:
        problems.append(f"{where}.to_port: must not be below port")
    if to_port is not None and port is None:
        problems.append(f"{where}.to_port: needs port")
    return problems


def rule_problems(rule: Any, where: str) -> list[str]:
    """Why the PCE would refuse this rule, as far as can be told offline."""
    if is_unknown(rule):
        return []
    if not isinstance(rule, Mapping):
        return [f"{where}: a rule object"]
    unknown = sorted(set(rule) - set(RULE_KEYS))
    if unknown:
        return [f"{where}: unknown keys {unknown}; allowed: {', '.join(RULE_KEYS)}"]
    problems = []
    for side in ("providers", "consumers"):
        actors = rule.get(side)
        if is_unknown(actors):
            continue
        if not isinstance(actors, list) or not actors:
            problems.append(f"{where}.{side}: a non-empty list of actors")
            continue
        for i, actor in enumerate(actors):
            if not is_unknown(actor) and actor_kind(actor) is None:
                problems.append(
                    f'{where}.{side}[{i}]: {actor!r} is not "ams" or a label, label group, '
                    "IP list, workload or virtual service href"
                )
    services = rule.get("services")
    if not is_unknown(services):
        if services is not None and not isinstance(services, list):
            problems.append(f"{where}.services: a list of {{proto, port, to_port}}")
        elif not services:
            problems.append(f"{where}.services: at least one service (the PCE requires it)")
        else:
            for i, service in enumerate(services):
                problems += _service_problems(service, f"{where}.services[{i}]")
    for key in ("unscoped_consumers", "enabled"):
        value = rule.get(key)
        if value is not None and not is_unknown(value) and not isinstance(value, bool):
            problems.append(f"{where}.{key}: true or false")
    return problems


def range_problem(value: Any, where: str) -> str | None:
    if is_unknown(value):
        return None
    if not isinstance(value, str) or not value.strip():
        return f"{where}: an address, a CIDR or a range a-b (got {value!r})"
    text = value.strip().removeprefix("!")
    try:
        if "-" in text:
            first, last = (part.strip() for part in text.split("-", 1))
            low, high = ipaddress.ip_address(first), ipaddress.ip_address(last)
            if low.version != high.version or high < low:
                return f"{where}: {value!r} is not an ascending range of one IP version"
        else:
            ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"{where}: {value!r} is not an IP address, CIDR or range"
    return None


def common_problems(news: Mapping[str, Any]) -> list[tuple[str, str]]:
    failures = []
    name = news.get("name")
    if not is_unknown(name) and (reason := name_problem(name)):
        failures.append(("name", reason))
    description = news.get("description")
    if description is not None and not is_unknown(description):
        if not isinstance(description, str):
            failures.append(("description", "description: a string"))
        elif len(description) > 4096:
            failures.append(("description", "description: at most 4096 characters"))
    return failures


# -- PCE bodies and their input form ---------------------------------------------------


def _pce_actor(actor: str) -> dict[str, Any]:
    kind = actor_kind(actor)
    return {"actors": "ams"} if kind == "ams" else {str(kind): {"href": actor}}


def _input_actor(actor: Mapping[str, Any]) -> str:
    if actor.get("actors") == "ams":
        return "ams"
    for kind in ("label", "label_group", "ip_list", "workload", "virtual_service"):
        ref = actor.get(kind)
        if isinstance(ref, Mapping) and ref.get("href"):
            return str(ref["href"])
    return canonical(dict(actor))  # something tenantguard does not write: never equal


def rule_body(rule: Mapping[str, Any]) -> dict[str, Any]:
    """The PCE body of a normal-form rule (POST/PUT `sec_rules`)."""
    return {
        "enabled": rule["enabled"],
        "description": rule["description"],
        "providers": [_pce_actor(a) for a in rule["providers"]],
        "consumers": [_pce_actor(a) for a in rule["consumers"]],
        "ingress_services": [
            {**s, "proto": PROTOCOLS.get(s["proto"], s["proto"])} for s in rule["services"]
        ],
        "resolve_labels_as": {"providers": ["workloads"], "consumers": ["workloads"]},
        "unscoped_consumers": rule["unscoped_consumers"],
    }


def live_rule(record: Any) -> dict[str, Any]:
    """A rule as the PCE returns it (a RuleRecord), in normal input form."""
    resolve = record.resolve_labels_as or {}
    services = [
        {k: v for k, v in s.items() if k in ("proto", "port", "to_port")}
        for s in record.ingress_services
    ]
    rule = normal_rule(
        {
            "providers": [_input_actor(a) for a in record.providers],
            "consumers": [_input_actor(a) for a in record.consumers],
            "services": services,
            "unscoped_consumers": record.unscoped_consumers,
            "enabled": record.enabled,
            "description": record.description or "",
        }
    )
    if resolve and resolve != {"providers": ["workloads"], "consumers": ["workloads"]}:
        rule["description"] += " (resolved otherwise)"  # differs: rewritten by the next PUT
    return rule


def scopes_body(scopes: list[list[str]]) -> list[list[dict[str, Any]]]:
    return [[_pce_actor(href) for href in scope] for scope in scopes]


def live_scopes(scopes: list[list[dict[str, Any]]]) -> list[list[str]]:
    return normal_scopes([[_input_actor(entry) for entry in scope] for scope in scopes])


def ip_range_body(value: str) -> dict[str, Any]:
    text = value.strip()
    exclusion = text.startswith("!")
    text = text.removeprefix("!")
    if "-" in text:
        first, last = (part.strip() for part in text.split("-", 1))
        return {"from_ip": first, "to_ip": last, "exclusion": exclusion}
    return {"from_ip": text, "exclusion": exclusion}


def live_range(entry: Mapping[str, Any]) -> str:
    text = str(entry.get("from_ip", ""))
    if entry.get("to_ip"):
        text = f"{text}-{entry['to_ip']}"
    return f"!{text}" if entry.get("exclusion") else text


# -- rules: what to keep, rewrite, add and remove -------------------------------------


def plan_rules(
    live: list[tuple[str, dict[str, Any]]], desired: list[dict[str, Any]]
) -> tuple[dict[int, str], list[tuple[str, int]], list[int], list[str]]:
    """Match live rules `(href, normal rule)` to desired normal rules.

    Returns `(kept, rewrite, add, remove)`: desired index -> href of an identical live
    rule; `(href, desired index)` pairs to PUT; desired indexes to POST; hrefs to DELETE.
    Identical rules are kept first, so only what changed is written.
    """
    unused = list(live)
    kept: dict[int, str] = {}
    for index, rule in enumerate(desired):
        match = next((item for item in unused if item[1] == rule), None)
        if match is not None:
            kept[index] = match[0]
            unused.remove(match)
    rest = [i for i in range(len(desired)) if i not in kept]
    rewrite = [(unused[n][0], index) for n, index in enumerate(rest[: len(unused)])]
    add = rest[len(unused) :]
    remove = [href for href, _ in unused[len(rest) :]]
    return kept, rewrite, add, remove
