"""Expiring service-account tokens through Vault's Kubernetes secrets engine.

A service account with a `tokenDuration` gets no long-lived token Secret. Instead:

- one `vault.kubernetes.SecretBackend` per cluster (the `TokenIssuer` component), mounted at
  `kubernetes-<cluster>` unless told otherwise, configured with the API server, the CA and
  the token of a dedicated issuer service account (`tenantguard-token-issuer` in
  `tenantguard-system`). That token is the one standing credential, and all it may do is
  mint tokens for the accounts named below;
- per project with such accounts, a Role and RoleBinding giving the issuer `create` on
  `serviceaccounts/token` for exactly those accounts (`resourceNames`), in that namespace;
- per such account, a `vault.kubernetes.SecretBackendRole` `<namespace>.<account>` bound to
  the account in its namespace, default and max TTL equal to the duration.

`vault write <mount>/creds/<namespace>.<account> kubernetes_namespace=<namespace>` then makes
Vault call TokenRequest and hand back a token that expires after the duration. Nothing here
depends on the time or on random values, so a `pulumi up` without a spec change changes
nothing. The builders are pure; `TokenIssuer` and `register_project_tokens` register them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault
from pydantic import BaseModel, field_validator

from components.managed_by import MANAGED_BY, MANAGED_BY_LABEL
from components.targets import ARGS_CONFIG, ClusterEndpoint, StrInput
from components.tenancy.durations import DEFAULT_MAX_TOKEN_DURATION, ttl_seconds
from components.tenancy.kubeconfig import (
    build_tokenless_kubeconfig,
    certificate_authority_data,
    token_from_secret_data,
)
from components.tenancy.models import ProjectSpec, ServiceAccount, TenantSpec
from components.tenancy.problems import Problem
from components.tenancy.spec_base import DnsLabel

TYPE_TOKEN = "tenantguard:index:TokenIssuer"
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


class TokenIssuerTarget(BaseModel):
    """Where a project's expiring tokens come from: the backend's mount and the issuer account
    its Roles bind. `backend` (the SecretBackend) is what the Vault roles wait for."""

    model_config = ARGS_CONFIG

    mount: str
    namespace: str = ISSUER_NAMESPACE
    service_account: str = ISSUER_ACCOUNT
    backend: pulumi.Resource | None = None

    @field_validator("mount")
    @classmethod
    def _mount(cls, value: str) -> str:
        problem = mount_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    def creds_path(self, namespace: str, account: str) -> str:
        """What `vault write` takes to mint a token for `account`."""
        return f"{self.mount}/creds/{vault_role_name(namespace, account)}"


class TokenIssuerArgs(BaseModel):
    """The cluster the backend mints tokens on, its mount and the token ceiling."""

    model_config = ARGS_CONFIG

    cluster: ClusterEndpoint
    mount: str
    max_token_duration: str = DEFAULT_MAX_TOKEN_DURATION
    namespace: DnsLabel = ISSUER_NAMESPACE
    service_account: DnsLabel = ISSUER_ACCOUNT

    @field_validator("mount")
    @classmethod
    def _mount(cls, value: str) -> str:
        return TokenIssuerTarget._mount(value)

    @field_validator("max_token_duration")
    @classmethod
    def _ceiling(cls, value: str) -> str:
        ttl_seconds(value)
        return value


def _pem(value: StrInput | None) -> pulumi.Output[str]:
    if value is None:
        raise ValueError("the token issuer needs the cluster's CA (certificate_authority)")
    return pulumi.Output.from_input(value).apply(ca_pem)


class TokenIssuer(pulumi.ComponentResource):
    """The cluster's Kubernetes secrets engine and the issuer account it is configured with.

    Outputs: `target` (hand it to Tenant/Project as `token_issuer`), `mount`.
    """

    target: TokenIssuerTarget
    backend: vault.kubernetes.SecretBackend

    def __init__(
        self, name: str, args: TokenIssuerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        ns_manifest, sa_manifest, secret_manifest = issuer_manifests(
            args.namespace, args.service_account
        )
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=ns_manifest["metadata"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=sa_manifest["metadata"],
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        secret = k8s.core.v1.Secret(
            f"{name}-token",
            metadata=secret_manifest["metadata"],
            type=secret_manifest["type"],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[namespace, account],
                additional_secret_outputs=["data", "stringData"],
            ),
        )
        jwt = pulumi.Output.secret(secret.data.apply(token_from_secret_data))
        self.backend = vault.kubernetes.SecretBackend(
            f"{name}-backend",
            **backend_args(
                args.mount,
                server=args.cluster.server,
                certificate_authority=_pem(args.cluster.certificate_authority),
                jwt=jwt,
                max_token_duration=args.max_token_duration,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, additional_secret_outputs=["service_account_jwt"]
            ),
        )
        self.target = TokenIssuerTarget(
            mount=args.mount,
            namespace=args.namespace,
            service_account=args.service_account,
            backend=self.backend,
        )
        self.mount = self.backend.path
        self.register_outputs({"mount": self.mount})


def issuer_problems(tenant: TenantSpec, target: TokenIssuerTarget | None) -> list[Problem]:
    """Accounts with a tokenDuration get their tokens from a token issuer: none without one."""
    if target is not None:
        return []
    return [
        Problem(
            f"tenants[0].projects[{j}].serviceAccounts[{k}].tokenDuration",
            f"tenant {tenant.name!r}, project {project.name!r}, service account "
            f"{account.name!r}: an expiring token is minted by Vault's Kubernetes secrets "
            "engine; allowed: a token_issuer target (components.tenancy.token_issuer), or no "
            "tokenDuration",
        )
        for j, project in enumerate(tenant.projects)
        for k, account in enumerate(project.service_accounts)
        if account.token_duration
    ]


def register_project_tokens(
    owner: pulumi.Resource,
    name: str,
    *,
    target: TokenIssuerTarget,
    namespace: str,
    labels: dict[str, str],
    accounts: Sequence[tuple[ServiceAccount, pulumi.Resource]],
    depends_on: Sequence[pulumi.Resource],
) -> dict[str, vault.kubernetes.SecretBackendRole]:
    """The issuer's Role + RoleBinding in `namespace` and one Vault role per timed account."""
    if not accounts:
        return {}
    in_namespace = pulumi.ResourceOptions(parent=owner, depends_on=list(depends_on))
    role = issuer_role_manifest(namespace, [account.name for account, _ in accounts], labels)
    k8s.rbac.v1.Role(
        f"{name}-tokenissuer-role",
        metadata=role["metadata"],
        rules=role["rules"],
        opts=in_namespace,
    )
    binding = issuer_binding_manifest(namespace, target.namespace, target.service_account, labels)
    k8s.rbac.v1.RoleBinding(
        f"{name}-tokenissuer-binding",
        metadata=binding["metadata"],
        role_ref=binding["roleRef"],
        subjects=binding["subjects"],
        opts=in_namespace,
    )
    backend = [target.backend] if target.backend is not None else []
    return {
        account.name: vault.kubernetes.SecretBackendRole(
            f"{name}-vaultrole-{account.name}",
            **backend_role_args(target.mount, namespace, account),
            opts=pulumi.ResourceOptions(parent=owner, depends_on=[*backend, resource]),
        )
        for account, resource in accounts
    }


def tokenless_kubeconfig(cluster: ClusterEndpoint, namespace: str, user: str) -> pulumi.Output[str]:
    """The account's kubeconfig without a token (server, CA, namespace, user), a secret Output
    like every kubeconfig."""
    return pulumi.Output.secret(
        pulumi.Output.all(cluster.server, cluster.certificate_authority).apply(
            lambda parts: build_tokenless_kubeconfig(
                cluster_name=cluster.name,
                server=parts[0],
                certificate_authority=parts[1],
                namespace=namespace,
                user=user,
            )
        )
    )


def vault_document(target: TokenIssuerTarget, namespace: str, account: str) -> dict[str, str]:
    """What the KV document of a timed account adds: where its tokens are minted."""
    return {
        "vault_role": vault_role_name(namespace, account),
        "creds_path": target.creds_path(namespace, account),
    }
