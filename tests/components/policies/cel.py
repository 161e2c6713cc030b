"""Evaluate rendered Kyverno policies with cel-python, binding names the way Kyverno does.

For a ValidatingPolicy (and a legacy ClusterPolicy's `validate.cel`) Kyverno binds
`object`, `oldObject` (null on CREATE), `request` (the admission request),
`namespaceObject` and `variables` (each variable, in order). A pod policy also applies to
pod controllers through autogen: Kyverno rewrites `object.spec`/`object.metadata` (and the
`oldObject` forms) in the policy text to the pod template's paths; `evaluate_policy` does the
same textual rewrite, so Deployment- and CronJob-shaped objects are judged as in a cluster.

Matching follows the API server: a rule's resource `pods` matches only the Pod itself,
`pods/ephemeralcontainers` only that subresource, `pods/*` both, `*` every resource but no
subresource and `*/x` subresource x of anything (`evaluate_policy(..., subresource=...)`).
ValidatingPolicy autogen applies, as in Kyverno's `CanAutoGen`, only to a policy whose single
resource rule is exactly `""/v1/pods`, and never to a subresource request. A legacy rule
matching `Pod` also matches the `ephemeralcontainers` subresource (Kyverno adds it itself);
a legacy kind `Pod/<sub>` matches that subresource only.

cel-python's `has()` answers false when the operand itself is missing; cel-go raises an
error. `StrictEvaluator` follows cel-go, so an unguarded `has(a.b.c)` fails here too.
Any error or non-boolean result raises `CelEvaluationError`: for a valid resource that is
a defect of the policy, never a verdict.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError, Evaluator

# Kyverno's autogen rewrite (pkg/cel/autogen): pod fields move under the pod template.
_DEFAULT_REPLACEMENTS = (
    ("object.spec", "object.spec.template.spec"),
    ("oldObject.spec", "oldObject.spec.template.spec"),
    ("object.metadata", "object.spec.template.metadata"),
    ("oldObject.metadata", "oldObject.spec.template.metadata"),
)
_CRONJOB_REPLACEMENTS = (
    ("object.spec", "object.spec.jobTemplate.spec.template.spec"),
    ("oldObject.spec", "oldObject.spec.jobTemplate.spec.template.spec"),
    ("object.metadata", "object.spec.jobTemplate.spec.template.metadata"),
    ("oldObject.metadata", "oldObject.spec.jobTemplate.spec.template.metadata"),
)
# kind -> (group, version, resource); the controllers are those Kyverno generates rules for.
RESOURCES: dict[str, tuple[str, str, str]] = {
    "Pod": ("", "v1", "pods"),
    "Service": ("", "v1", "services"),
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
}
_VP_AUTOGEN_DEFAULT = (
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "jobs",
    "cronjobs",
)
_LEGACY_AUTOGEN_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
_NAMESPACED_KINDS = {"NamespacedValidatingPolicy", "Policy"}


class CelEvaluationError(AssertionError):
    """An expression failed to evaluate, or returned something other than a boolean."""


class StrictEvaluator(Evaluator):
    """cel-python's evaluator with cel-go's `has()`: a missing operand is an error."""

    def sub_evaluator(self, ast: lark.Tree) -> Evaluator:
        return StrictEvaluator(ast, activation=self.activation)

    def macro_has_eval(self, exprlist: lark.Tree) -> Any:
        node: Any = exprlist.children[0]
        while isinstance(node, lark.Tree) and node.data != "member_dot" and len(node.children) == 1:
            node = node.children[0]
        if not (isinstance(node, lark.Tree) and node.data == "member_dot"):
            return CELEvalError("has() takes a field selection such as has(x.f)")
        operand, name = node.children
        value = self.visit(operand)
        if isinstance(value, CELEvalError):
            return value
        if isinstance(value, celtypes.MapType):
            return celtypes.BoolType(celtypes.StringType(name.value) in value)
        return CELEvalError(f"has() on a {type(value).__name__}, which has no fields")


class StrictRunner(celpy.InterpretedRunner):
    """Runs a compiled expression with `StrictEvaluator`."""

    def evaluate(self, context: Any) -> Any:
        return StrictEvaluator(ast=self.ast, activation=self.new_activation()).evaluate(context)


_ENV = celpy.Environment(runner_class=StrictRunner)


@functools.cache
def _program(expression: str) -> celpy.Runner:
    return _ENV.program(_ENV.compile(expression))


def _run(expression: str, activation: dict[str, Any]) -> Any:
    try:
        return _program(expression).evaluate(activation)
    except CELEvalError as exc:
        raise CelEvaluationError(f"{expression!r} failed: {exc}") from exc


def evaluate_expression(expression: str, bindings: dict[str, Any]) -> Any:
    """The CEL value of `expression` with `bindings` (JSON-like values); raises on error."""
    return _run(expression, {name: json_to_cel(value) for name, value in bindings.items()})


def to_python(value: Any) -> Any:
    """A celpy value as plain Python (str, bool, int, list, dict)."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.IntType):
        return int(value)
    if isinstance(value, celtypes.ListType):
        return [to_python(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {to_python(k): to_python(v) for k, v in value.items()}
    return value


@dataclass
class Verdict:
    """What a policy decided about one resource."""

    matched: bool
    failures: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class _Cel:
    variables: list[dict[str, str]]
    validations: list[dict[str, str]]


def rewrite_for_controller(data: Any, kind: str) -> Any:
    """`data` (policy CEL parts) rewritten by Kyverno's autogen text replacement for `kind`."""
    text = json.dumps(data)
    for old, new in _CRONJOB_REPLACEMENTS if kind == "CronJob" else _DEFAULT_REPLACEMENTS:
        text = text.replace(old, new)
    return json.loads(text)


def _listed(value: str, allowed: list[str]) -> bool:
    return value in allowed or "*" in allowed


def rule_matches(
    rule: dict[str, Any],
    group: str,
    version: str,
    resource: str,
    subresource: str,
    operation: str,
) -> bool:
    """Whether an admission `rule` (apiGroups, apiVersions, operations, resources) matches,
    resource and subresource compared as the API server's webhook rule matcher does."""
    if not (
        _listed(group, rule["apiGroups"])
        and _listed(version, rule["apiVersions"])
        and _listed(operation, rule["operations"])
    ):
        return False
    for entry in rule["resources"]:
        res, _, sub = entry.partition("/")
        if res in ("*", resource) and sub in ("*", subresource):
            return True
    return False


def _can_autogen(rules: list[dict[str, Any]]) -> bool:
    """Kyverno's CanAutoGen for a ValidatingPolicy's resource rules."""
    if len(rules) != 1:
        return False
    [rule] = rules
    return (
        rule["apiGroups"] == [""]
        and rule["apiVersions"] == ["v1"]
        and rule["resources"] == ["pods"]
        and not rule.get("resourceNames")
    )


def _policy_cel(
    manifest: dict[str, Any], obj: dict[str, Any], operation: str, subresource: str = ""
) -> _Cel | None:
    """The CEL that applies to `obj`, after autogen if it is a pod controller; None if none."""
    kind = obj["kind"]
    group, version, resource = RESOURCES[kind]
    spec = manifest["spec"]
    if manifest["kind"] in _NAMESPACED_KINDS and obj["metadata"].get("namespace") != manifest[
        "metadata"
    ].get("namespace"):
        return None
    if manifest["apiVersion"] == "policies.kyverno.io/v1":
        cel = _Cel(spec.get("variables", []), spec["validations"])
        rules = spec["matchConstraints"]["resourceRules"]
        for rule in rules:
            if rule_matches(rule, group, version, resource, subresource, operation):
                return cel
        configured = spec.get("autogen", {}).get("podControllers", {}).get("controllers")
        controllers = _VP_AUTOGEN_DEFAULT if configured is None else configured
        if (
            not subresource
            and _can_autogen(rules)
            and resource in controllers
            and operation in rules[0]["operations"]
        ):
            return _Cel(*rewrite_for_controller([cel.variables, cel.validations], kind))
        return None
    [rule] = spec["rules"]
    [match] = rule["match"]["any"]
    kinds = match["resources"]["kinds"]
    if operation not in match["resources"].get("operations", ["CREATE", "UPDATE"]):
        return None
    cel_block = rule["validate"]["cel"]
    cel = _Cel(cel_block.get("variables", []), cel_block["expressions"])
    if subresource:
        implicit = kind == "Pod" and subresource == "ephemeralcontainers" and "Pod" in kinds
        return cel if implicit or f"{kind}/{subresource}" in kinds else None
    if kind in kinds:
        return cel
    autogen = (
        manifest["metadata"]
        .get("annotations", {})
        .get("pod-policies.kyverno.io/autogen-controllers")
    )
    if kinds == ["Pod"] and autogen != "none" and kind in _LEGACY_AUTOGEN_KINDS:
        return _Cel(*rewrite_for_controller([cel.variables, cel.validations], kind))
    return None


def evaluate_policy(
    manifest: dict[str, Any],
    obj: dict[str, Any],
    *,
    operation: str = "CREATE",
    old_object: dict[str, Any] | None = None,
    namespace_object: dict[str, Any] | None = None,
    username: str = "system:serviceaccount:ci:deployer",
    subresource: str = "",
) -> Verdict:
    """Evaluate a rendered policy against `obj` as Kyverno's admission check would.

    `subresource` names the subresource written (`ephemeralcontainers` for `kubectl debug`,
    an UPDATE whose object is the whole Pod); empty for the resource itself.
    """
    cel = _policy_cel(manifest, obj, operation, subresource)
    if cel is None:
        return Verdict(matched=False)
    group, version, resource = RESOURCES[obj["kind"]]
    request = {
        "operation": operation,
        "kind": {"group": group, "version": version, "kind": obj["kind"]},
        "resource": {"group": group, "version": version, "resource": resource},
        "subResource": subresource,
        "name": obj["metadata"].get("name", ""),
        "namespace": obj["metadata"].get("namespace", ""),
        "userInfo": {"username": username},
    }
    bindings = {
        "object": obj,
        "oldObject": old_object,
        "request": request,
        "namespaceObject": namespace_object,
    }
    activation = {name: json_to_cel(value) for name, value in bindings.items()}
    variables = activation["variables"] = celtypes.MapType({})
    for variable in cel.variables:
        value = _run(variable["expression"], activation)
        variables[celtypes.StringType(variable["name"])] = value
    failures: list[str] = []
    for validation in cel.validations:
        result = _run(validation["expression"], activation)
        if not isinstance(result, celtypes.BoolType):
            raise CelEvaluationError(
                f"{validation['expression']!r} returned {result!r}, not a boolean"
            )
        if not result:
            failures.append(validation["message"])
    return Verdict(matched=True, failures=failures)


def as_controller(pod: dict[str, Any], kind: str) -> dict[str, Any]:
    """`pod` wrapped as the pod template of a `kind` controller (Deployment, CronJob, ...)."""
    metadata = copy.deepcopy(pod.get("metadata", {}))
    template = {"metadata": metadata, "spec": copy.deepcopy(pod["spec"])}
    workload: dict[str, Any] = {"template": template}
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}:
        workload["selector"] = {"matchLabels": metadata.get("labels") or {"app": "sample"}}
    if kind == "CronJob":
        workload = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": workload}}
    group, version, _ = RESOURCES[kind]
    return {
        "apiVersion": f"{group}/{version}",
        "kind": kind,
        "metadata": {k: v for k, v in metadata.items() if k in {"name", "namespace"}},
        "spec": workload,
    }
