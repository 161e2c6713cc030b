"""Kyverno chart values: HA replicas and budgets, exclusions that survive user values."""

from __future__ import annotations

import pytest

from components.kyverno.values import (
    DEFAULT_CHART_VERSION,
    NAMESPACE_NAME_LABEL,
    KyvernoValuesError,
    excluded_namespaces,
    kyverno_values,
)

CONTROLLERS = (
    "admissionController",
    "backgroundController",
    "cleanupController",
    "reportsController",
)


def _not_in(values: dict) -> list[str]:
    expressions = values["config"]["webhooks"]["namespaceSelector"]["matchExpressions"]
    found = [
        e for e in expressions if e["key"] == NAMESPACE_NAME_LABEL and e["operator"] == "NotIn"
    ]
    assert len(found) == 1, expressions
    return found[0]["values"]


def test_default_chart_is_pinned_to_kyverno_1_19_chart():
    assert DEFAULT_CHART_VERSION == "3.9.0"


def test_ha_runs_three_admission_and_two_of_each_other_controller_with_budgets():
    values = kyverno_values(namespace="kyverno", high_availability=True)
    assert {c: values[c]["replicas"] for c in CONTROLLERS} == {
        "admissionController": 3,
        "backgroundController": 2,
        "cleanupController": 2,
        "reportsController": 2,
    }
    for controller in CONTROLLERS:
        assert values[controller]["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}


def test_without_ha_one_replica_each_and_no_budget_that_would_block_drains():
    values = kyverno_values(namespace="kyverno", high_availability=False)
    for controller in CONTROLLERS:
        assert values[controller]["replicas"] == 1
        assert values[controller]["podDisruptionBudget"]["enabled"] is False


def test_webhooks_and_resource_filters_exclude_kube_system_own_namespace_and_extras():
    values = kyverno_values(namespace="policy-engine", extra_excluded_namespaces=["illumio-system"])
    expected = ["kube-system", "policy-engine", "illumio-system"]
    assert _not_in(values) == expected
    assert values["config"]["resourceFiltersIncludeNamespaces"] == expected
    assert values["config"]["excludeKyvernoNamespace"] is True


def test_excluded_namespaces_are_ordered_and_without_repeats():
    assert excluded_namespaces("kyverno", ["kube-system", "a", "a", "kyverno"]) == [
        "kube-system",
        "kyverno",
        "a",
    ]


def test_user_values_deep_merge_over_computed_ones():
    values = kyverno_values(
        namespace="kyverno",
        high_availability=True,
        user_values={
            "admissionController": {
                "replicas": 5,
                "container": {"resources": {"limits": {"memory": "1Gi"}}},
            },
            "features": {"policyExceptions": {"enabled": True}},
        },
    )
    assert values["admissionController"]["replicas"] == 5
    assert values["admissionController"]["podDisruptionBudget"]["enabled"] is True
    assert values["admissionController"]["container"]["resources"]["limits"]["memory"] == "1Gi"
    assert values["features"]["policyExceptions"]["enabled"] is True
    assert values["backgroundController"]["replicas"] == 2


def test_user_webhook_selector_cannot_drop_the_required_exclusions():
    values = kyverno_values(
        namespace="kyverno",
        extra_excluded_namespaces=["illumio-system"],
        user_values={
            "config": {
                "webhooks": {
                    "namespaceSelector": {
                        "matchExpressions": [
                            {
                                "key": NAMESPACE_NAME_LABEL,
                                "operator": "NotIn",
                                "values": ["monitoring"],
                            },
                            {"key": "team", "operator": "Exists"},
                        ]
                    }
                },
                "resourceFiltersIncludeNamespaces": ["monitoring"],
            }
        },
    )
    assert _not_in(values) == ["kube-system", "kyverno", "illumio-system", "monitoring"]
    expressions = values["config"]["webhooks"]["namespaceSelector"]["matchExpressions"]
    assert {"key": "team", "operator": "Exists"} in expressions
    assert values["config"]["resourceFiltersIncludeNamespaces"] == [
        "kube-system",
        "kyverno",
        "illumio-system",
        "monitoring",
    ]


def test_user_selector_without_a_name_expression_gets_one_added():
    values = kyverno_values(
        namespace="kyverno",
        user_values={"config": {"webhooks": {"namespaceSelector": {"matchLabels": {"a": "b"}}}}},
    )
    assert _not_in(values) == ["kube-system", "kyverno"]
    assert values["config"]["webhooks"]["namespaceSelector"]["matchLabels"] == {"a": "b"}


def test_legacy_list_form_of_webhooks_is_refused_with_the_key_named():
    with pytest.raises(KyvernoValuesError, match=r"config\.webhooks"):
        kyverno_values(namespace="kyverno", user_values={"config": {"webhooks": [{}]}})
