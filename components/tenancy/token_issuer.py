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

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault
from pydantic import BaseModel, field_validator

from components.targets import ARGS_CONFIG, ClusterEndpoint, StrInput
from components.tenancy.durations import DEFAULT_MAX_TOKEN_DURATION, ttl_seconds
from components.tenancy.kubeconfig import (
    build_tokenless_kubeconfig,
    token_from_secret_data,
)
from components.tenancy.models import ServiceAccount, TenantSpec
from components.tenancy.problems import Problem
from components.tenancy.spec_base import DnsLabel
from components.tenancy.token_manifests import (
    ISSUER_ACCOUNT,
    ISSUER_NAMESPACE,
    ISSUER_ROLE,
    backend_args,
    backend_role_args,
    ca_pem,
    default_mount,
    issuer_binding_manifest,
    issuer_manifests,
    issuer_role_manifest,
    mount_problem,
    needs_token_issuer,
    platform_mount_problems,
    timed_accounts,
    vault_role_name,
)

TYPE_TOKEN = "tenantguard:index:TokenIssuer"


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


def platform_token_issuer(
    name: str,
    tenants: Sequence[TenantSpec],
    *,
    cluster: ClusterEndpoint,
    mount: str | None,
    max_token_duration: str,
    opts: pulumi.ResourceOptions,
) -> TokenIssuer | None:
    """The platform's TokenIssuer, or None when no account has a tokenDuration (then there is
    no issuer account and no standing credential at all). `mount` None: `kubernetes-<cluster>`."""
    if not needs_token_issuer(tenants):
        return None
    return TokenIssuer(
        name,
        TokenIssuerArgs(
            cluster=cluster,
            mount=mount or default_mount(cluster.name),
            max_token_duration=max_token_duration,
        ),
        opts=opts,
    )


__all__ = [
    "ISSUER_ACCOUNT",
    "ISSUER_NAMESPACE",
    "ISSUER_ROLE",
    "TokenIssuer",
    "TokenIssuerArgs",
    "TokenIssuerTarget",
    "backend_args",
    "backend_role_args",
    "default_mount",
    "issuer_manifests",
    "issuer_problems",
    "issuer_role_manifest",
    "needs_token_issuer",
    "platform_mount_problems",
    "platform_token_issuer",
    "register_project_tokens",
    "timed_accounts",
    "tokenless_kubeconfig",
    "vault_document",
    "vault_role_name",
]
