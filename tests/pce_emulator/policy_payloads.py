"""Pure checks of security-policy bodies (rule sets, rules, IP lists, change subsets), as
strict as the PCE's own (`/work/shared/docs/pce-policy-facts.md`).

No state here: whether a referenced label or IP list exists is the policy store's job;
these functions return the hrefs they saw so the store can check them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from .errors import invalid
from .payloads import MAX_NAME, bool_field, href_ref, require_object, string_field

RULE_SET_WRITABLE = (
    "name",
    "description",
    "enabled",
    "scopes",
    "external_data_set",
    "external_data_reference",
)
RULE_WRITABLE = (
    "enabled",
    "description",
    "providers",
    "consumers",
    "ingress_services",
    "resolve_labels_as",
    "unscoped_consumers",
    "sec_connect",
    "machine_auth",
    "stateless",
    "external_data_set",
    "external_data_reference",
)
IP_LIST_WRITABLE = (
    "name",
    "description",
    "ip_ranges",
    "fqdns",
    "external_data_set",
    "external_data_reference",
)
ACTOR_KINDS = ("actors", "label", "label_group", "ip_list", "workload", "virtual_service")
RESOLVE_AS = ("workloads", "virtual_services")
PROTOCOLS = (1, 6, 17, 58)  # ICMP, TCP, UDP, ICMPv6
SUBSET_TYPES = ("rule_sets", "ip_lists", "label_groups", "services", "virtual_services")
MAX_SCOPE_ENTRIES = 3


class Refs:
    """The hrefs one body references, by kind."""

    def __init__(self) -> None:
        self.labels: set[str] = set()
        self.ip_lists: set[str] = set()
        self.other: set[str] = set()


def rule_set_body(body: Any, *, creating: bool) -> tuple[dict[str, Any], Refs]:
    """The rule set's fields (rules are written through `sec_rules`) and its label refs."""
    if isinstance(body, dict) and "rules" in body:
        raise invalid("rules are not written with the rule set: use .../sec_rules")
    body = require_object(body, RULE_SET_WRITABLE, "rule_set")
    fields: dict[str, Any] = {}
    name = string_field(body, "name", required=creating, allow_empty=False, max_len=MAX_NAME)
    if name is not None:
        fields["name"] = name
    if "description" in body:
        fields["description"] = string_field(body, "description", nullable=True) or ""
    enabled = bool_field(body, "enabled")
    if enabled is not None:
        fields["enabled"] = enabled
    refs = Refs()
    if "scopes" in body:
        fields["scopes"] = _scopes(body["scopes"], refs)
    for name in ("external_data_set", "external_data_reference"):
        if name in body:
            fields[name] = string_field(body, name, nullable=True)
    return fields, refs


def _scopes(raw: Any, refs: Refs) -> list[list[dict[str, Any]]]:
    if not isinstance(raw, list):
        raise invalid("scopes must be an array of scopes (each an array of label refs)")
    scopes: list[list[dict[str, Any]]] = []
    for i, scope in enumerate(raw):
        if not isinstance(scope, list):
            raise invalid(f"scopes[{i}] must be an array of label refs")
        if len(scope) > MAX_SCOPE_ENTRIES:
            raise invalid(f"scopes[{i}] has {len(scope)} entries; at most {MAX_SCOPE_ENTRIES}")
        entries: list[dict[str, Any]] = []
        for j, entry in enumerate(scope):
            where = f"scopes[{i}][{j}]"
            if not isinstance(entry, dict):
                raise invalid(f"{where} must be {{label: {{href}}}} or {{label_group: {{href}}}}")
            kinds = [k for k in ("label", "label_group") if k in entry]
            unknown = sorted(set(entry) - {"label", "label_group", "exclusion"})
            if len(kinds) != 1 or unknown:
                raise invalid(f"{where} must be {{label: {{href}}}} or {{label_group: {{href}}}}")
            href = href_ref(entry[kinds[0]], f"{where}.{kinds[0]}")
            (refs.labels if kinds[0] == "label" else refs.other).add(href)
            item: dict[str, Any] = {kinds[0]: {"href": href}}
            if "exclusion" in entry:
                item["exclusion"] = bool_field(entry, "exclusion")
            entries.append(item)
        scopes.append(entries)
    return scopes


def _actors(raw: Any, where: str, refs: Refs) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise invalid(f"{where} must be a non-empty array of actors")
    actors: list[dict[str, Any]] = []
    for i, actor in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(actor, dict) or len(actor) != 1 or next(iter(actor)) not in ACTOR_KINDS:
            raise invalid(f"{at} must have exactly one of {list(ACTOR_KINDS)}")
        kind, value = next(iter(actor.items()))
        if kind == "actors":
            if value != "ams":
                raise invalid(f'{at}.actors must be "ams" (all workloads)')
            actors.append({"actors": "ams"})
            continue
        href = href_ref(value, f"{at}.{kind}")
        if kind == "label":
            refs.labels.add(href)
        elif kind == "ip_list":
            refs.ip_lists.add(href)
        else:
            refs.other.add(href)
        actors.append({kind: {"href": href}})
    return actors


