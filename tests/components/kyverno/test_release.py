"""components.Kyverno under recording mocks: release, values, policies, outputs, refusals."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.kyverno.release import Kyverno, KyvernoArgs
from components.policies import render
from components.tenancy.models import PolicyRef
from components.tenancy.validation import TenancyValidationError
from tests.components.k8s_schema import validate_manifest
from tests.components.kyverno_schema import validate_kyverno
from tests.components.mocked import KYVERNO_TYPE, RELEASE_TYPE, run
from tests.components.mocked import refused as refused_by
from tests.pulumi_mocks import Recording, run_mocked

NAME_LABEL = "kubernetes.io/metadata.name"
BASELINE = [
    PolicyRef(name="disallow-privileged-containers"),
    PolicyRef(name="require-labels", parameters={"labels": ["app.kubernetes.io/name"]}),
]


def build(**kwargs: Any) -> Recording:
    def program() -> None:
        kyverno = Kyverno("kyverno", KyvernoArgs(**kwargs))
        pulumi.export("chart_version", kyverno.chart_version)
        pulumi.export("app_version", kyverno.app_version)
        pulumi.export("status", kyverno.status)
        pulumi.export("namespace", kyverno.namespace)

    return run(program)


def policies(recording: Recording) -> list[Any]:
    return [r for r in recording.resources if "kyverno.io" in r.type]


def manifest_of(resource: Any) -> dict[str, Any]:
    return {k: v for k, v in resource.inputs.items() if not k.startswith("__")}


@pytest.fixture(scope="module")
def ha() -> Recording:
    return build(high_availability=True, excluded_namespaces=["illumio-system"], policies=BASELINE)


def test_graph_namespace_release_and_policies_under_the_component(ha: Recording):
    component = ha.named("kyverno", KYVERNO_TYPE)
    namespace = ha.named("kyverno-namespace", "kubernetes:core/v1:Namespace")
    release = ha.named("kyverno-release", RELEASE_TYPE)
    names = sorted(p.name for p in policies(ha))
    assert names == [
        "kyverno-policy-disallow-privileged-containers",
        "kyverno-policy-disallow-privileged-containers-ephemeral",  # the kubectl debug check
        "kyverno-policy-require-labels",
    ]
    for resource in (namespace, release, *policies(ha)):
        assert resource.parent == component.urn
    assert namespace.inputs["metadata"]["name"] == "kyverno"
    validate_manifest(manifest_of(namespace))
    assert namespace.urn in release.dependencies


def test_policies_depend_on_the_release_so_destroy_removes_them_first(ha: Recording):
    release = ha.named("kyverno-release")
    for policy in policies(ha):
        assert release.urn in policy.dependencies


def test_policies_are_cluster_wide_and_valid_for_the_kyverno_crds(ha: Recording):
    for policy in policies(ha):
        assert policy.type == "kubernetes:policies.kyverno.io/v1:ValidatingPolicy"
        assert "namespace" not in policy.inputs["metadata"]
        validate_kyverno(manifest_of(policy))
    sent = ha.named("kyverno-policy-require-labels").inputs["spec"]
    assert sent == render("require-labels", {"labels": ["app.kubernetes.io/name"]})["spec"]


def test_policy_api_and_failure_action_are_passed_to_the_library():
    recording = build(policies=BASELINE, policy_api="clusterpolicy", failure_action="Enforce")
    for policy in policies(recording):
        assert policy.type == "kubernetes:kyverno.io/v1:ClusterPolicy"
        validate_kyverno(manifest_of(policy))
    sent = recording.named("kyverno-policy-disallow-privileged-containers").inputs["spec"]
    expected = render(
        "disallow-privileged-containers", api="clusterpolicy", failure_action="Enforce"
    )
    assert sent == expected["spec"]


def test_chart_is_pinned_by_default_and_comes_from_kyvernos_repository(ha: Recording):
    inputs = ha.named("kyverno-release").inputs
    assert inputs["chart"] == "kyverno"
    assert inputs["version"] == "3.9.0"
    assert inputs["repositoryOpts"] == {"repo": "https://kyverno.github.io/kyverno/"}
    assert inputs["name"] == "kyverno"
    assert inputs["namespace"] == "kyverno"
    assert inputs["atomic"] is True


def test_chart_version_can_be_overridden():
    inputs = build(chart_version="3.8.2").named("kyverno-release").inputs
    assert inputs["version"] == "3.8.2"


def test_ha_values_three_admission_two_of_the_others_with_budgets(ha: Recording):
    values = ha.named("kyverno-release").inputs["values"]
    replicas = {c: values[c]["replicas"] for c in values if c.endswith("Controller")}
    assert replicas == {
        "admissionController": 3,
        "backgroundController": 2,
        "cleanupController": 2,
        "reportsController": 2,
    }
    for controller in replicas:
        assert values[controller]["podDisruptionBudget"]["enabled"] is True


def test_non_ha_runs_single_replicas():
    values = build().named("kyverno-release").inputs["values"]
    assert values["admissionController"]["replicas"] == 1
    assert values["admissionController"]["podDisruptionBudget"]["enabled"] is False


def test_webhooks_exclude_kube_system_kyverno_and_extra_namespaces(ha: Recording):
    config = ha.named("kyverno-release").inputs["values"]["config"]
    (expression,) = config["webhooks"]["namespaceSelector"]["matchExpressions"]
    assert expression == {
        "key": NAME_LABEL,
        "operator": "NotIn",
        "values": ["kube-system", "kyverno", "illumio-system"],
    }
    assert config["resourceFiltersIncludeNamespaces"] == [
        "kube-system",
        "kyverno",
        "illumio-system",
    ]


def test_own_namespace_follows_a_custom_namespace():
    recording = build(namespace="policy")
    values = recording.named("kyverno-release").inputs["values"]
    (expression,) = values["config"]["webhooks"]["namespaceSelector"]["matchExpressions"]
    assert expression["values"] == ["kube-system", "policy"]
    assert recording.named("kyverno-release").inputs["namespace"] == "policy"


def test_user_values_merge_over_computed_ones_but_keep_the_exclusions():
    selector = {"matchExpressions": [{"key": NAME_LABEL, "operator": "NotIn", "values": ["x"]}]}
    recording = build(
        high_availability=True,
        values={
            "admissionController": {"replicas": 4},
            "config": {"webhooks": {"namespaceSelector": selector}},
        },
    )
    values = recording.named("kyverno-release").inputs["values"]
    assert values["admissionController"]["replicas"] == 4
    assert values["admissionController"]["podDisruptionBudget"]["enabled"] is True
    assert values["backgroundController"]["replicas"] == 2
    (expression,) = values["config"]["webhooks"]["namespaceSelector"]["matchExpressions"]
    assert expression["values"] == ["kube-system", "kyverno", "x"]


def test_outputs_come_from_the_release_status(ha: Recording):
    assert ha.exports["chart_version"] == "3.9.0"
    assert ha.exports["app_version"] == "v1.19.0"
    assert ha.exports["status"] == "deployed"
    assert ha.exports["namespace"] == "kyverno"


def test_outputs_follow_what_helm_reports_not_what_was_asked():
    def hook(args: Any) -> dict[str, Any] | None:
        if args.typ == RELEASE_TYPE:
            return {"status": {"version": "3.9.1", "appVersion": "v1.19.1", "status": "failed"}}
        return None

    def program() -> None:
        kyverno = Kyverno("kyverno", KyvernoArgs())
        pulumi.export("chart_version", kyverno.chart_version)
        pulumi.export("app_version", kyverno.app_version)
        pulumi.export("status", kyverno.status)

    recording = run_mocked(program, outputs_hook=hook)
    assert recording.exports == {
        "chart_version": "3.9.1",
        "app_version": "v1.19.1",
        "status": "failed",
    }


def refused(**kwargs: Any) -> TenancyValidationError:
    return refused_by(lambda: Kyverno("kyverno", KyvernoArgs(**kwargs)), TenancyValidationError)


def test_unknown_policy_bad_parameters_and_duplicates_are_refused_before_anything_registers():
    error = refused(
        policies=[
            PolicyRef(name="no-such-policy"),
            PolicyRef(name="require-labels", parameters={"labelz": ["a"]}),
            PolicyRef(name="disallow-privileged-containers"),
            PolicyRef(name="disallow-privileged-containers"),
        ]
    )
    text = str(error)
    assert "no-such-policy" in text
    assert "labelz" in text
    assert "'disallow-privileged-containers' is listed twice" in text
    assert len(error.problems) == 3


def test_legacy_list_webhooks_in_user_values_are_refused():
    error = refused(values={"config": {"webhooks": [{"namespaceSelector": {}}]}})
    assert "config.webhooks" in str(error)


# --- the schema helper itself ---------------------------------------------------------------


def test_schema_helper_honours_the_env_var_and_fails_clearly_when_absent(monkeypatch, tmp_path):
    from tests.components import kyverno_schema

    monkeypatch.setenv(kyverno_schema.SHARED_DIR_ENV, str(tmp_path))
    with pytest.raises(kyverno_schema.SchemaDirectoryMissing, match=kyverno_schema.SHARED_DIR_ENV):
        kyverno_schema.schema_dir()
    (tmp_path / "schemas" / "kyverno").mkdir(parents=True)
    (tmp_path / "schemas" / "kyverno" / "x.json").write_text("{}")
    assert kyverno_schema.schema_dir() == tmp_path / "schemas" / "kyverno"


def test_schema_helper_rejects_fields_the_crd_would_prune():
    good = render("disallow-privileged-containers")
    validate_kyverno(good)
    bad = {**good, "spec": {**good["spec"], "validationAction": ["Deny"]}}
    with pytest.raises(AssertionError, match="validationAction"):
        validate_kyverno(bad)
    misspelt_root = {**{k: v for k, v in good.items() if k != "spec"}, "spce": good["spec"]}
    with pytest.raises(AssertionError, match="spce"):
        validate_kyverno(misspelt_root)


def test_each_container_policy_registers_its_kubectl_debug_companion(ha: Recording):
    """A ValidatingPolicy cannot list pods/ephemeralcontainers without losing autogen, so
    the companion that checks `kubectl debug` containers is registered next to it."""
    (companion,) = [p for p in policies(ha) if p.name.endswith("-ephemeral")]
    assert companion.name == "kyverno-policy-disallow-privileged-containers-ephemeral"
    validate_kyverno(manifest_of(companion))
    (rule,) = companion.inputs["spec"]["matchConstraints"]["resourceRules"]
    assert rule["resources"] == ["pods/ephemeralcontainers"]
    assert rule["operations"] == ["UPDATE"]


def test_legacy_cluster_policies_register_no_companion():
    """Kyverno itself extends a legacy ClusterPolicy's Pod rules to ephemeral containers."""
    recording = build(policies=BASELINE, policy_api="clusterpolicy")
    assert {p.name for p in policies(recording)} == {
        "kyverno-policy-disallow-privileged-containers",
        "kyverno-policy-require-labels",
    }
