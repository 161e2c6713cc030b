"""ClusterOnboarding: register a Kubernetes cluster in Illumio, pair it, keep its secrets in Vault
and (optionally) install Kubelink/C-VEN with Illumio's Helm chart.

The PCE hands out the container cluster token exactly once; losing it means the cluster can
never be paired. The component therefore stores it (with the cluster id and the pairing key)
in Vault before anything else consumes it, and keeps every copy of it a secret Output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_vault as vault
from pydantic import BaseModel, Field, SecretStr, field_validator

from components.illumio.kubelink_values import (
    ILLUMIO_NAMESPACE,
    KubelinkSettings,
    ca_configmap_manifest,
    kubelink_values_output,
    pce_host_port,
)
from components.managed_by import MANAGED_BY, MANAGED_BY_LABEL
from components.targets import ARGS_CONFIG, StrInput, VaultTarget, secret_output
from components.tenancy.spec_base import DnsLabel
from providers.illumio import ContainerCluster, PairingKey, PairingProfile
from providers.illumio.limits import MAX_NAME, EnforcementMode, VisibilityLevel

TYPE_TOKEN = "tenantguard:index:ClusterOnboarding"
MANAGED_BY_LABELS = {MANAGED_BY_LABEL: MANAGED_BY}

# Kubelink runs as a Deployment, but the C-VEN is a DaemonSet of privileged pods on the host
# network that program each node's firewall. Pod Security Admission at `baseline` or
# `restricted` would reject them, so this one namespace is `privileged`; audit and warn match
# so every install is not flooded with warnings nobody can act on.
ILLUMIO_NAMESPACE_LABELS: dict[str, str] = {
    **MANAGED_BY_LABELS,
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/audit": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
}


VAULT_SECRET_FIELDS: tuple[str, ...] = ("cluster_token", "pairing_key")
"""The fields of the cluster's Vault document (`<prefix>/clusters/<cluster>`) that hold a
secret, the reason its `data_json` is a secret Output; `cluster_id` is public. `tenantguard
render` redacts exactly these fields and shows the rest."""


class PairingSettings(BaseModel):
    """The pairing profile the C-VEN pairs with; its key becomes the chart's `cluster_code`."""

    model_config = ARGS_CONFIG

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    enabled: bool = True
    enforcement_mode: EnforcementMode = "visibility_only"
    visibility_level: VisibilityLevel = "flow_summary"
    assign_labels: dict[str, str | pulumi.Output[str]] | None = None


class ClusterOnboardingArgs(BaseModel):
    """Everything ClusterOnboarding needs; validated before any resource is registered.

    `pce_url` is the PCE's base URL (the program passes the `illumio:pceUrl` config value).
    `existing_token` adopts a cluster whose name is already taken in the PCE: give its token
    (a plain string is kept as a pydantic SecretStr, so it never shows in a repr).
    `vault` is optional: without it no Vault secret is written and the cluster token and
    pairing key live only in the Pulumi state, encrypted as secret outputs of this component.
    With it they go to `<mount>/<prefix>/clusters/<cluster>`.
    """

    model_config = ARGS_CONFIG

    cluster_name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str | None = None
    existing_token: SecretStr | pulumi.Output[str] | None = None
    pce_url: str
    namespace: DnsLabel = ILLUMIO_NAMESPACE
    pairing: PairingSettings = Field(default_factory=PairingSettings)
    vault: VaultTarget | None = None
    kubelink: KubelinkSettings = Field(default_factory=KubelinkSettings)

    @field_validator("cluster_name", mode="after")
    @classmethod
    def _cluster_name(cls, value: str) -> str:
        if value != value.strip() or "/" in value or any(ord(c) < 32 for c in value):
            raise ValueError(
                "must not start or end with whitespace or contain '/' or control characters "
                "(it names the cluster's Vault path)"
            )
        return value

    @field_validator("pce_url", mode="after")
    @classmethod
    def _pce_url(cls, value: str) -> str:
        pce_host_port(value)
        return value

    @property
    def pairing_profile_name(self) -> str:
        """The pairing profile's name: the one given, else `<cluster>-pairing`."""
        return self.pairing.name or f"{self.cluster_name}-pairing"

    @property
    def vault_secret_name(self) -> str | None:
        """The secret's path inside the KV v2 mount, or None without Vault."""
        if self.vault is None:
            return None
        return self.vault.path("clusters", self.cluster_name)

    @property
    def vault_path(self) -> StrInput | None:
        """`<mount>/<path>`, what `vault kv get` takes; None without Vault."""
        if self.vault is None:
            return None
        return self.vault.full_path("clusters", self.cluster_name)