def _services(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise invalid("ingress_services must be an array")
    services: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        where = f"ingress_services[{i}]"
        if isinstance(item, dict) and set(item) == {"href"}:
            services.append({"href": href_ref(item, where)})
            continue
        if not isinstance(item, dict) or not set(item) <= {"proto", "port", "to_port"}:
            raise invalid(f"{where} must be {{proto, port, to_port}} or {{href}}")
        proto = item.get("proto")
        if proto not in PROTOCOLS or isinstance(proto, bool):
            raise invalid(f"{where}.proto must be one of {list(PROTOCOLS)}")
        service: dict[str, Any] = {"proto": proto}
        for name in ("port", "to_port"):
            if name in item:
                value = item[name]
                if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                    raise invalid(f"{where}.{name} must be a port from 1 to 65535")
                service[name] = value
        if "to_port" in service and service["to_port"] < service.get("port", 65536):
            raise invalid(f"{where}.to_port must not be below port")
        services.append(service)
    return services


def rule_body(body: Any, *, creating: bool, current: Mapping[str, Any] | None = None) -> tuple[
    dict[str, Any], Refs
]:  # fmt: skip
    """A rule's fields (merged over `current` for a PUT) and the hrefs it references."""
    body = require_object(body, RULE_WRITABLE, "sec_rule")
    refs = Refs()
    fields: dict[str, Any] = dict(current or {})
    fields.pop("href", None)
    for name in ("providers", "consumers"):
        if name in body:
            fields[name] = _actors(body[name], name, refs)
        elif creating:
            raise invalid(f"{name} is required")
        else:
            _actors(fields[name], name, refs)
    if "ingress_services" in body:
        fields["ingress_services"] = _services(body["ingress_services"])
    fields.setdefault("ingress_services", [])
    if "resolve_labels_as" in body:
        fields["resolve_labels_as"] = _resolve_as(body["resolve_labels_as"])
    elif creating:
        raise invalid("resolve_labels_as is required")
    for name in ("enabled", "unscoped_consumers", "sec_connect", "machine_auth", "stateless"):
        value = bool_field(body, name)
        if value is not None:
            fields[name] = value
        fields.setdefault(name, name == "enabled")
    if "description" in body:
        fields["description"] = string_field(body, "description", nullable=True) or ""
    fields.setdefault("description", "")
    if "workloads" in fields["resolve_labels_as"]["providers"] and not fields["ingress_services"]:
        raise invalid("ingress_services is required when providers resolve as workloads")
    return fields, refs


def _resolve_as(raw: Any) -> dict[str, list[str]]:
    if not isinstance(raw, dict) or set(raw) != {"providers", "consumers"}:
        raise invalid("resolve_labels_as must be {providers: [...], consumers: [...]}")
    for side in ("providers", "consumers"):
        values = raw[side]
        if not isinstance(values, list) or not values or not set(values) <= set(RESOLVE_AS):
            raise invalid(f"resolve_labels_as.{side} must be a non-empty subset of {RESOLVE_AS}")
    return {"providers": list(raw["providers"]), "consumers": list(raw["consumers"])}


def ip_list_body(body: Any, *, creating: bool) -> dict[str, Any]:
    """An IP list's fields, each range checked as an address or CIDR."""
    body = require_object(body, IP_LIST_WRITABLE, "ip_list")
    fields: dict[str, Any] = {}
    name = string_field(body, "name", required=creating, allow_empty=False, max_len=MAX_NAME)
    if name is not None:
        fields["name"] = name
    if "description" in body:
        fields["description"] = string_field(body, "description", nullable=True) or ""
    if "ip_ranges" in body:
        fields["ip_ranges"] = _ranges(body["ip_ranges"])
    if "fqdns" in body:
        raw = body["fqdns"]
        if not isinstance(raw, list) or not all(
            isinstance(f, dict) and isinstance(f.get("fqdn"), str) and f["fqdn"] for f in raw
        ):
            raise invalid("fqdns must be an array of {fqdn}")
        fields["fqdns"] = [{"fqdn": f["fqdn"]} for f in raw]
    for name in ("external_data_set", "external_data_reference"):
        if name in body:
            fields[name] = string_field(body, name, nullable=True)
    return fields


def _ranges(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise invalid("ip_ranges must be an array of {from_ip, to_ip?, exclusion?}")
    ranges: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        where = f"ip_ranges[{i}]"
        if not isinstance(item, dict) or "from_ip" not in item:
            raise invalid(f"{where} must be an object with from_ip")
        unknown = sorted(set(item) - {"from_ip", "to_ip", "exclusion", "description"})
        if unknown:
            raise invalid(f"{where}: unknown properties {unknown}")
        entry: dict[str, Any] = {}
        try:
            ipaddress.ip_network(item["from_ip"], strict=False)
            entry["from_ip"] = item["from_ip"]
            if "to_ip" in item:
                ipaddress.ip_address(item["to_ip"])
                entry["to_ip"] = item["to_ip"]
        except (TypeError, ValueError) as error:
            raise invalid(f"{where}: not an IP address or CIDR ({error})") from None
        entry["exclusion"] = bool(bool_field(item, "exclusion"))
        if "description" in item:
            entry["description"] = string_field(item, "description", nullable=True) or ""
        ranges.append(entry)
    return ranges


def change_subset(raw: Any) -> dict[str, list[str]]:
    """`{"rule_sets": [{"href"}], ...}` as hrefs per type; every entry exactly `{href}`."""
    if not isinstance(raw, dict) or not raw:
        raise invalid("change_subset must be a non-empty object of {type: [{href}]}")
    unknown = sorted(set(raw) - set(SUBSET_TYPES))
    if unknown:
        raise invalid(f"change_subset: unknown object types {unknown}")
    subset: dict[str, list[str]] = {}
    for kind, items in raw.items():
        if not isinstance(items, list):
            raise invalid(f"change_subset.{kind} must be an array of {{href}}")
        subset[kind] = [
            href_ref(item, f"change_subset.{kind}[{i}]") for i, item in enumerate(items)
        ]
    if not any(subset.values()):
        raise invalid("change_subset lists no object: nothing to provision")
    return subset
