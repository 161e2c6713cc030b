"""Helm values for the Kyverno chart (3.x): controller replicas, disruption budgets, exclusions.

Pure functions, no Pulumi: the Kyverno component hands the result to a Helm Release.
The keys are the chart's own (`admissionController.replicas`,
`<controller>.podDisruptionBudget.enabled`, `config.webhooks.namespaceSelector`,
`config.resourceFiltersIncludeNamespaces`, `config.excludeKyvernoNamespace`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from components.helm_values import deep_merge

CHART_NAME = "kyverno"
CHART_REPOSITORY = "https://kyverno.github.io/kyverno/"
DEFAULT_CHART_VERSION = "3.9.0"
"""Chart 3.9.0 ships Kyverno 1.19."""

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
ALWAYS_EXCLUDED_NAMESPACES: tuple[str, ...] = ("kube-system",)
"""Namespaces Kyverno never sees, besides its own: the control plane must not wait on a webhook."""

HA_REPLICAS: dict[str, int] = {
    "admissionController": 3,
    "backgroundController": 2,
    "cleanupController": 2,
    "reportsController": 2,
}
"""Kyverno's documented HA minimum: three admission replicas (no leader election on
webhooks), two for each leader-elected controller."""


class KyvernoValuesError(ValueError):
    """User values that would break a guarantee the component makes (e.g. webhook exclusions)."""


def excluded_namespaces(kyverno_namespace: str, extra: Iterable[str] = ()) -> list[str]:
    """kube-system, Kyverno's own namespace, then `extra`, in that order and without repeats."""
    ordered: list[str] = []
    for namespace in (*ALWAYS_EXCLUDED_NAMESPACES, kyverno_namespace, *extra):
        if namespace not in ordered:
            ordered.append(namespace)
    return ordered


def controller_values(high_availability: bool) -> dict[str, Any]:
    """Replica counts for the four controllers, with a PodDisruptionBudget each when HA.

    Without HA every controller runs one replica and no budget (a budget of
    minAvailable 1 over one pod would block every node drain).
    """
    values: dict[str, Any] = {}
    for controller, ha_replicas in HA_REPLICAS.items():
        replicas = ha_replicas if high_availability else 1
        values[controller] = {
            "replicas": replicas,
            "podDisruptionBudget": {"enabled": high_availability, "minAvailable": 1},
        }
    return values


def exclusion_values(namespaces: Iterable[str]) -> dict[str, Any]:
    """Keep `namespaces` out of both the admission webhooks and the engine's resource filters.

    The webhook `namespaceSelector` stops the API server from ever calling Kyverno for
    those namespaces (a Kyverno outage cannot block them); the resource filters cover
    work that does not come through a webhook (background scans, generate rules).
    """
    names = list(namespaces)
    return {
        "config": {
            "excludeKyvernoNamespace": True,
            "webhooks": {
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": names}
                    ]
                }
            },
            "resourceFiltersIncludeNamespaces": names,
        }
    }


def _ensure_exclusions(values: dict[str, Any], namespaces: list[str]) -> dict[str, Any]:
    """Re-add required exclusions that user values replaced (lists replace on merge)."""
    config = values.setdefault("config", {})
    if not isinstance(config, dict):
        raise KyvernoValuesError("values.config must be a mapping")
    webhooks = config.setdefault("webhooks", {})
    if not isinstance(webhooks, dict):
        raise KyvernoValuesError(
            "values.config.webhooks must be a mapping with namespaceSelector/objectSelector "
            "(the chart 3.x form), not a list"
        )
    selector = webhooks.get("namespaceSelector")
    if selector is None:
        selector = webhooks["namespaceSelector"] = {}
    expressions = selector.get("matchExpressions")
    if expressions is None:
        expressions = selector["matchExpressions"] = []
    for expression in expressions:
        if expression.get("key") == NAMESPACE_NAME_LABEL and expression.get("operator") == "NotIn":
            present = list(expression.get("values") or [])
            expression["values"] = namespaces + [n for n in present if n not in namespaces]
            break
    else:
        expressions.append({"key": NAMESPACE_NAME_LABEL, "operator": "NotIn", "values": namespaces})
    included = list(config.get("resourceFiltersIncludeNamespaces") or [])
    config["resourceFiltersIncludeNamespaces"] = namespaces + [
        n for n in included if n not in namespaces
    ]
    return values


def kyverno_values(
    *,
    namespace: str,
    high_availability: bool = False,
    extra_excluded_namespaces: Iterable[str] = (),
    user_values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The chart values: computed ones, `user_values` deep-merged over them, exclusions kept.

    User values win everywhere except that kube-system, Kyverno's namespace and the
    extra namespaces always stay excluded from the webhooks and the resource filters.
    """
    namespaces = excluded_namespaces(namespace, extra_excluded_namespaces)
    computed = deep_merge(controller_values(high_availability), exclusion_values(namespaces))
    merged = deep_merge(computed, user_values or {})
    return _ensure_exclusions(merged, namespaces)
