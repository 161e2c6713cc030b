"""components.Platform under recording mocks: the whole graph from one spec, explicit
providers, ordering, outputs and secrets, and every refusal before anything registers."""

from __future__ import annotations

import base64
import copy
import json
from collections import Counter
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.platform import OUTPUT_NAMES, Platform, PlatformArgs, PlatformValidationError
from components.tenancy.validation import TenancyValidationError
from stacks import PlatformSpec
from tenantguard import platform_args as mapping
from tests.components.mocked import (
    CLUSTER_HREF,
    CLUSTER_TOKEN,
    CLUSTER_TYPE,
    CLUSTER_UUID,
    IP_LIST_TYPE,
    K8S_PROVIDER_TYPE,
    KYVERNO_APP_VERSION,
    KYVERNO_TYPE,
    LABEL_TYPE,
    NAMESPACE_TYPE,
    ONBOARDING_TYPE,
    PAIRING_KEY,
    PAIRING_PROFILE_TYPE,
    PEM,
    PLATFORM_TYPE,
    PROFILE_TYPE,
    PROVISION_TYPE,
    RELEASE_TYPE,
    RULE_SET_TYPE,
    TENANT_TYPE,
    VAULT_PROVIDER_TYPE,
    VAULT_TYPE,
    failure_actions,
    fake_token,
    label_href,
    plaintext_strings,
    refused,
    run,
)
from tests.pulumi_mocks import Recording, Registered

PCE_URL = "https://pce.example.com:8443"
KUBECONFIG = "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {token: kc-admin-9f3e}}]\n"
VAULT_TOKEN = "hvs.vault-token-7c1d"
EXISTING_TOKEN = "1_existing-cluster-token-5a3c"
CA_DATA = base64.b64encode(PEM.encode()).decode()

SPEC: dict[str, Any] = {
    "cluster": {
        "name": "lab-1",
        "apiServer": "https://k8s-api.lab.example:6443",
        "caData": CA_DATA,
        "illumio": {
            "enforcementMode": "full",
            "labels": {"env": "lab", "loc": "eu"},
        },
        "kubelink": {"version": "5.3.0", "values": {"logLevel": "debug"}},
    },
    "kyverno": {
        "ha": True,
        "failureAction": "Enforce",
        "baselinePolicies": [
            {"name": "disallow-privileged-containers"},
            {"name": "disallow-host-path"},
        ],
        "webhookExcludedNamespaces": ["monitoring"],
    },
    "platformPolicy": {
        "imageAllowlist": ["ghcr.io/acme"],
        "quotaMax": {"requests": {"cpu": "8", "memory": "16Gi"}},
    },
    "vault": {"mount": "kv", "pathPrefix": "tenantguard/lab"},
    "tenants": [
        {
            "name": "acme",
            "labels": {"bu": "retail"},
            "projects": [
                {
                    "name": "web",
                    "labelRestrictions": {"role": ["front", "back"]},
                    "serviceAccounts": [{"name": "ci", "role": "edit"}],
                },
                {"name": "db", "serviceAccounts": [{"name": "ops", "role": "admin"}]},
            ],
        },
        {
            "name": "globex",
            "labels": {"bu": "retail"},
            "projects": [
                {
                    "name": "api",
                    "labelRestrictions": {"role": ["front"]},
                    "policies": [{"name": "disallow-latest-tag"}],
                    "serviceAccounts": [{"name": "deployer", "role": "edit"}],
                }
            ],
        },
    ],
}
PROJECTS = {"acme/web": "acme-web", "acme/db": "acme-db", "globex/api": "globex-api"}


def spec_of(data: dict[str, Any] = SPEC, **changes: Any) -> PlatformSpec:
    """The test spec with top-level sections replaced or deep-edited by `changes`."""
    edited = copy.deepcopy(data)
    for path, value in changes.items():
        node = edited
        *parents, last = path.split("__")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value
    return PlatformSpec.model_validate(edited)


def platform_args(spec: PlatformSpec | None = None, **overrides: Any) -> PlatformArgs:
    values: dict[str, Any] = {
        "pce_url": PCE_URL,
        "kubeconfig": KUBECONFIG,
        "kube_context": "lab-1",
        "vault_address": "https://vault.example.com:8200",
        "vault_token": VAULT_TOKEN,
        "vault_skip_child_token": True,
        "existing_cluster_token": EXISTING_TOKEN,
    }
    values.update(overrides)
    return mapping.platform_args(spec or spec_of(), **values)


