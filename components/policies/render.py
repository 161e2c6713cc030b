"""Render a template as one Kyverno manifest: a ValidatingPolicy (CEL, Kyverno >= 1.17) or a
legacy ClusterPolicy with `validate.cel` (Kyverno >= 1.13), cluster-wide or namespaced.

Both APIs carry the same variables and expressions. Pod templates get Kyverno's pod-
controller autogen: a ValidatingPolicy lists the controllers in `spec.autogen`, a
ClusterPolicy gets Kyverno's default autogen for rules that match only Pods. Kyverno
derives those rules by rewriting `object.spec` to the pod template's spec, so the
expressions read the pod only through `object.spec` and `object.metadata`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from components.managed_by import MANAGED_BY, MANAGED_BY_LABEL
from components.policies.registry import get_template, validate_parameters
from components.policies.template import PolicyBody, PolicyTemplate
from components.tenancy.spec_base import (
    FailureAction,
    PolicyApi,
    check_dns_label,
)

TEMPLATE_LABEL = "tenantguard.io/policy-template"
POD_CONTROLLERS: tuple[str, ...] = (
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "jobs",
    "cronjobs",
)
OPERATIONS: tuple[str, ...] = ("CREATE", "UPDATE")
_KINDS: dict[tuple[str, bool], tuple[str, str]] = {
    ("validatingpolicy", False): ("policies.kyverno.io/v1", "ValidatingPolicy"),
    ("validatingpolicy", True): ("policies.kyverno.io/v1", "NamespacedValidatingPolicy"),
    ("clusterpolicy", False): ("kyverno.io/v1", "ClusterPolicy"),
    ("clusterpolicy", True): ("kyverno.io/v1", "Policy"),
}
_VALIDATION_ACTIONS: dict[str, str] = {"Audit": "Audit", "Enforce": "Deny"}


def _check_choice(argument: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(
            f"render(): {argument} must be one of {', '.join(map(repr, allowed))}, got {value!r}"
        )


def _check_namespace(namespace: object) -> None:
    if not isinstance(namespace, str):
        raise ValueError(
            "render(): namespace must be None (cluster-wide) or a namespace name, "
            f"got {type(namespace).__name__}"
        )
    try:
        check_dns_label(namespace)
    except ValueError as exc:
        raise ValueError(f"render(): namespace {exc}") from None


def _metadata(template: PolicyTemplate, namespace: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": template.name,
        "labels": {MANAGED_BY_LABEL: MANAGED_BY, TEMPLATE_LABEL: template.name},
        "annotations": {
            "policies.kyverno.io/title": template.title,
            "policies.kyverno.io/category": template.category,
            "policies.kyverno.io/description": template.description,
            "policies.kyverno.io/severity": template.severity,
            "policies.kyverno.io/subject": template.target.kind,
        },
    }
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata


def _cel_parts(body: PolicyBody) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    variables = [{"name": v.name, "expression": v.expression} for v in body.variables]
    validations = [{"expression": v.expression, "message": v.message} for v in body.validations]
    return variables, validations


def _validating_policy_spec(
    template: PolicyTemplate, body: PolicyBody, failure_action: str
) -> dict[str, Any]:
    variables, validations = _cel_parts(body)
    spec: dict[str, Any] = {
        "validationActions": [_VALIDATION_ACTIONS[failure_action]],
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": list(OPERATIONS),
                    "resources": [template.target.resource],
                }
            ]
        },
    }
    if template.target.autogen:
        spec["autogen"] = {"podControllers": {"controllers": list(POD_CONTROLLERS)}}
    if variables:
        spec["variables"] = variables
    spec["validations"] = validations
    return spec


def _cluster_policy_spec(
    template: PolicyTemplate, body: PolicyBody, failure_action: str
) -> dict[str, Any]:
    variables, validations = _cel_parts(body)
    cel: dict[str, Any] = {"expressions": validations}
    if variables:
        cel["variables"] = variables
    rule = {
        "name": template.name,
        "match": {
            "any": [
                {"resources": {"kinds": [template.target.kind], "operations": list(OPERATIONS)}}
            ]
        },
        "validate": {"failureAction": failure_action, "cel": cel},
    }
    return {"background": True, "rules": [rule]}


def render(
    name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    namespace: str | None = None,
    api: PolicyApi = "validatingpolicy",
    failure_action: FailureAction = "Audit",
) -> dict[str, Any]:
    """One Kyverno policy manifest (a fresh dict) for template `name` with `parameters`.

    `namespace=None` gives the cluster-wide kind (ValidatingPolicy / ClusterPolicy), a
    namespace the namespaced one (NamespacedValidatingPolicy / Policy) in that namespace.
    `failure_action` "Audit" reports violations, "Enforce" denies them. Raises
    PolicyParameterError for an unknown template or bad parameters, ValueError for a bad
    `api`, `failure_action` or `namespace`.
    """
    _check_choice("api", api, get_args(PolicyApi))
    _check_choice("failure_action", failure_action, get_args(FailureAction))
    if namespace is not None:
        _check_namespace(namespace)
    template = get_template(name)
    body = template.body(validate_parameters(name, parameters))
    api_version, kind = _KINDS[(api, namespace is not None)]
    build_spec = _validating_policy_spec if api == "validatingpolicy" else _cluster_policy_spec
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": _metadata(template, namespace),
        "spec": build_spec(template, body, failure_action),
    }
