"""render(): kinds, metadata, failure actions, matching and autogen, and argument errors."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.policies import PolicyParameterError, catalog, render
from components.policies.render import POD_CONTROLLERS

NAMES = [t.name for t in catalog()]
PARAMETERS = {t.name: t.samples().parameters for t in catalog()}


def _render(name: str, **kwargs: Any) -> dict[str, Any]:
    return render(name, PARAMETERS[name], **kwargs)


def _cel(manifest: dict[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(variables, validations) of either API."""
    spec = manifest["spec"]
    if manifest["apiVersion"] == "policies.kyverno.io/v1":
        return spec.get("variables", []), spec["validations"]
    cel = spec["rules"][0]["validate"]["cel"]
    return cel.get("variables", []), cel["expressions"]


@pytest.mark.parametrize(
    ("api", "namespace", "api_version", "kind"),
    [
        ("validatingpolicy", None, "policies.kyverno.io/v1", "ValidatingPolicy"),
        ("validatingpolicy", "team-a", "policies.kyverno.io/v1", "NamespacedValidatingPolicy"),
        ("clusterpolicy", None, "kyverno.io/v1", "ClusterPolicy"),
        ("clusterpolicy", "team-a", "kyverno.io/v1", "Policy"),
    ],
)
@pytest.mark.parametrize("name", NAMES)
def test_kind_and_metadata(
    name: str, api: str, namespace: str | None, api_version: str, kind: str
) -> None:
    manifest = _render(name, api=api, namespace=namespace)
    assert (manifest["apiVersion"], manifest["kind"]) == (api_version, kind)
    metadata = manifest["metadata"]
    assert metadata["name"] == name
    assert metadata.get("namespace") == namespace
    assert metadata["labels"] == {
        "app.kubernetes.io/managed-by": "tenantguard",
        "tenantguard.io/policy-template": name,
    }
    template = next(t for t in catalog() if t.name == name)
    annotations = metadata["annotations"]
    assert annotations["policies.kyverno.io/title"] == template.title
    assert annotations["policies.kyverno.io/category"] == template.category
    assert annotations["policies.kyverno.io/description"] == template.description
    assert annotations["policies.kyverno.io/severity"] == template.severity


def test_default_is_a_cluster_wide_audit_validating_policy() -> None:
    manifest = render("disallow-host-path")
    assert manifest["kind"] == "ValidatingPolicy"
    assert manifest["spec"]["validationActions"] == ["Audit"]
    assert "namespace" not in manifest["metadata"]


@pytest.mark.parametrize(("action", "expected"), [("Audit", ["Audit"]), ("Enforce", ["Deny"])])
def test_validating_policy_failure_action(action: str, expected: list[str]) -> None:
    for name in NAMES:
        assert _render(name, failure_action=action)["spec"]["validationActions"] == expected


@pytest.mark.parametrize("action", ["Audit", "Enforce"])
def test_cluster_policy_sets_the_rule_level_action_only(action: str) -> None:
    for name in NAMES:
        spec = _render(name, api="clusterpolicy", failure_action=action)["spec"]
        assert "validationFailureAction" not in spec
        assert "validationFailureActionOverrides" not in spec
        [rule] = spec["rules"]
        assert rule["validate"]["failureAction"] == action


@pytest.mark.parametrize("name", NAMES)
def test_both_apis_carry_identical_cel(name: str) -> None:
    assert _cel(_render(name)) == _cel(_render(name, api="clusterpolicy"))
    variables, validations = _cel(_render(name))
    assert validations and all(v["expression"] and v["message"] for v in validations)
    assert len({v["name"] for v in variables}) == len(variables)


def test_pod_templates_match_pods_and_get_autogen_for_every_controller() -> None:
    for template in catalog():
        if template.target.kind != "Pod":
            continue
        spec = _render(template.name)["spec"]
        assert spec["matchConstraints"]["resourceRules"] == [
            {
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"],
                "resources": ["pods"],
            }
        ]
        assert spec["autogen"] == {"podControllers": {"controllers": list(POD_CONTROLLERS)}}
        legacy = _render(template.name, api="clusterpolicy")
        [rule] = legacy["spec"]["rules"]
        assert rule["match"] == {
            "any": [{"resources": {"kinds": ["Pod"], "operations": ["CREATE", "UPDATE"]}}]
        }
        assert "pod-policies.kyverno.io/autogen-controllers" not in legacy["metadata"].get(
            "annotations", {}
        )


def test_nodeport_template_matches_services_without_autogen() -> None:
    spec = render("disallow-nodeport-services")["spec"]
    assert [rule["resources"] for rule in spec["matchConstraints"]["resourceRules"]] == [
        ["services"]
    ]
    assert "autogen" not in spec
    legacy = render("disallow-nodeport-services", api="clusterpolicy")["spec"]["rules"][0]
    assert legacy["match"]["any"][0]["resources"]["kinds"] == ["Service"]


@pytest.mark.parametrize(
    ("kwargs", "argument", "allowed"),
    [
        ({"api": "ValidatingPolicy"}, "api", "'validatingpolicy', 'clusterpolicy'"),
        ({"api": None}, "api", "'validatingpolicy', 'clusterpolicy'"),
        ({"failure_action": "enforce"}, "failure_action", "'Audit', 'Enforce'"),
        ({"failure_action": "Deny"}, "failure_action", "'Audit', 'Enforce'"),
    ],
)
def test_bad_api_or_failure_action_names_argument_and_choices(
    kwargs: dict[str, Any], argument: str, allowed: str
) -> None:
    with pytest.raises(ValueError) as caught:
        render("disallow-host-path", **kwargs)
    assert not isinstance(caught.value, PolicyParameterError)
    assert f"{argument} must be one of {allowed}" in str(caught.value)


@pytest.mark.parametrize("namespace", ["", "Team-A", "team_a", "a" * 64, 5])
def test_bad_namespace_is_refused(namespace: object) -> None:
    with pytest.raises(ValueError, match="render\\(\\): namespace"):
        render("disallow-host-path", namespace=namespace)  # type: ignore[arg-type]


def test_bad_parameters_raise_before_anything_is_built() -> None:
    with pytest.raises(PolicyParameterError, match="parameter 'registries'"):
        render("restrict-image-registries", {"registries": "docker.io"})
    with pytest.raises(PolicyParameterError, match="unknown parameter 'labels'"):
        render("disallow-host-path", {"labels": ["team"]})


def test_manifests_are_fresh_json_documents() -> None:
    first = _render("restrict-image-registries")
    snapshot = copy.deepcopy(first)
    first["spec"]["validations"][0]["expression"] = "true"
    first["metadata"]["labels"].clear()
    again = _render("restrict-image-registries")
    assert again == snapshot
    assert json.loads(json.dumps(again)) == again


def test_parameters_order_is_kept_and_repeats_dropped() -> None:
    manifest = render("require-labels", {"labels": ["team", "app", "team"]})
    messages = [v["message"] for v in manifest["spec"]["validations"]]
    assert messages == [
        "The label 'team' is required, with a non-empty value.",
        "The label 'app' is required, with a non-empty value.",
    ]
