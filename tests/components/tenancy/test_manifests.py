"""Project manifests: what the namespace gets, each object valid for the pinned Kubernetes."""

from __future__ import annotations

import pytest

from components.segmentation.network_policies import network_policy_manifests
from components.tenancy.manifests import (
    PROJECT_LABEL,
    TENANT_LABEL,
    project_manifests,
    project_policy_refs,
    rbac_manifests,
)
from components.tenancy.models import (
    PlatformPolicy,
    PolicyRef,
    ProjectSpec,
    Quota,
    ServiceAccount,
    TenantSpec,
    effective_quota,
)
from tests.components.k8s_schema import validate_manifest, validate_manifests

PLATFORM = PlatformPolicy(
    image_allowlist=["ghcr.io/acme", "docker.io"],
    egress_baseline=["10.0.0.0/8", "172.16.0.0/12"],
    quota_max=Quota.model_validate(
        {"requests": {"cpu": "8", "memory": "16Gi"}, "limits": {"cpu": "16"}, "pods": 50}
    ),
    allow_cluster_admin=True,
)


def _project(**kwargs) -> ProjectSpec:
    return ProjectSpec.model_validate(
        {
            "name": "web",
            "serviceAccounts": [
                {"name": "deployer", "role": "edit", "tokenDuration": "168h"},
                {"name": "reader", "role": "view"},
                {"name": "owner", "role": "admin"},
                {"name": "root", "role": "cluster-admin"},
                {
                    "name": "cm-writer",
                    "role": "custom",
                    "rules": [
                        {
                            "resources": ["configmaps"],
                            "verbs": ["get", "update"],
                            "resourceNames": ["x"],
                        }
                    ],
                },
                {"name": "bound", "role": "custom", "roleName": "pod-reader", "roleKind": "Role"},
            ],
            **kwargs,
        }
    )


TENANT = TenantSpec(name="acme", projects=[])


def _manifests(project: ProjectSpec, platform: PlatformPolicy = PLATFORM):
    return project_manifests(TENANT, project, platform, quota=effective_quota(project, platform))


def test_every_object_is_valid_for_the_pinned_kubernetes_version():
    built = _manifests(_project())
    assert validate_manifests(built.all()) == len(built.all())
    kinds = [m["kind"] for m in built.all()]
    assert kinds[0] == "Namespace"
    assert {
        "ServiceAccount",
        "Secret",
        "RoleBinding",
        "ClusterRoleBinding",
        "Role",
        "ResourceQuota",
        "LimitRange",
        "NetworkPolicy",
    } <= set(kinds)


def test_schema_helper_rejects_a_misspelt_field():
    bad = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "lables": {}}}
    with pytest.raises(AssertionError, match="lables"):
        validate_manifest(bad)


def test_namespace_labels_and_pod_security_levels():
    ns = _manifests(_project(psaLevel="restricted")).namespace
    labels = ns["metadata"]["labels"]
    assert ns["metadata"]["name"] == "acme-web"
    assert labels[TENANT_LABEL] == "acme" and labels[PROJECT_LABEL] == "web"
    assert labels["app.kubernetes.io/managed-by"] == "tenantguard"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"


def test_enforce_level_defaults_to_the_platform_level_and_namespace_override_is_used():
    ns = _manifests(_project(namespace="shop")).namespace
    assert ns["metadata"]["name"] == "shop"
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    strict = PLATFORM.model_copy(update={"default_psa_level": "privileged"})
    ns = _manifests(_project(), strict).namespace
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def _bindings(account: dict):
    return rbac_manifests("acme-web", ServiceAccount.model_validate(account), {})


@pytest.mark.parametrize("role", ["view", "edit", "admin"])
def test_builtin_roles_bind_the_cluster_role_inside_the_namespace_only(role):
    (binding,) = _bindings({"name": "sa", "role": role})
    assert binding["kind"] == "RoleBinding"
    assert binding["metadata"]["namespace"] == "acme-web"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role,
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "sa", "namespace": "acme-web"}
    ]


def test_cluster_admin_is_a_cluster_role_binding_with_a_namespace_qualified_name():
    (binding,) = _bindings({"name": "root", "role": "cluster-admin"})
    assert binding["kind"] == "ClusterRoleBinding"
    assert "namespace" not in binding["metadata"]
    assert "acme-web" in binding["metadata"]["name"]
    assert binding["roleRef"]["name"] == "cluster-admin"


