"""components.Tenant under recording mocks: projects, shared labels, outputs, refusals."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pulumi
import pytest

from components.illumio.labels import LabelRegistry
from components.targets import ClusterEndpoint, IllumioTarget, VaultTarget
from components.tenancy.models import PlatformPolicy, TenantSpec
from components.tenancy.tenant import Tenant, TenantArgs
from components.tenancy.validation import TenancyValidationError
from tests.components.mocked import (
    CLUSTER_HREF,
    LABEL_TYPE,
    PEM,
    PLATFORM,
    PROFILE_TYPE,
    PROJECT_TYPE,
    SERVER,
    TENANT_TYPE,
    fake_token,
    run,
)
from tests.components.mocked import refused as refused_by
from tests.pulumi_mocks import Recording

CLUSTER = ClusterEndpoint(server=SERVER, certificate_authority=PEM)
PLATFORM_LABELS = {"env": "prod", "loc": "eu"}


def tenant_spec(name: str, **kwargs: Any) -> TenantSpec:
    return TenantSpec.model_validate(
        {
            "name": name,
            "projects": [
                {
                    "name": "web",
                    "serviceAccounts": [{"name": "ci", "role": "edit"}],
                    "labelRestrictions": {"tier": ["front"]},
                },
                {"name": "db", "serviceAccounts": [{"name": "ops", "role": "admin"}]},
            ],
            **kwargs,
        }
    )


def tenant_args(tenant: TenantSpec, **overrides: Any) -> TenantArgs:
    values: dict[str, Any] = {
        "tenant": tenant,
        "platform": PLATFORM,
        "cluster": CLUSTER,
        "platform_labels": PLATFORM_LABELS,
        "illumio": IllumioTarget(container_cluster_href=CLUSTER_HREF),
        "vault": VaultTarget(mount="secret"),
    }
    values.update(overrides)
    return TenantArgs(**values)


@pytest.fixture(scope="module")
def two_tenants() -> Recording:
    def program() -> None:
        stack_labels = pulumi.ComponentResource("tenantguard:test:Labels", "labels")
        registry = LabelRegistry(pulumi.ResourceOptions(parent=stack_labels))
        illumio = IllumioTarget(container_cluster_href=CLUSTER_HREF, label_registry=registry)
        for name in ("acme", "globex"):
            tenant = Tenant(name, tenant_args(tenant_spec(name), illumio=illumio))
            pulumi.export(f"{name}-kubeconfigs", tenant.kubeconfigs)
            pulumi.export(f"{name}-namespaces", tenant.namespaces)

    return run(program)


def test_one_project_component_per_project_under_the_tenant(two_tenants: Recording):
    acme = two_tenants.named("acme", TENANT_TYPE)
    projects = {r.name: r for r in two_tenants.of_type(PROJECT_TYPE)}
    assert set(projects) == {"acme-web", "acme-db", "globex-web", "globex-db"}
    assert projects["acme-web"].parent == acme.urn
    assert projects["acme-db"].parent == acme.urn
    namespace = two_tenants.named("acme-web-namespace")
    assert namespace.parent == projects["acme-web"].urn
    assert namespace.inputs["metadata"]["name"] == "acme-web"


def test_shared_labels_are_registered_exactly_once_across_tenants(two_tenants: Recording):
    labels = two_tenants.of_type(LABEL_TYPE)
    counts = Counter((r.inputs["key"], r.inputs["value"]) for r in labels)
    assert counts == {
        ("env", "prod"): 1,
        ("loc", "eu"): 1,
        ("tier", "front"): 1,
        ("app", "acme-web"): 1,  # every project has an identity of its own
        ("app", "acme-db"): 1,
        ("app", "globex-web"): 1,
        ("app", "globex-db"): 1,
    }
    holder = two_tenants.named("labels")
    assert all(label.parent == holder.urn for label in labels)


def test_every_profile_depends_on_the_one_shared_label(two_tenants: Recording):
    env = two_tenants.named("label-env-prod")
    profiles = two_tenants.of_type(PROFILE_TYPE)
    assert len(profiles) == 4
    for profile in profiles:
        assert env.urn in profile.dependencies
        assert profile.inputs["assign_labels"]["env"] == "/orgs/1/labels/env=prod"


def test_tenant_outputs_namespaces_and_secret_kubeconfigs(two_tenants: Recording):
    assert two_tenants.exports["acme-namespaces"] == {"web": "acme-web", "db": "acme-db"}
    assert "acme-kubeconfigs" in two_tenants.secret_exports
    kubeconfigs = two_tenants.exports["acme-kubeconfigs"]
    assert set(kubeconfigs) == {"web", "db"}
    assert fake_token("acme-web", "ci") in kubeconfigs["web"]["ci"]
    assert fake_token("acme-db", "ops") in kubeconfigs["db"]["ops"]


def test_without_a_registry_the_tenant_owns_its_labels():
    recording = run(lambda: Tenant("acme", tenant_args(tenant_spec("acme"))))
    tenant = recording.named("acme", TENANT_TYPE)
    labels = recording.of_type(LABEL_TYPE)
    assert Counter((r.inputs["key"], r.inputs["value"]) for r in labels)[("env", "prod")] == 1
    assert len(labels) == 5  # env, loc, tier and the two projects' app labels
    assert all(label.parent == tenant.urn for label in labels)


def test_without_illumio_no_labels_or_profiles():
    recording = run(lambda: Tenant("acme", tenant_args(tenant_spec("acme"), illumio=None)))
    assert not recording.of_type(LABEL_TYPE)
    assert not recording.of_type(PROFILE_TYPE)
    assert len(recording.of_type(PROJECT_TYPE)) == 2


def test_kyverno_handed_to_the_tenant_reaches_every_project_policy():
    from components.kyverno.release import Kyverno, KyvernoArgs

    def program() -> None:
        kyverno = Kyverno("kyverno", KyvernoArgs())
        Tenant("acme", tenant_args(tenant_spec("acme"), kyverno=kyverno))

    recording = run(program)
    release = recording.named("kyverno-release")
    project_policies = [r for r in recording.resources if "-policy-" in r.name and "acme" in r.name]
    main = [r for r in project_policies if not r.name.endswith("-ephemeral")]
    assert len(main) == 2  # restrict-image-registries in each project (plus kubectl debug ones)
    for policy in project_policies:
        assert release.urn in policy.dependencies


# --- validation: every problem raised before any resource registers ----------------------


def refused(tenant: TenantSpec, platform: PlatformPolicy = PLATFORM) -> TenancyValidationError:
    return refused_by(
        lambda: Tenant(tenant.name, tenant_args(tenant, platform=platform)),
        TenancyValidationError,
    )


def with_project(**project: Any) -> TenantSpec:
    return TenantSpec.model_validate({"name": "acme", "projects": [{"name": "web", **project}]})


def test_quota_above_ceiling():
    error = refused(with_project(quota={"requests": {"memory": "32Gi"}}))
    assert error.problems[0].path == "tenants[0].projects[0].quota.requests.memory"
    assert "above the platform ceiling 16Gi" in str(error)


def test_tenant_registry_outside_the_platform_allowlist():
    error = refused(TenantSpec(name="acme", image_allowlist=["quay.io/acme"]))
    assert error.problems[0].path == "tenants[0].imageAllowlist[0]"


def test_project_registry_outside_the_platform_allowlist():
    policy = {"name": "restrict-image-registries", "parameters": {"registries": ["quay.io"]}}
    error = refused(with_project(policies=[policy]))
    assert "outside the platform allowlist" in str(error)


def test_invalid_cidr_in_the_egress_baseline():
    platform = PLATFORM.model_copy(update={"egress_baseline": ["10.0.0.0/8", "300.0.0.0/8"]})
    error = refused(with_project(), platform)
    assert error.problems[0].path == "platformPolicy.egressBaseline[1]"


def test_unknown_role_type():
    error = refused(with_project(serviceAccounts=[{"name": "x", "role": "owner"}]))
    assert error.problems[0].path == "tenants[0].projects[0].serviceAccounts[0].role"


def test_custom_without_rules_or_role_name():
    error = refused(with_project(serviceAccounts=[{"name": "x", "role": "custom"}]))
    assert "needs either rules" in str(error)


def test_cluster_admin_the_platform_does_not_allow():
    error = refused(with_project(serviceAccounts=[{"name": "x", "role": "cluster-admin"}]))
    assert "allowClusterAdmin is false" in str(error)


def test_two_projects_with_the_same_namespace():
    tenant = TenantSpec.model_validate(
        {
            "name": "acme",
            "projects": [
                {"name": "web", "namespace": "shop"},
                {"name": "api", "namespace": "shop"},
            ],
        }
    )
    error = refused(tenant)
    assert error.problems[0].path == "tenants[0].projects[1].namespace"
    assert "already used" in str(error)


def test_every_problem_is_listed_at_once():
    tenant = TenantSpec.model_validate(
        {
            "name": "acme",
            "projects": [
                {"name": "web", "quota": {"pods": 100}},
                {"name": "api", "serviceAccounts": [{"name": "x", "role": "cluster-admin"}]},
            ],
        }
    )
    error = refused(tenant)
    paths = [p.path for p in error.problems]
    assert paths == [
        "tenants[0].projects[0].quota.pods",
        "tenants[0].projects[1].serviceAccounts[0].role",
    ]


def test_service_accounts_without_a_cluster_ca_are_refused_before_anything_registers():
    no_ca = ClusterEndpoint(server=SERVER, certificate_authority=None)
    error = refused_by(
        lambda: Tenant("acme", tenant_args(tenant_spec("acme"), cluster=no_ca)),
        TenancyValidationError,
    )
    assert [p.path for p in error.problems] == [
        "tenants[0].projects[0].serviceAccounts",
        "tenants[0].projects[1].serviceAccounts",
    ]
    assert "kubeconfigs, which carry the cluster's CA" in str(error)


def test_a_cluster_ca_is_not_needed_without_service_accounts():
    tenant = TenantSpec.model_validate({"name": "acme", "projects": [{"name": "web"}]})
    no_ca = ClusterEndpoint(server=SERVER, certificate_authority=None)
    recording = run(lambda: Tenant("acme", tenant_args(tenant, cluster=no_ca)))
    assert len(recording.of_type(PROJECT_TYPE)) == 1
