"""One project service account's kubeconfig, and its copy in Vault KV v2.

An account without a `tokenDuration` gets the token of its long-lived token Secret in its
kubeconfig (as before). An account with one has no such Secret: its kubeconfig carries the
server, the CA, the namespace and the user but no token, and the Vault document says where
to mint one (`creds_path`, see `components.tenancy.token_issuer`).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault

from components.targets import ClusterEndpoint, VaultTarget
from components.tenancy.kubeconfig import build_kubeconfig, token_from_secret_data
from components.tenancy.token_issuer import (
    TokenIssuerTarget,
    tokenless_kubeconfig,
    vault_document,
)


def token_kubeconfig(
    cluster: ClusterEndpoint, namespace: str, user: str, secret: k8s.core.v1.Secret
) -> pulumi.Output[str]:
    """The kubeconfig with the token the token controller put in `secret` (a secret Output)."""
    token = pulumi.Output.secret(secret.data.apply(token_from_secret_data))
    return pulumi.Output.secret(
        pulumi.Output.all(cluster.server, cluster.certificate_authority, token).apply(
            lambda parts: build_kubeconfig(
                cluster_name=cluster.name,
                server=parts[0],
                certificate_authority=parts[1],
                namespace=namespace,
                user=user,
                token=parts[2],
            )
        )
    )


def account_kubeconfig(
    owner: pulumi.Resource,
    name: str,
    *,
    cluster: ClusterEndpoint,
    vault_target: VaultTarget | None,
    path: tuple[str, ...],
    namespace: str,
    service_account: str,
    secret: k8s.core.v1.Secret | None,
    token_duration: str | None,
    token_issuer: TokenIssuerTarget | None,
) -> pulumi.Output[str]:
    """The account's kubeconfig (secret), stored in Vault at `vault_target.path(*path)` when
    a target is given; without a token when `secret` is None (the account's tokens expire)."""
    document: dict[str, Any] = {"namespace": namespace, "service_account": service_account}
    if token_duration:
        document["token_duration"] = token_duration
    if secret is None:
        if token_issuer is None:
            raise ValueError(
                f"service account {service_account!r} has no token Secret and no issuer"
            )
        kubeconfig = tokenless_kubeconfig(cluster, namespace, service_account)
        document.update(vault_document(token_issuer, namespace, service_account))
    else:
        kubeconfig = token_kubeconfig(cluster, namespace, service_account, secret)
    if vault_target is not None:
        vault.kv.SecretV2(
            f"{name}-vault-{service_account}",
            mount=vault_target.mount,
            name=vault_target.path(*path),
            data_json=pulumi.Output.secret(
                kubeconfig.apply(lambda kc: json.dumps({**document, "kubeconfig": kc}))
            ),
            opts=pulumi.ResourceOptions(
                parent=owner, additional_secret_outputs=["data", "data_json"]
            ),
        )
    return kubeconfig
