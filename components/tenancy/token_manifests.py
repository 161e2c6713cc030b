"""The pure half of expiring service-account tokens (see `components.tenancy.token_issuer`):
names, the issuer's manifests and RBAC, and the Vault backend and role arguments.

No Pulumi here, so tests check the exact RBAC rules and Vault arguments without a runtime,
and the same arguments can be written to a real Vault.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from typing import Any

from components.managed_by import MANAGED_BY, MANAGED_BY_LABEL
from components.tenancy.durations import ttl_seconds
from components.tenancy.kubeconfig import certificate_authority_data
from components.tenancy.models import ProjectSpec, ServiceAccount, TenantSpec
from components.tenancy.problems import Problem

ISSUER_NAMESPACE = "tenantguard-system"
ISSUER_ACCOUNT = "tenantguard-token-issuer"
ISSUER_ROLE = "tenantguard:token-issuer"
"""The issuer's Role and RoleBinding in each project namespace; the ':' keeps the name apart
from every name a project's own RBAC can take (those are built from DNS labels)."""

Manifest = dict[str, Any]
_MOUNT = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
MOUNT_RULE = (
    "a Vault mount path of letters, digits, '.', '_' and '-' segments joined by '/', such as "
    "kubernetes-dev-eu1"
)


def default_mount(cluster_name: str) -> str:
    """Where the cluster's Kubernetes secrets engine is mounted unless told otherwise."""
    return f"kubernetes-{cluster_name}"


def mount_problem(mount: str) -> str | None:
    """None if `mount` is a Vault mount path, else what is allowed."""
    if not _MOUNT.match(mount) or any(part in (".", "..") for part in mount.split("/")):
        return f"{mount!r} is not {MOUNT_RULE}"
    return None


def vault_role_name(namespace: str, account: str) -> str:
    """The Vault role of one account: namespace and account are DNS labels, so the '.'
    keeps every pair distinct."""
    return f"{namespace}.{account}"


def timed_accounts(project: ProjectSpec) -> list[ServiceAccount]:
    """The project's service accounts whose tokens expire (those with a tokenDuration)."""
    return [account for account in project.service_accounts if account.token_duration]


def needs_token_issuer(tenants: Iterable[TenantSpec]) -> bool:
    """Whether any project of `tenants` has an account with a tokenDuration."""
    return any(timed_accounts(project) for tenant in tenants for project in tenant.projects)


def ca_pem(certificate_authority: str) -> str:
    """The CA as PEM text (what Vault's `kubernetes_ca_cert` takes), from PEM or base64 PEM."""
    return base64.b64decode(certificate_authority_data(certificate_authority)).decode().strip()


def _metadata(name: str, namespace: str | None, labels: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata


def issuer_manifests(namespace: str, account: str) -> tuple[Manifest, Manifest, Manifest]:
    """The issuer's Namespace (PSA restricted), ServiceAccount and its token Secret."""
    labels = {MANAGED_BY_LABEL: MANAGED_BY}
    psa = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn")}
    secret_metadata = _metadata(f"{account}-token", namespace, labels)
    secret_metadata["annotations"] = {"kubernetes.io/service-account.name": account}
    return (
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": _metadata(namespace, None, {**labels, **psa}),
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _metadata(account, namespace, labels),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": secret_metadata,
            "type": "kubernetes.io/service-account-token",
        },
    )


def issuer_role_manifest(
    namespace: str, accounts: Sequence[str], labels: dict[str, str]
) -> Manifest:
    """What the issuer may do in a project namespace: mint tokens for `accounts`, nothing else."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _metadata(ISSUER_ROLE, namespace, labels),
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["serviceaccounts/token"],
                "verbs": ["create"],
                "resourceNames": sorted(accounts),
            }
        ],
    }


def issuer_binding_manifest(
    namespace: str, issuer_namespace: str, issuer_account: str, labels: dict[str, str]
) -> Manifest:
    """Binds the issuer's Role in `namespace` to the issuer service account."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _metadata(ISSUER_ROLE, namespace, labels),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ISSUER_ROLE},
        "subjects": [
            {"kind": "ServiceAccount", "name": issuer_account, "namespace": issuer_namespace}
        ],
    }


def backend_role_args(mount: str, namespace: str, account: ServiceAccount) -> dict[str, Any]:
    """`SecretBackendRole` arguments: bound to `account` in `namespace`, TTLs its duration."""
    assert account.token_duration, "only accounts with a tokenDuration get a Vault role"
    seconds = ttl_seconds(account.token_duration)
    return {
        "backend": mount,
        "name": vault_role_name(namespace, account.name),
        "allowed_kubernetes_namespaces": [namespace],
        "service_account_name": account.name,
        "token_default_ttl": seconds,
        "token_max_ttl": seconds,
    }


def backend_args(
    mount: str, *, server: Any, certificate_authority: Any, jwt: Any, max_token_duration: str
) -> dict[str, Any]:
    """`SecretBackend` arguments. The mount's max lease TTL is the platform's token ceiling,
    so Vault's own default (32 days) never cuts a longer duration short."""
    return {
        "path": mount,
        "description": "tenantguard: expiring service-account tokens (TokenRequest)",
        "kubernetes_host": server,
        "kubernetes_ca_cert": certificate_authority,
        "service_account_jwt": jwt,
        "disable_local_ca_jwt": True,
        "max_lease_ttl_seconds": ttl_seconds(max_token_duration),
    }


def platform_mount_problems(
    tenants: Sequence[TenantSpec], cluster_name: str, mount: str | None, path: str
) -> list[Problem]:
    """The backend's mount, when one is needed, must be a Vault mount path."""
    if not needs_token_issuer(tenants):
        return []
    problem = mount_problem(mount or default_mount(cluster_name))
    if problem is None:
        return []
    advice = "" if mount else f" (the default, from cluster name {cluster_name!r})"
    return [Problem(path, f"the Kubernetes secrets engine mount{advice} {problem}")]