class ClusterOnboarding(pulumi.ComponentResource):
    """A cluster registered in the PCE, paired, its credentials in Vault, Kubelink installed.

    Children, in order: ContainerCluster -> PairingProfile -> PairingKey -> Vault KV v2 secret
    (cluster_id, cluster_token, pairing_key) -> Namespace -> CA ConfigMap (private PCE CA only)
    -> Helm Release (when `kubelink.enabled`). The Release waits for the Vault secret, so the
    once-only token is stored before Kubelink consumes it.

    Outputs: cluster_href, cluster_id, cluster_token (secret), pairing_profile_href,
    pairing_key (secret), vault_path (None without Vault), namespace, release_status (None when
    the chart is disabled). Without Vault the token and key live only in the Pulumi state.
    """

    cluster_href: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    cluster_token: pulumi.Output[str]
    pairing_profile_href: pulumi.Output[str]
    pairing_key: pulumi.Output[str]
    vault_path: StrInput | None
    namespace: pulumi.Output[str]
    release_status: pulumi.Output[str | None] | None
    release: kubernetes.helm.v3.Release | None

    def __init__(
        self,
        name: str,
        args: ClusterOnboardingArgs | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Validate first: a bad argument must fail before the component itself registers.
        if not isinstance(args, ClusterOnboardingArgs):
            args = ClusterOnboardingArgs.model_validate(args)
        super().__init__(TYPE_TOKEN, name, None, opts)

        cluster = ContainerCluster(
            f"{name}-cluster",
            name=args.cluster_name,
            description=args.description,
            existing_token=secret_output(args.existing_token),
            opts=pulumi.ResourceOptions(parent=self),
        )
        profile = PairingProfile(
            f"{name}-pairing",
            name=args.pairing_profile_name,
            enabled=args.pairing.enabled,
            enforcement_mode=args.pairing.enforcement_mode,
            visibility_level=args.pairing.visibility_level,
            assign_labels=args.pairing.assign_labels,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster]),
        )
        key = PairingKey(
            f"{name}-pairing-key",
            pairing_profile_href=profile.href,
            opts=pulumi.ResourceOptions(parent=self),
        )

        cluster_id: pulumi.Output[str] = cluster.cluster_id
        cluster_token = pulumi.Output.secret(cluster.container_cluster_token)
        pairing_key = pulumi.Output.secret(key.activation_code)

        stored: list[pulumi.Resource] = [cluster, key]
        if args.vault is not None:
            data_json = pulumi.Output.secret(
                pulumi.Output.all(cluster_id, cluster_token, pairing_key).apply(
                    lambda parts: json.dumps(
                        {"cluster_id": parts[0], "cluster_token": parts[1], "pairing_key": parts[2]}
                    )
                )
            )
            secret = vault.kv.SecretV2(
                f"{name}-credentials",
                mount=args.vault.mount,
                name=args.vault_secret_name,
                data_json=data_json,
                # Also implied by data_json; stated so the token's safety never hinges on it.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster, key]),
            )
            stored = [secret]

        namespace = kubernetes.core.v1.Namespace(
            f"{name}-namespace",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(
                name=args.namespace, labels=ILLUMIO_NAMESPACE_LABELS
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=stored),
        )
        namespace_name: pulumi.Output[str] = namespace.metadata.apply(lambda m: m.name)

        self.release = None
        self.release_status = None
        if args.kubelink.enabled:
            release_deps: list[pulumi.Resource] = [namespace, *stored]
            ca = ca_configmap_manifest(args.kubelink, args.namespace, MANAGED_BY_LABELS)
            if ca is not None:
                ca_configmap = kubernetes.core.v1.ConfigMap(
                    f"{name}-pce-ca",
                    metadata=kubernetes.meta.v1.ObjectMetaArgs(
                        name=ca["metadata"]["name"],
                        namespace=namespace_name,
                        labels=ca["metadata"]["labels"],
                    ),
                    data=ca["data"],
                    opts=pulumi.ResourceOptions(parent=self),
                )
                release_deps.append(ca_configmap)
            self.release = kubernetes.helm.v3.Release(
                f"{name}-kubelink",
                kubernetes.helm.v3.ReleaseArgs(
                    name=args.kubelink.release_name,
                    chart=args.kubelink.chart,
                    version=args.kubelink.version,
                    namespace=namespace_name,
                    create_namespace=False,
                    values=kubelink_values_output(
                        args.kubelink,
                        pce_url=args.pce_url,
                        cluster_id=cluster_id,
                        cluster_token=cluster_token,
                        cluster_code=pairing_key,
                    ),
                ),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=release_deps,
                    additional_secret_outputs=["values"],
                ),
            )
            self.release_status = self.release.status.apply(
                lambda status: status.status if status is not None else None
            )

        self.cluster_href = cluster.href
        self.cluster_id = cluster_id
        self.cluster_token = cluster_token
        self.pairing_profile_href = profile.href
        self.pairing_key = pairing_key
        self.vault_path = args.vault_path
        self.namespace = namespace_name
        self.register_outputs(
            {
                "cluster_href": self.cluster_href,
                "cluster_id": self.cluster_id,
                "cluster_token": self.cluster_token,
                "pairing_profile_href": self.pairing_profile_href,
                "pairing_key": self.pairing_key,
                "vault_path": self.vault_path,
                "namespace": self.namespace,
                "release_status": self.release_status,
            }
        )