def build(args: PlatformArgs | None = None) -> Recording:
    def program() -> None:
        platform = Platform("lab", args or platform_args())
        for name in OUTPUT_NAMES:
            pulumi.export(name, getattr(platform, name))

    return run(program)


@pytest.fixture(scope="module")
def lab() -> Recording:
    return build()


def only(recording: Recording, type_: str) -> Registered:
    [resource] = recording.of_type(type_)
    return resource


def policies(recording: Recording, prefix: str) -> list[Registered]:
    return [r for r in recording.resources if "kyverno.io" in r.type and r.name.startswith(prefix)]


# --- the graph ------------------------------------------------------------------------------


def test_components_under_the_platform(lab: Recording):
    platform = only(lab, PLATFORM_TYPE)
    assert only(lab, ONBOARDING_TYPE).parent == platform.urn
    assert only(lab, KYVERNO_TYPE).parent == platform.urn
    tenants = {r.name: r for r in lab.of_type(TENANT_TYPE)}
    assert set(tenants) == {"lab-acme", "lab-globex"}
    assert all(t.parent == platform.urn for t in tenants.values())


def test_one_label_per_key_value_across_tenants_parented_to_the_platform(lab: Recording):
    labels = lab.of_type(LABEL_TYPE)
    assert Counter((r.inputs["key"], r.inputs["value"]) for r in labels) == {
        ("env", "lab"): 1,
        ("loc", "eu"): 1,
        ("bu", "retail"): 1,
        ("app", "acme-web"): 1,  # each project's own identity ...
        ("app", "acme-db"): 1,
        ("app", "globex-api"): 1,  # ... <tenant app>-<project>, unique in the stack
        ("role", "front"): 1,
        ("role", "back"): 1,
    }
    platform = only(lab, PLATFORM_TYPE)
    assert all(label.parent == platform.urn for label in labels)


def provider_ref(provider: Registered) -> str:
    return f"{provider.urn}::{provider.name}-id"


def test_children_use_the_platforms_own_kubernetes_and_vault_providers(lab: Recording):
    kubernetes = only(lab, K8S_PROVIDER_TYPE)
    vault = only(lab, VAULT_PROVIDER_TYPE)
    platform = only(lab, PLATFORM_TYPE)
    assert kubernetes.parent == vault.parent == platform.urn
    k8s_resources = [r for r in lab.resources if r.type.startswith("kubernetes:")]
    vault_resources = lab.of_type(VAULT_TYPE)
    assert len(k8s_resources) > 30 and len(vault_resources) == 4
    for resource in k8s_resources:
        assert resource.provider.startswith(kubernetes.urn + "::"), resource.name
    for resource in vault_resources:
        assert resource.provider.startswith(vault.urn + "::"), resource.name


def test_providers_get_the_connection_values_with_secrets_kept_secret(lab: Recording):
    kubernetes = only(lab, K8S_PROVIDER_TYPE).inputs
    assert kubernetes["context"] == "lab-1"
    assert rpc.is_rpc_secret(kubernetes["kubeconfig"])
    assert rpc.unwrap_rpc_secret(kubernetes["kubeconfig"]) == KUBECONFIG
    vault = only(lab, VAULT_PROVIDER_TYPE).inputs
    assert vault["address"] == "https://vault.example.com:8200"
    assert rpc.is_rpc_secret(vault["token"])
    assert rpc.unwrap_rpc_secret(vault["token"]) == VAULT_TOKEN
    assert json.loads(vault["skipChildToken"]) is True


def test_kyverno_policies_wait_for_the_release_and_project_policies_for_kyverno(lab: Recording):
    release = lab.named("lab-kyverno-release", RELEASE_TYPE)
    baseline = policies(lab, "lab-kyverno-policy-")
    assert {p.name for p in baseline} == {
        "lab-kyverno-policy-disallow-privileged-containers",
        "lab-kyverno-policy-disallow-privileged-containers-ephemeral",
        "lab-kyverno-policy-disallow-host-path",
    }
    project_policies = [p for p in lab.resources if "kyverno.io" in p.type and p not in baseline]
    # each project gets the image allowlist; globex/api also disallow-latest-tag; each with
    # its kubectl debug companion
    assert len(project_policies) == 8
    for policy in [*baseline, *project_policies]:
        assert release.urn in policy.dependencies, policy.name


