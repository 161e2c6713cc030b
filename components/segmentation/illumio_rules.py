"""A project's PCE rule set and the stack's IP lists, built from the segmentation intent
(the one `network_policies` is built from). Pure data in the providers' input form, with
labels and IP lists named by (key, value) and by name: the component turns them into hrefs.

Per project, scoped to its identity labels (`SCOPE_KEYS`):
- everything within the project (TCP, UDP and ICMP, all ports);
- DNS (UDP and TCP 53) to the stack's DNS IP list;
- everything to its egress IP list;
- from each project `allowFrom` names, on the flow's ports (an extra-scope rule);
- from each platform namespace flow that names its workloads' PCE labels.
Nothing else, so no rule lets one project reach another unless the spec says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from components.segmentation.intent import ANY_ADDRESS, DNS_PORTS, Port, ProjectIntent

Labels = tuple[tuple[str, str], ...]
RULE_SET_PREFIX = "tenantguard"
INTRA_PROJECT_SERVICES: tuple[dict[str, object], ...] = (
    {"proto": "tcp"},
    {"proto": "udp"},
    {"proto": "icmp"},
)


@dataclass(frozen=True)
class Actor:
    """A rule's provider or consumer: all workloads in scope, a label set, or an IP list."""

    kind: str  # "ams", "labels" or "ip_list"
    labels: Labels = ()
    ip_list: str = ""


ALL_IN_SCOPE = Actor("ams")


@dataclass(frozen=True)
class RuleSpec:
    """One rule: `consumers` may open connections to `providers` on `services`."""

    description: str
    providers: Actor
    consumers: Actor
    services: tuple[dict[str, object], ...]
    unscoped_consumers: bool = False


@dataclass(frozen=True)
class RuleSetSpec:
    """A project's rule set: its PCE name, its scope and its rules."""

    name: str
    description: str
    scope: Labels
    rules: tuple[RuleSpec, ...]


def services(ports: Sequence[Port]) -> tuple[dict[str, object], ...]:
    """The providers' service form of `ports`: {proto, port, to_port}."""
    out = []
    for port in ports:
        service: dict[str, object] = {"proto": port.protocol.lower()}
        if port.port is not None:
            service["port"] = port.port
            if port.to_port is not None and port.to_port != port.port:
                service["to_port"] = port.to_port
        out.append(service)
    return tuple(out)


def dns_ip_list_name(cluster: str) -> str:
    return f"{RULE_SET_PREFIX}-{cluster}-dns"


def egress_ip_list_name(cluster: str, intent: ProjectIntent, baseline: Sequence[str]) -> str:
    """The stack's shared baseline list, or the project's own when it narrows the baseline."""
    if tuple(intent.egress_cidrs) == tuple(baseline):
        return f"{RULE_SET_PREFIX}-{cluster}-egress"
    return f"{RULE_SET_PREFIX}-{cluster}-{intent.project.namespace}-egress"


def rule_set_name(cluster: str, intent: ProjectIntent) -> str:
    return f"{RULE_SET_PREFIX}-{cluster}-{intent.project.namespace}"


def project_rule_set(
    cluster: str, intent: ProjectIntent, baseline: Sequence[str], *, dns: bool = True
) -> RuleSetSpec:
    """The rule set of one project, from its intent; `dns=False` when the stack has no DNS
    IP list (never in practice: the DNS list defaults to any address)."""
    who = intent.project.key
    rules = [
        RuleSpec(f"{who}: within the project", ALL_IN_SCOPE, ALL_IN_SCOPE, INTRA_PROJECT_SERVICES)
    ]
    if intent.allow_dns and dns:
        rules.append(
            RuleSpec(
                f"{who}: cluster DNS",
                Actor("ip_list", ip_list=dns_ip_list_name(cluster)),
                ALL_IN_SCOPE,
                services(DNS_PORTS),
            )
        )
    if intent.egress_cidrs:
        rules.append(
            RuleSpec(
                f"{who}: egress {', '.join(intent.egress_cidrs)}",
                Actor("ip_list", ip_list=egress_ip_list_name(cluster, intent, baseline)),
                ALL_IN_SCOPE,
                INTRA_PROJECT_SERVICES[:2],
            )
        )
    for flow in intent.ingress_from_projects:
        rules.append(
            RuleSpec(
                f"{who}: from project {flow.peer.key}",
                ALL_IN_SCOPE,
                Actor("labels", labels=flow.peer.scope),
                services(flow.ports),
                unscoped_consumers=True,
            )
        )
    for ns in intent.ingress_from_namespaces:
        if not ns.illumio_labels:
            continue
        rules.append(
            RuleSpec(
                f"{who}: from namespace {ns.namespace} ({ns.name})",
                ALL_IN_SCOPE,
                Actor("labels", labels=ns.illumio_labels),
                services(ns.ports),
                unscoped_consumers=True,
            )
        )
    return RuleSetSpec(
        name=rule_set_name(cluster, intent),
        description=f"tenantguard segmentation of project {who} (namespace "
        f"{intent.project.namespace})",
        scope=intent.project.scope,
        rules=tuple(rules),
    )


def ip_lists(
    cluster: str,
    intents: Mapping[str, ProjectIntent],
    baseline: Sequence[str],
    dns_cidrs: Sequence[str],
) -> dict[str, tuple[str, ...]]:
    """Every IP list the stack's rule sets use: name -> address ranges, in a stable order."""
    lists: dict[str, tuple[str, ...]] = {}
    if any(intent.allow_dns for intent in intents.values()):
        lists[dns_ip_list_name(cluster)] = tuple(dns_cidrs) or ANY_ADDRESS
    for intent in intents.values():
        if intent.egress_cidrs:
            lists.setdefault(egress_ip_list_name(cluster, intent, baseline), intent.egress_cidrs)
    return lists


def rule_labels(rule_set: RuleSetSpec) -> set[tuple[str, str]]:
    """Every (key, value) label the rule set names, in its scope or its rules."""
    found = set(rule_set.scope)
    for rule in rule_set.rules:
        for actor in (rule.providers, rule.consumers):
            found.update(actor.labels)
    return found
