"""Kubernetes objects of one project, as plain manifests (dicts), built from the tenancy spec.

Pure functions, no Pulumi: the Project component registers these objects, and tests
validate them against Kubernetes' OpenAPI schemas without any runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.managed_by import MANAGED_BY, MANAGED_BY_LABEL
from components.segmentation.intent import ProjectIntent, project_intent
from components.segmentation.network_policies import project_network_policies
from components.tenancy.apps import AppManifests, app_manifests
from components.tenancy.models import (
    ContainerDefaults,
    PlatformPolicy,
    PolicyRef,
    ProjectSpec,
    Quota,
    RbacRule,
    ServiceAccount,
    TenantSpec,
    effective_allowlist,
    project_namespace,
)
from components.tenancy.spec_base import PsaLevel

Manifest = dict[str, Any]

TENANT_LABEL = "tenantguard.io/tenant"
PROJECT_LABEL = "tenantguard.io/project"
SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"
TOKEN_DURATION_ANNOTATION = "tenantguard.io/token-duration"
PSA_PREFIX = "pod-security.kubernetes.io"
PSA_AUDIT_WARN_LEVEL: PsaLevel = "restricted"
"""audit and warn always report against `restricted`, so tenants see what would break
if their namespace were tightened, whatever `enforce` is."""

NAMESPACED_ROLES: frozenset[str] = frozenset({"view", "edit", "admin"})


def project_labels(tenant: TenantSpec, project: ProjectSpec) -> dict[str, str]:
    """Labels on every object of the project: owner tenant, project and manager."""
    return {
        TENANT_LABEL: tenant.name,
        PROJECT_LABEL: project.name,
        MANAGED_BY_LABEL: MANAGED_BY,
    }


def _metadata(name: str, namespace: str | None, labels: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata


def namespace_manifest(
    tenant: TenantSpec,
    project: ProjectSpec,
    platform: PlatformPolicy,
    *,
    psa_version: str = "latest",
) -> Manifest:
    """The project's Namespace with tenancy labels and Pod Security Admission labels.

    `enforce` is the project's level, else the platform default; `audit` and `warn`
    are always `restricted`. The `-version` labels pin which release's PSA rules apply
    (`latest` follows the cluster's version, the PSA default made explicit).
    """
    enforce = project.psa_level or platform.default_psa_level
    labels = project_labels(tenant, project)
    for mode, level in (
        ("enforce", enforce),
        ("audit", PSA_AUDIT_WARN_LEVEL),
        ("warn", PSA_AUDIT_WARN_LEVEL),
    ):
        labels[f"{PSA_PREFIX}/{mode}"] = level
        labels[f"{PSA_PREFIX}/{mode}-version"] = psa_version
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _metadata(project_namespace(tenant, project), None, labels),
    }


def service_account_manifest(
    namespace: str, account: ServiceAccount, labels: dict[str, str]
) -> Manifest:
    """The ServiceAccount; pods that use it must opt in to mounting its token."""
    metadata = _metadata(account.name, namespace, labels)
    annotations: dict[str, str] = {}
    if account.description:
        annotations["tenantguard.io/description"] = account.description
    if account.token_duration:
        annotations[TOKEN_DURATION_ANNOTATION] = account.token_duration
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata,
        "automountServiceAccountToken": False,
    }


def token_secret_name(account: ServiceAccount) -> str:
    """The name of the account's long-lived token Secret."""
    return f"{account.name}-token"


def token_secret_manifest(
    namespace: str, account: ServiceAccount, labels: dict[str, str]
) -> Manifest:
    """A `kubernetes.io/service-account-token` Secret the token controller fills in.

    Such tokens do not expire, so `project_manifests` builds one only for an account
    without a `tokenDuration`; an account with one gets expiring tokens from Vault
    (`components.tenancy.token_issuer`) and no Secret at all.
    """
    annotations = {SERVICE_ACCOUNT_NAME_ANNOTATION: account.name}
    if account.token_duration:
        annotations[TOKEN_DURATION_ANNOTATION] = account.token_duration
    metadata = _metadata(token_secret_name(account), namespace, labels)
    metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": "kubernetes.io/service-account-token",
    }


def _subject(namespace: str, account: ServiceAccount) -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": account.name, "namespace": namespace}


def _rule(rule: RbacRule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apiGroups": list(rule.api_groups),
        "resources": list(rule.resources),
        "verbs": list(rule.verbs),
    }
    if rule.resource_names:
        out["resourceNames"] = list(rule.resource_names)
    return out


def cluster_role_binding_name(namespace: str, account: ServiceAccount) -> str:
    """Cluster-scoped, so the namespace is part of the name to keep it unique."""
    return f"tenantguard:{namespace}:{account.name}:cluster-admin"


