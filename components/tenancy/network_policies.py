"""A project's NetworkPolicies, as plain manifests (dicts): default-deny both ways, then
DNS, the namespace itself, the platform's egress baseline, and for each app with a host the
ingress controller's namespace on that app's port.
"""

from __future__ import annotations

from typing import Any

from components.tenancy.app_models import AppSpec
from components.tenancy.apps import selector_labels

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
    namespace: str, egress_cidrs: list[str], labels: dict[str, str]
) -> list[Manifest]:
    """Default-deny both ways, then allow DNS, the namespace itself and the egress baseline."""
    policies = [
        _network_policy("default-deny", namespace, labels, {"policyTypes": ["Ingress", "Egress"]}),
        _network_policy(
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
        ),
        _network_policy(
            "allow-same-namespace",
            namespace,
            labels,
            {
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        ),
    ]
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


def ingress_controller_policy_name(app: AppSpec) -> str:
    """`allow-ingress-controller-<app>`: the NetworkPolicy that opens the app to the ingress."""
    return f"{INGRESS_POLICY_PREFIX}{app.name}"


def ingress_controller_policies(
    namespace: str, apps: list[AppSpec], ingress_namespace: str, labels: dict[str, str]
) -> list[Manifest]:
    """For each app with a host: the ingress controller's namespace may reach the app's pods
    on the app's port (TCP), and nothing else. Apps without a host get nothing."""
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": ingress_controller_policy_name(app),
                "namespace": namespace,
                "labels": dict(labels),
            },
            "spec": {
                "podSelector": {"matchLabels": selector_labels(app)},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {NAMESPACE_NAME_LABEL: ingress_namespace}
                                }
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": app.port}],
                    }
                ],
            },
        }
        for app in apps
        if app.host is not None
    ]


__all__ = [
    "DNS_NAMESPACE",
    "DNS_POD_LABELS",
    "DNS_PORT",
    "NAMESPACE_NAME_LABEL",
    "ingress_controller_policies",
    "ingress_controller_policy_name",
    "network_policy_manifests",
]