def test_profiles_wait_for_their_labels_and_the_cluster(lab: Recording):
    cluster = only(lab, CLUSTER_TYPE)
    labels = {(r.inputs["key"], r.inputs["value"]): r.urn for r in lab.of_type(LABEL_TYPE)}
    profiles = {r.inputs["namespace"]: r for r in lab.of_type(PROFILE_TYPE)}
    assert set(profiles) == set(PROJECTS.values())
    for namespace, profile in profiles.items():
        assert cluster.urn in profile.dependencies, namespace
        assert profile.inputs["container_cluster_href"] == CLUSTER_HREF
        assigned = {("env", "lab"), ("loc", "eu"), ("bu", "retail"), ("app", namespace)}
        for key in assigned:
            assert labels[key] in profile.dependencies, (namespace, key)
        assert profile.inputs["assign_labels"] == {key: label_href(key, v) for key, v in assigned}
    restrictions = profiles["acme-web"].inputs["label_restrictions"]
    assert {key: sorted(hrefs) for key, hrefs in restrictions.items()} == {
        "role": sorted([label_href("role", "front"), label_href("role", "back")])
    }


def test_onboarding_follows_the_cluster_section(lab: Recording):
    cluster = only(lab, CLUSTER_TYPE).inputs
    assert cluster["name"] == "lab-1"
    assert rpc.unwrap_rpc_secret(cluster["existing_token"]) == EXISTING_TOKEN
    pairing = only(lab, PAIRING_PROFILE_TYPE).inputs
    assert pairing["name"] == "lab-1-pairing"
    assert pairing["enforcement_mode"] == "full"
    assert pairing["assign_labels"] == {
        "env": label_href("env", "lab"),
        "loc": label_href("loc", "eu"),
    }
    credentials = lab.named("lab-onboarding-credentials", VAULT_TYPE).inputs
    assert (credentials["mount"], credentials["name"]) == ("kv", "tenantguard/lab/clusters/lab-1")
    kubelink = lab.named("lab-onboarding-kubelink", RELEASE_TYPE).inputs
    values = rpc.unwrap_rpc_secret(kubelink["values"])
    assert values["logLevel"] == "debug"  # spec `values` reach the chart as extra values
    assert values["pce_url"] == "pce.example.com:8443"
    assert (values["cluster_token"], values["cluster_code"]) == (CLUSTER_TOKEN, PAIRING_KEY)


def test_kyverno_follows_its_section_and_skips_illumio_system_with_kubelink_on(lab: Recording):
    release = lab.named("lab-kyverno-release", RELEASE_TYPE).inputs
    assert release["version"] == "3.9.0"
    assert release["values"]["admissionController"]["replicas"] == 3
    selector = release["values"]["config"]["webhooks"]["namespaceSelector"]
    assert selector["matchExpressions"][0]["values"] == [
        "kube-system",
        "kyverno",
        "monitoring",
        "illumio-system",
    ]
    assert failure_actions(lab) == {"Deny"}


def test_vault_gets_one_secret_per_cluster_and_service_account(lab: Recording):
    names = sorted(r.inputs["name"] for r in lab.of_type(VAULT_TYPE))
    assert names == [
        "tenantguard/lab/clusters/lab-1",
        "tenantguard/lab/tenants/acme/db/ops",
        "tenantguard/lab/tenants/acme/web/ci",
        "tenantguard/lab/tenants/globex/api/deployer",
    ]


def test_namespaces_are_the_projects_plus_kyverno_and_illumio_system(lab: Recording):
    names = sorted(r.inputs["metadata"]["name"] for r in lab.of_type(NAMESPACE_TYPE))
    assert names == sorted([*PROJECTS.values(), "kyverno", "illumio-system"])


# --- outputs and secrets ----------------------------------------------------------------------


def test_outputs(lab: Recording):
    exports = lab.exports
    assert exports["cluster_href"] == CLUSTER_HREF
    assert exports["cluster_id"] == CLUSTER_UUID
    assert exports["cluster_token"] == CLUSTER_TOKEN
    assert exports["kyverno_version"] == "3.9.0"
    assert exports["kyverno_app_version"] == KYVERNO_APP_VERSION
    assert exports["project_namespaces"] == PROJECTS
    assert exports["project_profiles"] == {
        key: f"{CLUSTER_HREF}/container_workload_profiles/{namespace}"
        for key, namespace in PROJECTS.items()
    }
    kubeconfigs = exports["project_kubeconfigs"]
    assert set(kubeconfigs) == set(PROJECTS)
    assert fake_token("globex-api", "deployer") in kubeconfigs["globex/api"]["deployer"]
    assert "https://k8s-api.lab.example:6443" in kubeconfigs["acme/web"]["ci"]


