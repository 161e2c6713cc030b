"""components.Project under recording mocks: graph, validity, secrets, Illumio, Vault, refusals."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pytest
import yaml

from components.illumio.labels import LabelRegistry
from components.policies import render
from components.tenancy.models import ProjectSpec, TenantSpec
from components.tenancy.project import (
    ClusterEndpoint,
    IllumioTarget,
    Project,
    ProjectArgs,
    VaultTarget,
)
from components.tenancy.token_issuer import TokenIssuerTarget
from components.tenancy.validation import TenancyValidationError
from tests.components.k8s_schema import validate_manifest
from tests.components.kyverno_schema import validate_kyverno
from tests.components.mocked import (
    CLUSTER_HREF,
    LABEL_TYPE,
    PEM,
    PLATFORM,
    PROFILE_TYPE,
    PROJECT_TYPE,
    SECRET_TYPE,
    SERVER,
    VAULT_TYPE,
    fake_token,
    run,
)
from tests.components.mocked import refused as refused_by
from tests.components.tenancy.test_token_issuer import VAULT_ROLE_TYPE
from tests.pulumi_mocks import Recording

SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"


TENANT = TenantSpec.model_validate({"name": "acme", "labels": {"role": "web"}})


def spec(**kwargs: Any) -> ProjectSpec:
    return ProjectSpec.model_validate(
        {
            "name": "shop",
            "serviceAccounts": [
                {"name": "deployer", "role": "edit", "tokenDuration": "168h"},
                {"name": "reader", "role": "view"},
            ],
            "labelRestrictions": {"tier": ["front", "back"], "stage": []},
            "policies": [{"name": "disallow-latest-tag"}],
            **kwargs,
        }
    )


def args(**overrides: Any) -> ProjectArgs:
    project = overrides.pop("project", spec())
    tenant = overrides.pop("tenant", TENANT)
    values: dict[str, Any] = {
        "tenant": tenant if tenant.projects else tenant.model_copy(update={"projects": [project]}),
        "project": project,
        "platform": PLATFORM,
        "cluster": ClusterEndpoint(server=SERVER, certificate_authority=PEM, name="prod"),
        "platform_labels": {"env": "prod", "loc": "eu"},
        "illumio": IllumioTarget(container_cluster_href=CLUSTER_HREF),
        "vault": VaultTarget(mount="secret", path_prefix="/platform/"),
        "token_issuer": TokenIssuerTarget(mount="kubernetes-prod"),
    }
    values.update(overrides)
    return ProjectArgs(**values)


def build(**overrides: Any) -> Recording:
    def program() -> None:
        project = Project("acme-shop", args(**overrides))
        pulumi.export("namespace", project.namespace)
        pulumi.export("kubeconfigs", project.kubeconfigs)
        pulumi.export("profile_href", project.profile_href)

    return run(program)


def manifest_of(resource: Any) -> dict[str, Any]:
    """The Kubernetes object as sent to the API server, from the recorded inputs."""
    return {k: v for k, v in resource.inputs.items() if not k.startswith("__")}


@pytest.fixture(scope="module")
def recording() -> Recording:
    return build()


def test_graph_types_and_names(recording: Recording):
    names = {(r.type, r.name) for r in recording.resources}
    assert (PROJECT_TYPE, "acme-shop") in names
    expected = {
        ("kubernetes:core/v1:Namespace", "acme-shop-namespace"),
        ("kubernetes:core/v1:ServiceAccount", "acme-shop-sa-deployer"),
        ("kubernetes:core/v1:ServiceAccount", "acme-shop-sa-reader"),
        (SECRET_TYPE, "acme-shop-token-reader"),  # deployer's tokens expire: no Secret
        (
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            "acme-shop-rolebinding-deployer-edit",
        ),
        (
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            "acme-shop-rolebinding-reader-view",
        ),
        ("kubernetes:core/v1:ResourceQuota", "acme-shop-quota"),
        ("kubernetes:core/v1:LimitRange", "acme-shop-limits"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "acme-shop-netpol-default-deny"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "acme-shop-netpol-allow-dns"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "acme-shop-netpol-allow-same-namespace"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "acme-shop-netpol-allow-egress-baseline"),
        (PROFILE_TYPE, "acme-shop-profile"),
        (VAULT_TYPE, "acme-shop-vault-deployer"),
        (VAULT_TYPE, "acme-shop-vault-reader"),
        ("kubernetes:rbac.authorization.k8s.io/v1:Role", "acme-shop-tokenissuer-role"),
        ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "acme-shop-tokenissuer-binding"),
        (VAULT_ROLE_TYPE, "acme-shop-vaultrole-deployer"),
    }
    assert expected <= names
    assert (SECRET_TYPE, "acme-shop-token-deployer") not in names
    policies = {
        r.name for r in recording.resources if r.type.startswith("kubernetes:policies.kyverno.io")
    }
    assert policies == {
        "acme-shop-policy-disallow-latest-tag",
        "acme-shop-policy-disallow-latest-tag-ephemeral",
        "acme-shop-policy-restrict-image-registries",
        "acme-shop-policy-restrict-image-registries-ephemeral",
    }
    assert not recording.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")


def test_every_child_is_parented_to_the_project(recording: Recording):
    project = recording.named("acme-shop", PROJECT_TYPE)
    for resource in recording.resources:
        if resource.type == LABEL_TYPE:
            continue  # labels belong to the registry (here the project's own, checked below)
        if resource is not project:
            assert resource.parent == project.urn, resource.name
    for label in recording.of_type(LABEL_TYPE):
        assert label.parent == project.urn


def test_everything_in_the_namespace_waits_for_it(recording: Recording):
    namespace = recording.named("acme-shop-namespace")
    for resource in recording.resources:
        if resource.type.startswith("kubernetes:") and resource is not namespace:
            assert namespace.urn in resource.dependencies, resource.name
    assert namespace.urn in recording.named("acme-shop-profile").dependencies


def test_token_secret_waits_for_its_service_account_and_is_kept_secret(recording: Recording):
    secret = recording.named("acme-shop-token-reader")
    assert recording.named("acme-shop-sa-reader").urn in secret.dependencies
    assert "data" in secret.additional_secret_outputs
    assert secret.inputs["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "reader",
    }


def test_every_kubernetes_object_is_valid_for_the_pinned_version(recording: Recording):
    checked = 0
    for resource in recording.resources:
        if resource.type.startswith("kubernetes:") and "kyverno.io" not in resource.type:
            validate_manifest(manifest_of(resource))
            checked += 1
    # namespace, 2 SAs, 1 token (deployer's expire), 2 bindings, quota, limits, 4 netpols,
    # the token issuer's Role and RoleBinding
    assert checked == 14


def test_every_policy_is_valid_for_the_kyverno_crds_and_is_namespaced(recording: Recording):
    policies = [r for r in recording.resources if "kyverno.io" in r.type]
    assert len(policies) == 4  # two policies, each with its kubectl debug companion
    for policy in policies:
        validate_kyverno(manifest_of(policy))
        assert policy.inputs["metadata"]["namespace"] == "acme-shop"
        assert policy.inputs["kind"] == "NamespacedValidatingPolicy"


def registry_policy(recording: Recording) -> Any:
    (policy,) = [r for r in recording.resources if r.name.endswith("restrict-image-registries")]
    return policy


def expected_registry_spec(registries: list[str]) -> dict[str, Any]:
    parameters = {"registries": registries}
    return render("restrict-image-registries", parameters, namespace="acme-shop")["spec"]


def test_image_allowlist_policy_carries_the_platform_registries(recording: Recording):
    spec_sent = registry_policy(recording).inputs["spec"]
    assert spec_sent == expected_registry_spec(["ghcr.io/acme", "docker.io"])


def test_tenant_allowlist_wins_over_the_platform_one():
    tenant = TENANT.model_copy(update={"image_allowlist": ["ghcr.io/acme"]})
    spec_sent = registry_policy(build(tenant=tenant)).inputs["spec"]
    assert spec_sent == expected_registry_spec(["ghcr.io/acme"])
    assert spec_sent != expected_registry_spec(["ghcr.io/acme", "docker.io"])


def test_no_registry_policy_without_any_allowlist():
    recording = build(platform=PLATFORM.model_copy(update={"image_allowlist": []}))
    assert not [r for r in recording.resources if "restrict-image-registries" in r.name]


def test_policy_api_and_failure_action_are_used():
    recording = build(policy_api="clusterpolicy", failure_action="Enforce")
    policies = [r for r in recording.resources if "kyverno.io" in r.type]
    assert {p.inputs["kind"] for p in policies} == {"Policy"}
    for policy in policies:
        validate_kyverno(manifest_of(policy))
        assert "Enforce" in json.dumps(policy.inputs["spec"])


def test_policies_wait_for_kyverno_when_it_is_handed_in():
    from components.kyverno.release import Kyverno, KyvernoArgs

    def program() -> None:
        kyverno = Kyverno("kyverno", KyvernoArgs())
        Project("acme-shop", args(kyverno=kyverno))

    recording = run(program)
    release = recording.named("kyverno-release")
    namespace = recording.named("acme-shop-namespace")
    for policy in [r for r in recording.resources if r.name.startswith("acme-shop-policy-")]:
        assert release.urn in policy.dependencies
        assert namespace.urn in policy.dependencies


def test_kubeconfigs_are_secret_and_carry_server_ca_token_namespace_and_user(recording: Recording):
    assert "kubeconfigs" in recording.secret_exports
    kubeconfigs = recording.exports["kubeconfigs"]
    assert set(kubeconfigs) == {"deployer", "reader"}
    for account, text in kubeconfigs.items():
        config = yaml.safe_load(text)
        (cluster,) = config["clusters"]
        (user,) = config["users"]
        (context,) = config["contexts"]
        assert cluster["cluster"]["server"] == SERVER
        ca = base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode()
        assert ca.strip() == PEM
        # deployer's tokens expire: its kubeconfig has none, Vault mints them
        token = {} if account == "deployer" else {"token": fake_token("acme-shop", account)}
        assert user == {"name": account, "user": token}
        assert context["context"] == {"cluster": "prod", "user": account, "namespace": "acme-shop"}


def test_each_kubeconfig_output_is_secret_on_its_own():
    def program() -> None:
        project = Project("acme-shop", args())
        for account, kubeconfig in project.kubeconfigs.items():
            pulumi.export(f"kc-{account}", kubeconfig)

    recording = run(program)
    assert {"kc-deployer", "kc-reader"} <= recording.secret_exports


def test_kubeconfigs_are_stored_in_vault_as_secret_inputs(recording: Recording):
    stored = {r.name: r for r in recording.of_type(VAULT_TYPE)}
    deployer = stored["acme-shop-vault-deployer"]
    assert deployer.inputs["mount"] == "secret"
    assert deployer.inputs["name"] == "platform/tenants/acme/shop/deployer"
    data_json = deployer.inputs["dataJson"]
    assert data_json[SECRET_SIG] == SECRET_VALUE_SIG, "Vault data must be sent as a secret"
    document = json.loads(data_json["value"])
    assert document["namespace"] == "acme-shop"
    assert document["service_account"] == "deployer"
    assert document["token_duration"] == "168h"
    assert document["vault_role"] == "acme-shop.deployer"
    assert document["creds_path"] == "kubernetes-prod/creds/acme-shop.deployer"
    assert yaml.safe_load(document["kubeconfig"])["users"] == [{"name": "deployer", "user": {}}]
    assert "token" not in document["kubeconfig"]
    reader = json.loads(stored["acme-shop-vault-reader"].inputs["dataJson"]["value"])
    assert "token_duration" not in reader and "creds_path" not in reader
    assert fake_token("acme-shop", "reader") in reader["kubeconfig"]


def test_no_vault_target_means_no_vault_secret_but_kubeconfigs_still_exported():
    recording = build(vault=None)
    assert not recording.of_type(VAULT_TYPE)
    assert set(recording.exports["kubeconfigs"]) == {"deployer", "reader"}
    assert "kubeconfigs" in recording.secret_exports


def test_profile_assigns_the_project_identity_and_restricts_project_keys(
    recording: Recording,
):
    """Tenant and platform labels, and `app: <tenant app>-<project>`: a label set no other
    project has, so a PCE rule can tell the project from its siblings."""
    profile = recording.named("acme-shop-profile")
    inputs = profile.inputs
    assert inputs["container_cluster_href"] == CLUSTER_HREF
    assert inputs["namespace"] == "acme-shop"
    assert inputs["enforcement_mode"] == "visibility_only"
    assert inputs["visibility_level"] == "flow_summary"
    assert inputs["assign_labels"] == {
        "app": "/orgs/1/labels/app=acme-shop",
        "role": "/orgs/1/labels/role=web",
        "env": "/orgs/1/labels/env=prod",
        "loc": "/orgs/1/labels/loc=eu",
    }
    restrictions = {k: sorted(v) for k, v in inputs["label_restrictions"].items()}
    assert restrictions == {
        "tier": ["/orgs/1/labels/tier=back", "/orgs/1/labels/tier=front"],
        "stage": [],
    }
    assert (
        recording.exports["profile_href"] == f"{CLUSTER_HREF}/container_workload_profiles/acme-shop"
    )


def test_profile_depends_on_each_of_its_labels(recording: Recording):
    profile = recording.named("acme-shop-profile")
    labels = recording.of_type(LABEL_TYPE)
    assert {(r.inputs["key"], r.inputs["value"]) for r in labels} == {
        ("app", "acme-shop"),
        ("role", "web"),
        ("env", "prod"),
        ("loc", "eu"),
        ("tier", "front"),
        ("tier", "back"),
    }
    for label in labels:
        assert label.urn in profile.dependencies, label.name


def test_project_mode_and_visibility_reach_the_profile():
    recording = build(project=spec(enforcementMode="full", visibilityLevel="flow_drops"))
    inputs = recording.named("acme-shop-profile").inputs
    assert (inputs["enforcement_mode"], inputs["visibility_level"]) == ("full", "flow_drops")


def test_a_shared_registry_is_used_instead_of_a_private_one():
    def program() -> None:
        holder = pulumi.ComponentResource("tenantguard:test:Holder", "holder")
        registry = LabelRegistry(pulumi.ResourceOptions(parent=holder))
        registry.href("env", "prod")
        Project(
            "acme-shop",
            args(
                illumio=IllumioTarget(container_cluster_href=CLUSTER_HREF, label_registry=registry)
            ),
        )

    recording = run(program)
    holder = recording.named("holder")
    assert [r.name for r in recording.of_type(LABEL_TYPE)].count("label-env-prod") == 1
    for label in recording.of_type(LABEL_TYPE):
        assert label.parent == holder.urn


def test_no_illumio_target_means_no_profile_and_no_labels():
    recording = build(illumio=None)
    assert not recording.of_type(PROFILE_TYPE)
    assert not recording.of_type(LABEL_TYPE)
    assert recording.exports["profile_href"] is None


def test_cluster_admin_is_bound_cluster_wide_only_when_the_platform_allows_it():
    project = spec(serviceAccounts=[{"name": "root", "role": "cluster-admin"}])
    allowed = PLATFORM.model_copy(update={"allow_cluster_admin": True})
    recording = build(project=project, platform=allowed)
    (binding,) = recording.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    assert binding.inputs["roleRef"]["name"] == "cluster-admin"
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": "root", "namespace": "acme-shop"}
    ]
    validate_manifest(manifest_of(binding))


def test_custom_roles_make_a_role_or_bind_the_named_one():
    project = spec(
        serviceAccounts=[
            {
                "name": "cm",
                "role": "custom",
                "rules": [{"resources": ["configmaps"], "verbs": ["get"]}],
            },
            {"name": "ext", "role": "custom", "roleName": "auditor", "roleKind": "ClusterRole"},
        ]
    )
    recording = build(project=project)
    (role,) = recording.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    assert role.inputs["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}
    ]
    bindings = {
        r.inputs["subjects"][0]["name"]: r.inputs["roleRef"]
        for r in recording.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    }
    assert bindings["cm"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "cm-custom",
    }
    assert bindings["ext"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "auditor",
    }
    for resource in (
        role,
        *recording.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"),
    ):
        validate_manifest(manifest_of(resource))


# --- validation: every problem raised before any resource registers ----------------------


def refused(**overrides: Any) -> TenancyValidationError:
    """Build a Project that must be refused; assert nothing at all was registered."""
    return refused_by(lambda: Project("acme-shop", args(**overrides)), TenancyValidationError)


def test_quota_above_the_ceiling_is_refused():
    error = refused(project=spec(quota={"requests": {"cpu": "12"}}))
    assert "requests.cpu 12 is above the platform ceiling 8" in str(error)
    assert "'acme'" in str(error) and "'shop'" in str(error)


def test_registry_outside_the_allowlist_is_refused():
    error = refused(
        project=spec(
            policies=[
                {"name": "restrict-image-registries", "parameters": {"registries": ["quay.io"]}}
            ]
        )
    )
    assert "registry 'quay.io' is outside the platform allowlist" in str(error)


def test_invalid_egress_cidr_is_refused():
    error = refused(platform=PLATFORM.model_copy(update={"egress_baseline": ["10.0.0.1/8"]}))
    assert "egressBaseline[0]" in str(error) and "not a valid CIDR" in str(error)


def test_unknown_role_type_is_refused():
    error = refused(project=spec(serviceAccounts=[{"name": "x", "role": "superuser"}]))
    assert "unknown role type 'superuser'" in str(error)


def test_custom_role_without_rules_or_role_name_is_refused():
    error = refused(project=spec(serviceAccounts=[{"name": "x", "role": "custom"}]))
    assert "role 'custom' needs either rules" in str(error)


def test_cluster_admin_not_allowed_by_the_platform_is_refused():
    error = refused(project=spec(serviceAccounts=[{"name": "root", "role": "cluster-admin"}]))
    assert "'cluster-admin' is not allowed by the platform policy" in str(error)


def test_namespace_already_used_by_a_sibling_project_is_refused():
    first = spec(name="a", namespace="shared")
    second = spec(name="b", namespace="shared")
    tenant = TENANT.model_copy(update={"projects": [first, second]})
    error = refused(tenant=tenant, project=second)
    assert "namespace 'shared' is already used" in str(error)


def test_unknown_policy_and_idle_profile_are_all_reported_together():
    error = refused(project=spec(policies=[{"name": "no-such-policy"}], enforcementMode="idle"))
    assert len(error.problems) == 2
    assert "no-such-policy" in str(error)
    assert "cannot be 'idle'" in str(error)


def test_idle_project_without_illumio_is_accepted():
    recording = build(project=spec(enforcementMode="idle"), illumio=None)
    assert recording.of_type(PROJECT_TYPE)
    assert not recording.of_type(PROFILE_TYPE)


def test_policy_listed_twice_is_refused_instead_of_registering_it_twice():
    twice = [{"name": "disallow-latest-tag"}, {"name": "disallow-latest-tag"}]
    error = refused(project=spec(policies=twice))
    assert "policy 'disallow-latest-tag' is listed twice" in str(error)


def test_default_request_above_default_limit_is_refused():
    error = refused(
        project=spec(
            containerDefaults={"defaultRequest": {"cpu": "2"}, "defaultLimit": {"cpu": "1"}}
        )
    )
    assert "default request 2 is above the default limit 1" in str(error)


def test_tenant_label_contradicting_a_platform_label_is_refused():
    error = refused(tenant=TENANT.model_copy(update={"labels": {"env": "dev"}}))
    assert "env=dev conflicts with the platform label env=prod" in str(error)


def test_quota_is_effective_quota_of_project_and_ceiling():
    recording = build(project=spec(quota={"requests": {"cpu": "2"}}))
    quota = recording.named("acme-shop-quota")
    assert quota.inputs["spec"]["hard"] == {
        "requests.cpu": "2",
        "requests.memory": "16Gi",
        "pods": "40",
    }


# --- argument models ------------------------------------------------------------------------


def test_outputs_from_other_resources_are_accepted_for_endpoint_mount_and_cluster():
    def program() -> None:
        cluster = ClusterEndpoint(
            server=pulumi.Output.from_input(SERVER),
            certificate_authority=pulumi.Output.secret(PEM),
            name="prod",
        )
        project = Project(
            "acme-shop",
            args(
                cluster=cluster,
                illumio=IllumioTarget(
                    container_cluster_href=pulumi.Output.from_input(CLUSTER_HREF)
                ),
                vault=VaultTarget(mount=pulumi.Output.from_input("secret")),
            ),
        )
        pulumi.export("kubeconfigs", project.kubeconfigs)

    recording = run(program)
    assert SERVER in recording.exports["kubeconfigs"]["deployer"]
    assert recording.named("acme-shop-profile").inputs["container_cluster_href"] == CLUSTER_HREF
    assert recording.named("acme-shop-vault-deployer").inputs["mount"] == "secret"


def test_bare_address_in_the_egress_baseline_is_refused_as_the_api_server_would():
    error = refused(platform=PLATFORM.model_copy(update={"egress_baseline": ["10.0.0.1"]}))
    (problem,) = error.problems
    assert problem.path == "platformPolicy.egressBaseline[0]"
    assert "10.0.0.1/32" in problem.message


def test_project_listing_the_registry_policy_gets_only_its_own():
    own = {"name": "restrict-image-registries", "parameters": {"registries": ["docker.io"]}}
    recording = build(project=spec(policies=[own]))
    assert registry_policy(recording).inputs["spec"] == expected_registry_spec(["docker.io"])