def test_custom_rules_make_a_role_and_its_binding():
    role, binding = _bindings(
        {"name": "cm", "role": "custom", "rules": [{"resources": ["configmaps"], "verbs": ["get"]}]}
    )
    assert role["kind"] == "Role"
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }


@pytest.mark.parametrize("kind", ["Role", "ClusterRole"])
def test_custom_role_name_binds_the_named_role(kind):
    (binding,) = _bindings(
        {"name": "b", "role": "custom", "roleName": "pod-reader", "roleKind": kind}
    )
    assert binding["kind"] == "RoleBinding"
    assert binding["roleRef"]["kind"] == kind and binding["roleRef"]["name"] == "pod-reader"


def test_unbuildable_role_is_refused():
    with pytest.raises(ValueError, match="validate_tenants"):
        _bindings({"name": "b", "role": "custom"})


def test_token_secret_names_its_account_and_an_expiring_account_gets_none():
    manifests = _manifests(_project())
    accounts = {a.account.name: a for a in manifests.accounts}
    secret = accounts["reader"].token_secret
    assert secret is not None
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "reader"}
    # deployer has tokenDuration 168h: Vault mints its tokens, it has no long-lived Secret
    assert accounts["deployer"].token_secret is None
    assert not [
        m
        for m in manifests.all()
        if m["kind"] == "Secret" and m["metadata"]["name"] == "deployer-token"
    ]
    annotations = accounts["deployer"].service_account["metadata"]["annotations"]
    assert annotations["tenantguard.io/token-duration"] == "168h"
    assert accounts["reader"].service_account["automountServiceAccountToken"] is False


def test_quota_takes_unset_amounts_from_the_platform_ceiling():
    built = _manifests(_project(quota={"requests": {"cpu": "2"}}))
    assert built.resource_quota["spec"]["hard"] == {
        "requests.cpu": "2",
        "requests.memory": "16Gi",
        "limits.cpu": "16",
        "pods": "50",
    }


def test_no_quota_object_when_nothing_is_limited():
    built = _manifests(_project(), PlatformPolicy())
    assert built.resource_quota is None


def test_limit_range_gives_containers_default_requests_and_limits():
    built = _manifests(
        _project(containerDefaults={"defaultRequest": {"cpu": "50m", "memory": "64Mi"}})
    )
    (limit,) = built.limit_range["spec"]["limits"]
    assert limit["type"] == "Container"
    assert limit["defaultRequest"] == {"cpu": "50m", "memory": "64Mi"}
    assert limit["default"] == {"cpu": "500m", "memory": "512Mi"}


def test_network_policies_deny_by_default_and_allow_dns_namespace_and_baseline():
    policies = {
        p["metadata"]["name"]: p["spec"] for p in network_policy_manifests("ns", ["10.0.0.0/8"], {})
    }
    deny = policies["default-deny"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["allow-dns"]["egress"][0]
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert sorted((p["protocol"], p["port"]) for p in dns["ports"]) == [("TCP", 53), ("UDP", 53)]
    same = policies["allow-same-namespace"]
    assert same["ingress"] == [{"from": [{"podSelector": {}}]}]
    assert same["egress"] == [{"to": [{"podSelector": {}}]}]
    assert policies["allow-egress-baseline"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}
    ]


def test_no_baseline_policy_without_baseline_cidrs():
    names = [p["metadata"]["name"] for p in network_policy_manifests("ns", [], {})]
    assert names == ["default-deny", "allow-dns", "allow-same-namespace"]


def test_image_allowlist_policy_is_added_from_the_tenant_else_the_platform():
    project = ProjectSpec(name="web")
    refs = project_policy_refs(TENANT, project, PLATFORM)
    assert refs == [
        PolicyRef(
            name="restrict-image-registries",
            parameters={"registries": ["ghcr.io/acme", "docker.io"]},
        )
    ]
    tenant = TenantSpec(name="acme", image_allowlist=["ghcr.io/acme"])
    assert project_policy_refs(tenant, project, PLATFORM)[0].parameters == {
        "registries": ["ghcr.io/acme"]
    }
    assert project_policy_refs(TENANT, project, PlatformPolicy()) == []


def test_project_listing_the_registry_policy_keeps_its_own_registries():
    own = ProjectSpec.model_validate(
        {
            "name": "web",
            "policies": [
                {"name": "restrict-image-registries", "parameters": {"registries": ["docker.io"]}}
            ],
        }
    )
    assert project_policy_refs(TENANT, own, PLATFORM) == list(own.policies)