def rbac_manifests(
    namespace: str, account: ServiceAccount, labels: dict[str, str]
) -> list[Manifest]:
    """The Role/RoleBinding/ClusterRoleBinding that give `account` its role type.

    view/edit/admin bind the built-in ClusterRole inside the namespace only;
    cluster-admin binds cluster-wide (validation refuses it unless the platform allows
    it); custom makes a Role from `rules`, or binds the named Role/ClusterRole.
    """
    subjects = [_subject(namespace, account)]
    if account.role in NAMESPACED_ROLES:
        return [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": _metadata(f"{account.name}-{account.role}", namespace, labels),
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": account.role,
                },
                "subjects": subjects,
            }
        ]
    if account.role == "cluster-admin":
        return [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": _metadata(cluster_role_binding_name(namespace, account), None, labels),
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "cluster-admin",
                },
                "subjects": subjects,
            }
        ]
    if account.role == "custom" and account.rules:
        role_name = f"{account.name}-custom"
        return [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": _metadata(role_name, namespace, labels),
                "rules": [_rule(rule) for rule in account.rules],
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": _metadata(role_name, namespace, labels),
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": role_name,
                },
                "subjects": subjects,
            },
        ]
    if account.role == "custom" and account.role_name:
        return [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": _metadata(f"{account.name}-{account.role_name}", namespace, labels),
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": account.role_kind,
                    "name": account.role_name,
                },
                "subjects": subjects,
            }
        ]
    raise ValueError(
        f"service account {account.name!r}: role {account.role!r} cannot be built "
        "(run components.tenancy.validation.validate_tenants first)"
    )


def resource_quota_manifest(
    namespace: str, quota: Quota, labels: dict[str, str]
) -> Manifest | None:
    """The ResourceQuota, or None when neither the project nor the platform sets any amount."""
    hard = quota.hard()
    if not hard:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _metadata("tenantguard-quota", namespace, labels),
        "spec": {"hard": hard},
    }


def _amounts(cpu: str | None, memory: str | None) -> dict[str, str]:
    return {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}


def limit_range_manifest(
    namespace: str, defaults: ContainerDefaults, labels: dict[str, str]
) -> Manifest:
    """Default requests and limits per container, so the quota admits pods that set none."""
    limit: dict[str, Any] = {"type": "Container"}
    default_limit = _amounts(defaults.default_limit.cpu, defaults.default_limit.memory)
    default_request = _amounts(defaults.default_request.cpu, defaults.default_request.memory)
    if default_limit:
        limit["default"] = default_limit
    if default_request:
        limit["defaultRequest"] = default_request
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _metadata("tenantguard-defaults", namespace, labels),
        "spec": {"limits": [limit]},
    }


@dataclass(frozen=True)
class AccountManifests:
    """What one service account needs: itself, its token Secret, its RBAC objects."""

    account: ServiceAccount
    service_account: Manifest
    token_secret: Manifest | None
    """None for an account with a tokenDuration: Vault mints its expiring tokens."""
    rbac: list[Manifest]


@dataclass(frozen=True)
class ProjectManifests:
    """Every Kubernetes object of one project, in the order they should be created."""

    namespace: Manifest
    accounts: list[AccountManifests] = field(default_factory=list)
    resource_quota: Manifest | None = None
    limit_range: Manifest | None = None
    network_policies: list[Manifest] = field(default_factory=list)
    apps: list[AppManifests] = field(default_factory=list)

    def all(self) -> list[Manifest]:
        """Every manifest, namespace first, the apps last."""
        out = [self.namespace]
        for account in self.accounts:
            out.append(account.service_account)
            if account.token_secret is not None:
                out.append(account.token_secret)
            out += account.rbac
        if self.resource_quota is not None:
            out.append(self.resource_quota)
        if self.limit_range is not None:
            out.append(self.limit_range)
        out += self.network_policies
        for app in self.apps:
            out += app.all()
        return out


def project_manifests(
    tenant: TenantSpec,
    project: ProjectSpec,
    platform: PlatformPolicy,
    *,
    quota: Quota,
    psa_version: str = "latest",
    intent: ProjectIntent | None = None,
) -> ProjectManifests:
    """All Kubernetes objects of `project`, its apps included (policies and Illumio objects
    are built elsewhere).

    `quota` is the effective quota (`effective_quota(project, platform)`). `intent` is the
    project's segmentation intent across the whole stack (`platform_intents`); without it,
    the intent is derived from this tenant alone.
    """
    namespace = project_namespace(tenant, project)
    labels = project_labels(tenant, project)
    accounts = [
        AccountManifests(
            account=account,
            service_account=service_account_manifest(namespace, account, labels),
            token_secret=(
                None
                if account.token_duration
                else token_secret_manifest(namespace, account, labels)
            ),
            rbac=rbac_manifests(namespace, account, labels),
        )
        for account in project.service_accounts
    ]
    return ProjectManifests(
        namespace=namespace_manifest(tenant, project, platform, psa_version=psa_version),
        accounts=accounts,
        resource_quota=resource_quota_manifest(namespace, quota, labels),
        limit_range=limit_range_manifest(namespace, project.container_defaults, labels),
        network_policies=project_network_policies(
            intent or project_intent(tenant, project, platform),
            labels,
        ),
        apps=[
            app_manifests(app, namespace, labels, project.container_defaults, platform)
            for app in project.apps
        ],
    )


RESTRICT_REGISTRIES_POLICY = "restrict-image-registries"


def project_policy_refs(
    tenant: TenantSpec, project: ProjectSpec, platform: PlatformPolicy
) -> list[PolicyRef]:
    """The library policies the project gets: its own list, plus the image allowlist.

    When the effective allowlist (the tenant's, else the platform's) is non-empty the
    project always gets `restrict-image-registries` with it, unless the project lists
    that policy itself (validation requires its `registries` then, within the platform
    allowlist).
    """
    allowlist = effective_allowlist(tenant, platform)
    refs = list(project.policies)
    if allowlist and all(ref.name != RESTRICT_REGISTRIES_POLICY for ref in refs):
        refs.append(
            PolicyRef(name=RESTRICT_REGISTRIES_POLICY, parameters={"registries": allowlist})
        )
    return refs
