"""Every manifest a template needs: the main policy and, for `kubectl debug`, a companion.

`kubectl debug` adds an ephemeral container to a running pod by PATCHing the pod's
`pods/ephemeralcontainers` subresource; the API server presents that to admission as an
UPDATE of subresource `ephemeralcontainers` (the object is the whole Pod). A ValidatingPolicy
matching `pods` never sees it, so without help a debug container could be privileged, run
as root, be Unconfined or come from any registry. Kyverno adds the subresource itself to a
legacy ClusterPolicy/Policy that matches Pods, so only the ValidatingPolicy API needs more.

The main policy cannot simply list the subresource too: Kyverno generates the pod-controller
rules (autogen) only for a policy whose single resource rule is exactly `pods`. So each
template that inspects ephemeral containers gets a COMPANION ValidatingPolicy (or
NamespacedValidatingPolicy) named `<template>-ephemeral` that matches UPDATE on
`pods/ephemeralcontainers` only (that subresource has no other write verb) and judges the
pod's `spec.ephemeralContainers` with the template's own rules and messages. Pod-level
settings that an ephemeral container inherits (`spec.securityContext.runAsNonRoot`, the
pod's seccomp profile) are still read.

A template needs a companion when its CEL reads `ephemeralContainers` (every container
check: privileged, capabilities, seccomp, privilege escalation, runAsNonRoot, image tag,
image registry, drop ALL). Checks of pod-level fields (host namespaces, hostPath volumes,
labels) and of resources (which ephemeral containers may not declare) do not: the
subresource can change nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.policies.expressions import ALL_CONTAINERS, EPHEMERAL_CONTAINERS
from components.policies.registry import get_template, validate_parameters
from components.policies.render import FailureAction, PolicyApi, render
from components.policies.template import PolicyBody, PolicyTemplate

EPHEMERAL_SUFFIX = "-ephemeral"
"""A companion is named `<template><EPHEMERAL_SUFFIX>`, e.g. `restrict-seccomp-ephemeral`."""
EPHEMERAL_SUBRESOURCE = "pods/ephemeralcontainers"
EPHEMERAL_OPERATIONS: tuple[str, ...] = ("UPDATE",)
COMPANION_LABEL = "tenantguard.io/policy-companion"
"""Label on a companion, valued `ephemeralcontainers`; the template label is the template's."""


def companion_name(name: str) -> str:
    """The name of template `name`'s `pods/ephemeralcontainers` companion policy."""
    return name + EPHEMERAL_SUFFIX


def inspects_ephemeral_containers(template: PolicyTemplate, body: PolicyBody) -> bool:
    """Whether `body` (built by `template`) reads the pod's ephemeral containers."""
    texts = [v.expression for v in body.variables] + [v.expression for v in body.validations]
    return template.target.autogen and any("ephemeralContainers" in text for text in texts)


def _ephemeral_only(body: PolicyBody) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The body's CEL with every all-containers list narrowed to the ephemeral containers."""
    variables = [
        {
            "name": v.name,
            "expression": EPHEMERAL_CONTAINERS if v.expression == ALL_CONTAINERS else v.expression,
        }
        for v in body.variables
    ]
    validations = [{"expression": v.expression, "message": v.message} for v in body.validations]
    return variables, validations


def _companion(main: dict[str, Any], body: PolicyBody) -> dict[str, Any]:
    metadata = main["metadata"]
    annotations = dict(metadata["annotations"])
    annotations["policies.kyverno.io/title"] += " (kubectl debug)"
    annotations["policies.kyverno.io/description"] += (
        " This companion applies the same rules to ephemeral containers added to a running "
        "pod through the pods/ephemeralcontainers subresource (kubectl debug)."
    )
    variables, validations = _ephemeral_only(body)
    spec: dict[str, Any] = {
        "validationActions": list(main["spec"]["validationActions"]),
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": list(EPHEMERAL_OPERATIONS),
                    "resources": [EPHEMERAL_SUBRESOURCE],
                }
            ]
        },
    }
    if variables:
        spec["variables"] = variables
    spec["validations"] = validations
    companion_metadata: dict[str, Any] = {
        "name": companion_name(metadata["name"]),
        "labels": {**metadata["labels"], COMPANION_LABEL: "ephemeralcontainers"},
        "annotations": annotations,
    }
    if "namespace" in metadata:
        companion_metadata["namespace"] = metadata["namespace"]
    return {
        "apiVersion": main["apiVersion"],
        "kind": main["kind"],
        "metadata": companion_metadata,
        "spec": spec,
    }


def render_set(
    name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    namespace: str | None = None,
    api: PolicyApi = "validatingpolicy",
    failure_action: FailureAction = "Audit",
) -> list[dict[str, Any]]:
    """Every manifest (fresh dicts) that enforces template `name`: `render(...)` first, then,
    for a ValidatingPolicy of a template that inspects ephemeral containers, its companion
    `<name>-ephemeral` matching UPDATE of `pods/ephemeralcontainers` (`kubectl debug`).

    Arguments, defaults and errors are exactly `render`'s. The legacy API (`clusterpolicy`)
    and templates that do not inspect ephemeral containers give `[render(...)]`.
    """
    main = render(name, parameters, namespace=namespace, api=api, failure_action=failure_action)
    if api != "validatingpolicy":
        return [main]
    template = get_template(name)
    body = template.body(validate_parameters(name, parameters))
    if not inspects_ephemeral_containers(template, body):
        return [main]
    return [main, _companion(main, body)]
