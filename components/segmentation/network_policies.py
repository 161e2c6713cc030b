"""A project's NetworkPolicies, as plain manifests (dicts), built from its segmentation
intent (`components.segmentation.intent`): default-deny both ways, then DNS, the namespace
itself, the egress CIDRs, the projects it may reach or be reached from on their ports, and
each platform namespace flow (an app's ingress controller included).
"""

from __future__ import annotations

from typing import Any

from components.segmentation.intent import NamespaceFlow, PeerFlow, Port, ProjectIntent
from components.tenancy.app_models import AppSpec

Manifest = dict[str, Any]

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS: dict[str, str] = {"k8s-app": "kube-dns"}
"""kube-dns and CoreDNS both run with this label in kube-system."""
DNS_PORT = 53
INGRESS_POLICY_PREFIX = "allow-ingress-controller-"


def _network_policy(
    name: str, namespace: str, labels: dict[str, str], spec: dict[str, Any]
) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"podSelector": {}, **spec},
    }


def network_policy_manifests(
    namespace: str, egress_cidrs: list[str], labels: dict[str, str], *, allow_dns: bool = True
) -> list[Manifest]:
    """Default-deny both ways, then allow DNS, the namespace itself and the egress CIDRs."""
    policies = [
        _network_policy("default-deny", namespace, labels, {"policyTypes": ["Ingress", "Egress"]}),
    ]
    if allow_dns:
        policies.append(_dns_policy(namespace, labels))
    policies.append(
        _network_policy(
            "allow-same-namespace",
            namespace,
            labels,
            {
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        )
    )
    if egress_cidrs:
        policies.append(
            _network_policy(
                "allow-egress-baseline",
                namespace,
                labels,
                {
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"ipBlock": {"cidr": cidr}} for cidr in egress_cidrs]}],
                },
            )
        )
    return policies


def _dns_policy(namespace: str, labels: dict[str, str]) -> Manifest:
    return _network_policy(
        "allow-dns",
        namespace,
        labels,
        {
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {NAMESPACE_NAME_LABEL: DNS_NAMESPACE}
                            },
                            "podSelector": {"matchLabels": dict(DNS_POD_LABELS)},
                        }
                    ],
                    "ports": [
                        {"protocol": "UDP", "port": DNS_PORT},
                        {"protocol": "TCP", "port": DNS_PORT},
                    ],
                }
            ],
        },
    )


def ingress_controller_policy_name(app: AppSpec) -> str:
    """`allow-ingress-controller-<app>`: the NetworkPolicy that opens the app to the ingress."""
    return f"{INGRESS_POLICY_PREFIX}{app.name}"


def _ports(ports: tuple[Port, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for port in ports:
        entry: dict[str, Any] = {"protocol": port.protocol}
        if port.port is not None:
            entry["port"] = port.port
            if port.to_port is not None and port.to_port != port.port:
                entry["endPort"] = port.to_port
        out.append(entry)
    return out


def _namespace_peer(namespace: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}


def peer_policies(
    namespace: str,
    ingress: tuple[PeerFlow, ...],
    egress: tuple[PeerFlow, ...],
    labels: dict[str, str],
) -> list[Manifest]:
    """`allow-from-<peer ns>` for each project that may reach this one, and
    `allow-to-<peer ns>` for each project this one may reach, on the flow's ports."""
    policies = [
        _network_policy(
            f"allow-from-{flow.peer.namespace}",
            namespace,
            labels,
            {
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [_namespace_peer(flow.peer.namespace)], "ports": _ports(flow.ports)}
                ],
            },
        )
        for flow in ingress
    ]
    policies += [
        _network_policy(
            f"allow-to-{flow.peer.namespace}",
            namespace,
            labels,
            {
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [_namespace_peer(flow.peer.namespace)], "ports": _ports(flow.ports)}
                ],
            },
        )
        for flow in egress
    ]
    return policies


def namespace_flow_policies(
    namespace: str, flows: tuple[NamespaceFlow, ...], labels: dict[str, str]
) -> list[Manifest]:
    """`allow-<flow>` for each platform namespace flow: its namespace may reach the project
    (or only the app's pods) on the flow's ports, and nothing else."""
    policies = []
    for flow in flows:
        policy = _network_policy(
            f"allow-{flow.name}",
            namespace,
            labels,
            {
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [_namespace_peer(flow.namespace)], "ports": _ports(flow.ports)}
                ],
            },
        )
        if flow.pods is not None:
            policy["spec"]["podSelector"] = {"matchLabels": dict(flow.pods)}
        policies.append(policy)
    return policies


def project_network_policies(intent: ProjectIntent, labels: dict[str, str]) -> list[Manifest]:
    """Every NetworkPolicy of the project, from its intent (the same one its PCE rules use)."""
    namespace = intent.project.namespace
    return [
        *network_policy_manifests(
            namespace, list(intent.egress_cidrs), labels, allow_dns=intent.allow_dns
        ),
        *peer_policies(namespace, intent.ingress_from_projects, intent.egress_to_projects, labels),
        *namespace_flow_policies(namespace, intent.ingress_from_namespaces, labels),
    ]


__all__ = [
    "DNS_NAMESPACE",
    "DNS_POD_LABELS",
    "DNS_PORT",
    "NAMESPACE_NAME_LABEL",
    "ingress_controller_policy_name",
    "namespace_flow_policies",
    "network_policy_manifests",
    "peer_policies",
    "project_network_policies",
]
