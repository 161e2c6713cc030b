"""Expiring service-account tokens: the Vault Kubernetes secrets engine, its roles, the
issuer's minimal RBAC, no token Secret for timed accounts, tokenless kubeconfigs, refusals."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pytest
import yaml

from components.tenancy.durations import duration_seconds, ttl_seconds
from components.tenancy.models import PlatformPolicy, ProjectSpec, ServiceAccount, TenantSpec
from components.tenancy.project import ClusterEndpoint, Project, ProjectArgs, VaultTarget
from components.tenancy.token_issuer import (
    TokenIssuer,
    TokenIssuerArgs,
    TokenIssuerTarget,
    backend_role_args,
    issuer_role_manifest,
)
from components.tenancy.validation import TenancyValidationError, validate_tenants
from tests.components.k8s_schema import validate_manifest
from tests.components.mocked import PEM, PLATFORM, SECRET_TYPE, SERVER, VAULT_TYPE, fake_token, run
from tests.components.mocked import refused as refused_by
from tests.pulumi_mocks import Recording

BACKEND_TYPE = "vault:kubernetes/secretBackend:SecretBackend"
VAULT_ROLE_TYPE = "vault:kubernetes/secretBackendRole:SecretBackendRole"
ROLE_TYPE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING_TYPE = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
ISSUER_TYPE = "tenantguard:index:TokenIssuer"
PROJECT_TYPE = "tenantguard:index:Project"

CLUSTER = ClusterEndpoint(server=SERVER, certificate_authority=PEM, name="prod")
ACCOUNTS = [
    {"name": "deployer", "role": "edit", "tokenDuration": "24h"},
    {"name": "auditor", "role": "view", "tokenDuration": "8760h"},
    {"name": "ci", "role": "view", "tokenDuration": "1h30m"},
    {"name": "reader", "role": "view"},
]


def project(accounts: list[dict[str, Any]] = ACCOUNTS) -> ProjectSpec:
    return ProjectSpec.model_validate({"name": "shop", "serviceAccounts": accounts})


def tenant(spec: ProjectSpec) -> TenantSpec:
    return TenantSpec.model_validate({"name": "acme", "projects": [spec.model_dump()]})


def build(spec: ProjectSpec | None = None) -> Recording:
    spec = spec or project()

    def program() -> None:
        issuer = TokenIssuer("issuer", TokenIssuerArgs(cluster=CLUSTER, mount="kubernetes-prod"))
        made = Project(
            "acme-shop",
            ProjectArgs(
                tenant=tenant(spec),
                project=spec,
                platform=PLATFORM,
                cluster=CLUSTER,
                vault=VaultTarget(mount="secret", path_prefix="platform"),
                token_issuer=issuer.target,
            ),
        )
        pulumi.export("kubeconfigs", made.kubeconfigs)

    return run(program)


@pytest.fixture(scope="module")
def recording() -> Recording:
    return build()


# ------------------------------------------------------------------ the backend


def test_one_backend_configured_with_server_ca_and_the_issuer_token(recording: Recording):
    (backend,) = recording.of_type(BACKEND_TYPE)
    issuer = recording.named("issuer", ISSUER_TYPE)
    assert backend.parent == issuer.urn
    inputs = {k: v for k, v in backend.inputs.items() if not k.startswith("__")}
    jwt = inputs.pop("serviceAccountJwt")
    assert inputs == {
        "path": "kubernetes-prod",
        "description": "tenantguard: expiring service-account tokens (TokenRequest)",
        "kubernetesHost": SERVER,
        "kubernetesCaCert": PEM,
        "disableLocalCaJwt": True,
        "maxLeaseTtlSeconds": 8760 * 3600,  # the default platformPolicy.maxTokenDuration
    }
    assert jwt["value"] == fake_token("tenantguard-system", "tenantguard-token-issuer")
    assert pulumi.runtime.rpc._special_sig_key in jwt, "the issuer token must be sent secret"
    assert "serviceAccountJwt" in backend.additional_secret_outputs
    assert recording.named("issuer-token", SECRET_TYPE).urn in backend.dependencies


def test_the_issuer_is_a_dedicated_account_with_its_own_namespace_and_token(
    recording: Recording,
):
    issuer = recording.named("issuer", ISSUER_TYPE)
    namespace = recording.named("issuer-namespace")
    account = recording.named("issuer-sa")
    secret = recording.named("issuer-token")
    for resource in (namespace, account, secret):
        assert resource.parent == issuer.urn
        validate_manifest({k: v for k, v in resource.inputs.items() if not k.startswith("__")})
    assert namespace.inputs["metadata"]["name"] == "tenantguard-system"
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )
    assert account.inputs["metadata"]["name"] == "tenantguard-token-issuer"
    assert account.inputs["automountServiceAccountToken"] is False
    assert secret.inputs["type"] == "kubernetes.io/service-account-token"
    assert secret.inputs["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "tenantguard-token-issuer"
    }
    assert {"data", "stringData"} <= set(secret.additional_secret_outputs)
    # no cluster-wide grant anywhere: the issuer's only rights are the project Roles below
    assert not [r for r in recording.resources if "ClusterRole" in r.type]


# ------------------------------------------------------------------ roles, RBAC, Secrets


def test_one_vault_role_per_timed_account_with_exact_ttls_and_binding(recording: Recording):
    project_urn = recording.named("acme-shop", PROJECT_TYPE).urn
    backend = recording.of_type(BACKEND_TYPE)[0]
    roles = {r.name: r for r in recording.of_type(VAULT_ROLE_TYPE)}
    assert set(roles) == {
        "acme-shop-vaultrole-deployer",
        "acme-shop-vaultrole-auditor",
        "acme-shop-vaultrole-ci",
    }
    for account, seconds in (("deployer", 86400), ("auditor", 31536000), ("ci", 5400)):
        role = roles[f"acme-shop-vaultrole-{account}"]
        assert role.parent == project_urn
        assert backend.urn in role.dependencies
        assert recording.named(f"acme-shop-sa-{account}").urn in role.dependencies
        assert {k: v for k, v in role.inputs.items() if not k.startswith("__")} == {
            "backend": "kubernetes-prod",
            "name": f"acme-shop.{account}",
            "allowedKubernetesNamespaces": ["acme-shop"],
            "serviceAccountName": account,
            "tokenDefaultTtl": seconds,
            "tokenMaxTtl": seconds,
        }


def test_the_issuer_may_only_mint_tokens_for_the_timed_accounts_in_the_namespace(
    recording: Recording,
):
    project_urn = recording.named("acme-shop", PROJECT_TYPE).urn
    namespace = recording.named("acme-shop-namespace")
    role = recording.named("acme-shop-tokenissuer-role", ROLE_TYPE)
    binding = recording.named("acme-shop-tokenissuer-binding", BINDING_TYPE)
    for resource in (role, binding):
        assert resource.parent == project_urn
        assert namespace.urn in resource.dependencies
        validate_manifest({k: v for k, v in resource.inputs.items() if not k.startswith("__")})
        assert resource.inputs["metadata"]["namespace"] == "acme-shop"
        assert resource.inputs["metadata"]["name"] == "tenantguard:token-issuer"
    assert role.inputs["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["serviceaccounts/token"],
            "verbs": ["create"],
            "resourceNames": ["auditor", "ci", "deployer"],
        }
    ]
    assert binding.inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "tenantguard:token-issuer",
    }
    assert binding.inputs["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": "tenantguard-token-issuer",
            "namespace": "tenantguard-system",
        }
    ]


def test_timed_accounts_get_no_token_secret_and_the_others_keep_theirs(recording: Recording):
    token_secrets = {
        r.inputs["metadata"]["name"]
        for r in recording.of_type(SECRET_TYPE)
        if r.inputs["type"] == "kubernetes.io/service-account-token"
        and r.inputs["metadata"]["namespace"] == "acme-shop"
    }
    assert token_secrets == {"reader-token"}


def test_the_vault_kubeconfig_of_a_timed_account_has_no_token(recording: Recording):
    stored = {r.name: r for r in recording.of_type(VAULT_TYPE)}
    document = json.loads(stored["acme-shop-vault-deployer"].inputs["dataJson"]["value"])
    assert document["token_duration"] == "24h"
    assert document["creds_path"] == "kubernetes-prod/creds/acme-shop.deployer"
    config = yaml.safe_load(document["kubeconfig"])
    assert config["users"] == [{"name": "deployer", "user": {}}]
    assert config["contexts"][0]["context"] == {
        "cluster": "prod",
        "user": "deployer",
        "namespace": "acme-shop",
    }
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == SERVER
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode().strip() == (
        PEM
    )
    reader = json.loads(stored["acme-shop-vault-reader"].inputs["dataJson"]["value"])
    assert yaml.safe_load(reader["kubeconfig"])["users"] == [
        {"name": "reader", "user": {"token": fake_token("acme-shop", "reader")}}
    ]
    exported = recording.exports["kubeconfigs"]["deployer"]
    assert yaml.safe_load(exported)["users"] == [{"name": "deployer", "user": {}}]


def test_no_timed_accounts_means_no_issuer_rbac_and_no_vault_roles():
    recording = build(project([{"name": "reader", "role": "view"}]))
    assert not recording.of_type(VAULT_ROLE_TYPE)
    assert not [r for r in recording.resources if "tokenissuer" in r.name]


def test_a_second_run_registers_exactly_the_same_inputs():
    """No timestamps or random values: a no-op `up` has nothing to change."""

    def inputs(recording: Recording) -> dict[str, Any]:
        return {
            r.urn: json.dumps(r.inputs, sort_keys=True, default=str) for r in recording.resources
        }

    assert inputs(build()) == inputs(build())


# ------------------------------------------------------------------ pure builders


def test_pure_builders_match_what_is_registered():
    account = ServiceAccount(name="ci", token_duration="10m")
    assert backend_role_args("k8s", "team-a", account) == {
        "backend": "k8s",
        "name": "team-a.ci",
        "allowed_kubernetes_namespaces": ["team-a"],
        "service_account_name": "ci",
        "token_default_ttl": 600,
        "token_max_ttl": 600,
    }
    assert issuer_role_manifest("team-a", ["b", "a"], {})["rules"][0]["resourceNames"] == [
        "a",
        "b",
    ]
    assert ttl_seconds("8760h") == 31536000
    assert duration_seconds("1.5h") == 5400


# ------------------------------------------------------------------ refusals


def problems(accounts: list[dict[str, Any]], platform: PlatformPolicy = PLATFORM) -> list[str]:
    return [p.message for p in validate_tenants([tenant(project(accounts))], platform)]


@pytest.mark.parametrize(
    ("duration", "reason"),
    [
        ("9m59s", "below Kubernetes' 10-minute minimum"),
        ("1s", "below Kubernetes' 10-minute minimum"),
        ("87600h", "above the platform ceiling 8760h"),  # the seed's 10-year default
        ("600500ms", "not a whole number of seconds"),
    ],
)
def test_durations_outside_10m_to_the_ceiling_are_refused(duration: str, reason: str):
    (message,) = problems([{"name": "ci", "tokenDuration": duration}])
    assert reason in message
    assert "allowed: 10m to 8760h (platformPolicy.maxTokenDuration)" in message


@pytest.mark.parametrize("duration", ["10m", "24h", "168h", "8760h"])
def test_the_seed_durations_and_the_minimum_are_accepted(duration: str):
    assert problems([{"name": "ci", "tokenDuration": duration}]) == []


def test_a_lower_ceiling_refuses_what_the_default_allows():
    platform = PLATFORM.model_copy(update={"max_token_duration": "168h"})
    (message,) = problems([{"name": "ci", "tokenDuration": "8760h"}], platform)
    assert "above the platform ceiling 168h" in message


@pytest.mark.parametrize("ceiling", ["5m", "forever", "600500ms"])
def test_a_ceiling_under_the_minimum_or_not_a_duration_is_refused(ceiling: str):
    with pytest.raises(ValueError, match=r"maxTokenDuration|max_token_duration"):
        PlatformPolicy.model_validate({"maxTokenDuration": ceiling})


def test_a_project_with_timed_accounts_needs_a_token_issuer():
    spec = project()

    def build_it() -> None:
        Project(
            "acme-shop",
            ProjectArgs(tenant=tenant(spec), project=spec, platform=PLATFORM, cluster=CLUSTER),
        )

    error = refused_by(build_it, TenancyValidationError)
    paths = [p.path for p in error.problems]
    assert paths == [f"tenants[0].projects[0].serviceAccounts[{k}].tokenDuration" for k in range(3)]
    assert "token_issuer" in str(error)


def test_a_mount_that_is_not_a_vault_path_is_refused():
    with pytest.raises(ValueError, match="not a Vault mount path"):
        TokenIssuerTarget(mount="/kubernetes//x")