def test_token_and_kubeconfigs_are_secret_and_no_input_holds_a_secret_in_plaintext(lab: Recording):
    assert lab.secret_exports == {"cluster_token", "project_kubeconfigs"}
    secrets = (KUBECONFIG, VAULT_TOKEN, EXISTING_TOKEN, CLUSTER_TOKEN, PAIRING_KEY)
    kubeconfigs = lab.exports["project_kubeconfigs"]
    tokens = [fake_token(ns, sa) for ns, sa in (("acme-web", "ci"), ("globex-api", "deployer"))]
    for resource in lab.resources:
        for text in plaintext_strings(resource.inputs):
            for secret in (*secrets, *tokens):
                assert secret not in text, resource.name
            for per_project in kubeconfigs.values():
                assert all(kc not in text for kc in per_project.values()), resource.name


def test_secrets_never_show_in_the_arguments_repr():
    shown = repr(platform_args())
    for secret in (KUBECONFIG, VAULT_TOKEN, EXISTING_TOKEN):
        assert secret not in shown


# --- variants -------------------------------------------------------------------------------


def test_without_kyverno_project_policies_are_still_made_and_outputs_are_empty():
    recording = build(platform_args(spec_of(kyverno__enabled=False)))
    assert not recording.of_type(KYVERNO_TYPE)
    assert recording.exports["kyverno_version"] is None
    assert recording.exports["kyverno_app_version"] is None
    assert len([r for r in recording.resources if "kyverno.io" in r.type]) == 8


def test_without_kubelink_no_chart_and_illumio_system_stays_under_kyverno():
    recording = build(platform_args(spec_of(cluster__kubelink={"enabled": False})))
    assert [r.name for r in recording.of_type(RELEASE_TYPE)] == ["lab-kyverno-release"]
    release = recording.named("lab-kyverno-release", RELEASE_TYPE).inputs
    excluded = release["values"]["config"]["webhooks"]["namespaceSelector"]["matchExpressions"]
    assert "illumio-system" not in excluded[0]["values"]


def test_audit_and_clusterpolicy_reach_every_policy():
    spec = spec_of(kyverno__failureAction="Audit", kyverno__policyApi="clusterpolicy")
    recording = build(platform_args(spec))
    kinds = {r.type.rsplit(":", 1)[1] for r in recording.resources if "kyverno.io" in r.type}
    assert kinds == {"ClusterPolicy", "Policy"}
    assert failure_actions(recording) == {"Audit"}


# --- refusals: everything is checked before the first registration --------------------------


def refused_platform(spec: PlatformSpec | None = None, **overrides: Any) -> PlatformValidationError:
    """The refusal of a platform built from `spec`, by the spec mapping or the component."""
    error = refused(
        lambda: Platform("lab", platform_args(spec, **overrides)), PlatformValidationError
    )
    assert isinstance(error, TenancyValidationError)  # callers catching that still catch it
    assert "nothing was registered" in str(error)
    return error


@pytest.mark.parametrize(
    ("changes", "path", "fragment"),
    [
        (
            {"tenants__1__projects__0__namespace": "acme-web"},
            "tenants[1].projects[0].namespace",
            "namespace 'acme-web' is already used by tenant 'acme', project 'web'",
        ),
        (
            {"tenants__1__projects__0__namespace": "kyverno"},
            "tenants[1].projects[0].namespace",
            "reserved for the platform",
        ),
        (
            {"tenants__0__labels": {"env": "prod"}},
            "tenants[0].labels.env",
            "already assigned to every profile by cluster.illumio.labels",
        ),
        (
            {"tenants__0__projects__0__enforcementMode": "idle"},
            "tenants[0].projects[0].enforcementMode",
            "cannot be 'idle'",
        ),
        (
            {"kyverno__baselinePolicies": [{"name": "no-such-policy"}]},
            "kyverno.baselinePolicies[0]",
            "no-such-policy",
        ),
        (
            {"kyverno__webhookExcludedNamespaces": ["globex-api"]},
            "kyverno.webhookExcludedNamespaces[0]",
            "belongs to tenant 'globex'",
        ),
        (
            {"cluster__caData": None},
            "cluster.caData",
            "kubeconfigs carry the cluster's CA",
        ),
        (
            {"cluster__kubelink": {"version": "5.3.0", "values": {"clusterMode": "clas"}}},
            "cluster.kubelink.values.clusterMode",
            "set by tenantguard from cluster.kubelink.clusterMode",
        ),
        (
            {"cluster__kubelink": {"version": "5.3.0", "values": {"extraVolumes": {}}}},
            "cluster.kubelink.values",
            "must be a list",
        ),
        (
            {"kyverno__values": {"config": {"webhooks": [{"namespaceSelector": {}}]}}},
            "kyverno.values",
            "config.webhooks",
        ),
    ],
)
def test_each_problem_is_refused_before_anything_registers(changes, path, fragment):
    error = refused_platform(spec_of(**changes))
    assert [p.path for p in error.problems] == [path]
    assert fragment in error.problems[0].message


def test_a_bad_pce_url_is_named_by_its_config_key():
    error = refused_platform(pce_url="pce.example.com:8443")
    (problem,) = error.problems
    assert problem.path == "illumio:pceUrl"
    assert "https:// or http:// URL" in problem.message


def test_every_problem_is_listed_in_one_error():
    spec = spec_of(
        tenants__1__projects__0__namespace="acme-web",
        tenants__0__projects__1__enforcementMode="idle",
        kyverno__baselinePolicies=[{"name": "no-such-policy"}],
    )
    error = refused_platform(spec, pce_url="ftp://pce")
    assert sorted(p.path for p in error.problems) == [
        "illumio:pceUrl",
        "kyverno.baselinePolicies[0]",
        "tenants[0].projects[1].enforcementMode",
        "tenants[1].projects[0].namespace",
    ]
    assert str(error).startswith("4 problems in the platform spec; nothing was registered:")


def test_typed_arguments_are_checked_across_tenants_by_the_component_itself():
    """A program that builds PlatformArgs without a stack spec still gets every
    cross-tenant problem before anything registers."""
    args = platform_args()
    clash = args.tenants[1].model_copy(
        update={
            "projects": [args.tenants[1].projects[0].model_copy(update={"namespace": "acme-web"})]
        }
    )
    typed = args.model_copy(update={"tenants": [args.tenants[0], clash]})
    error = refused(lambda: Platform("lab", typed), PlatformValidationError)
    assert [p.path for p in error.problems] == ["tenants[1].projects[0].namespace"]
    assert "already used by tenant 'acme'" in error.problems[0].message


def test_each_project_gets_a_rule_set_scoped_to_its_identity_all_provisioned_together(
    lab: Recording,
):
    """The Platform's Segmentation: one RuleSet per project over its own labels, the IP
    lists they use, and one PolicyProvision that waits for all of them."""
    rule_sets = {r.inputs["name"]: r for r in lab.of_type(RULE_SET_TYPE)}
    assert set(rule_sets) == {f"tenantguard-lab-1-{ns}" for ns in PROJECTS.values()}
    web = rule_sets["tenantguard-lab-1-acme-web"]
    assert web.inputs["scopes"] == [
        [label_href("app", "acme-web"), label_href("env", "lab"), label_href("loc", "eu")]
    ]
    # within the project and DNS (the spec has no egress baseline): nothing from elsewhere
    assert [rule["consumers"] for rule in web.inputs["rules"]] == [["ams"]] * 2
    profile = lab.named("lab-acme-web-profile", PROFILE_TYPE)
    assert profile.urn in web.dependencies, "rules wait for the profile that carries the labels"
    lists = lab.of_type(IP_LIST_TYPE)
    assert [r.inputs["name"] for r in lists] == ["tenantguard-lab-1-dns"]
    assert lists[0].inputs["ip_ranges"] == ["0.0.0.0/0", "::/0"]  # DNS ports to any address
    (provision,) = lab.of_type(PROVISION_TYPE)
    for resource in [*rule_sets.values(), *lists]:
        assert resource.urn in provision.dependencies, resource.name
    assert set(provision.inputs["changes"]) == {
        *(f"/orgs/1/sec_policy/draft/rule_sets/{name}" for name in rule_sets),
        *(f"/orgs/1/sec_policy/draft/ip_lists/{r.inputs['name']}" for r in lists),
    }
