"""components.Platform: one stack's whole platform from its spec and connection values.

ClusterOnboarding (the PCE cluster, pairing, credentials in Vault, Kubelink), Kyverno with
its baseline policies, and one Tenant per tenant, all through Kubernetes and Vault
providers the Platform creates itself from the values handed in, so nothing depends on
whichever cluster or Vault the ambient configuration points at.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault
from pydantic import BaseModel, Field

from components.cluster_onboarding import ClusterOnboarding
from components.illumio_labels import LabelRegistry
from components.kyverno import Kyverno
from components.platform_plan import (
    PlatformValidationError,
    cluster_endpoint,
    kyverno_args,
    onboarding_args,
    platform_problems,
    project_key,
    vault_target,
)
from components.targets import ARGS_CONFIG, IllumioTarget, SecretInput, secret_output
from components.tenant import Tenant, TenantArgs
from stacks.spec import PlatformSpec

TYPE_TOKEN = "tenantguard:index:Platform"

OUTPUT_NAMES: tuple[str, ...] = (
    "cluster_href",
    "cluster_id",
    "cluster_token",
    "kyverno_version",
    "kyverno_app_version",
    "project_namespaces",
    "project_profiles",
    "project_kubeconfigs",
)
"""The Platform's outputs (attributes of the same names); the program exports them as is."""


class PlatformArgs(BaseModel):
    """The validated stack spec plus how to reach the PCE, the cluster and Vault.

    The program reads these from Pulumi config (`illumio:pceUrl`, `kubernetes:kubeconfig`,
    `kubernetes:context`, `vault:address`, `vault:token`, `vault:skipChildToken`,
    `tenantguard:existingClusterToken`); the component reads no config or files itself.
    Secrets (kubeconfig, Vault token, existing cluster token) stay secret Outputs and are
    never shown in a repr or an error.
    """

    model_config = ARGS_CONFIG

    spec: PlatformSpec
    pce_url: str
    """The PCE's base URL, such as https://pce.example.com:8443 (Kubelink dials its host:port)."""
    kubeconfig: SecretInput | None = None
    """Kubeconfig contents or a path to one; None: the provider's own default (KUBECONFIG)."""
    kube_context: str | None = None
    vault_address: str | None = None
    """None: the Vault provider's own default (VAULT_ADDR)."""
    vault_token: SecretInput | None = None
    """None: the Vault provider's own default (VAULT_TOKEN or the token helper)."""
    vault_skip_child_token: bool | None = None
    existing_cluster_token: SecretInput | None = None
    """The token of a PCE container cluster that already exists under the spec's name."""
    psa_version: str = Field(default="latest", min_length=1)


class Platform(pulumi.ComponentResource):
    """A stack's platform; see the module docstring.

    Everything is validated before the first resource registers (`PlatformValidationError`
    lists every problem). One LabelRegistry, parented here rather than to a tenant, makes
    each Illumio label once, so removing a tenant never touches labels others use.

    Outputs: `cluster_href`, `cluster_id`, `cluster_token` (secret), `kyverno_version` and
    `kyverno_app_version` (None when Kyverno is not installed), and per project
    (`<tenant>/<project>`): `project_namespaces`, `project_profiles`, `project_kubeconfigs`
    (secret: service account -> kubeconfig).

    The providers are named `<name>-kubernetes` and `<name>-vault`; renaming them, or the
    Platform, replaces every resource they manage.
    """

    kubernetes_provider: k8s.Provider
    vault_provider: vault.Provider
    label_registry: LabelRegistry
    onboarding: ClusterOnboarding
    kyverno: Kyverno | None
    tenants: dict[str, Tenant]
    cluster_href: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    cluster_token: pulumi.Output[str]
    kyverno_version: pulumi.Output[str | None] | None
    kyverno_app_version: pulumi.Output[str | None] | None
    project_namespaces: dict[str, pulumi.Output[str]]
    project_profiles: dict[str, pulumi.Output[str] | None]
    project_kubeconfigs: pulumi.Output[dict[str, dict[str, str]]]

    def __init__(
        self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        spec = args.spec
        problems = platform_problems(spec, pce_url=args.pce_url)
        if problems:
            raise PlatformValidationError(problems)
        super().__init__(TYPE_TOKEN, name, None, opts)

        own = pulumi.ResourceOptions(parent=self)
        self.kubernetes_provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=secret_output(args.kubeconfig),
            context=args.kube_context,
            opts=own,
        )
        self.vault_provider = vault.Provider(
            f"{name}-vault",
            address=args.vault_address,
            token=secret_output(args.vault_token),
            skip_child_token=args.vault_skip_child_token,
            opts=own,
        )
        children = pulumi.ResourceOptions(
            parent=self, providers=[self.kubernetes_provider, self.vault_provider]
        )

        self.label_registry = LabelRegistry(own)
        platform_labels = dict(spec.cluster.illumio.labels)
        self.onboarding = ClusterOnboarding(
            f"{name}-onboarding",
            onboarding_args(
                spec,
                pce_url=args.pce_url,
                existing_token=args.existing_cluster_token,
                pairing_labels={
                    key: self.label_registry.href(key, value)
                    for key, value in platform_labels.items()
                },
            ),
            opts=children,
        )

        self.kyverno = None
        if spec.kyverno.enabled:
            self.kyverno = Kyverno(f"{name}-kyverno", kyverno_args(spec), opts=children)

        illumio = IllumioTarget(
            container_cluster_href=self.onboarding.cluster_href,
            label_registry=self.label_registry,
        )
        self.tenants = {}
        for tenant in spec.tenants:
            self.tenants[tenant.name] = Tenant(
                f"{name}-{tenant.name}",
                TenantArgs(
                    tenant=tenant,
                    platform=spec.platform_policy,
                    cluster=cluster_endpoint(spec),
                    platform_labels=platform_labels,
                    illumio=illumio,
                    vault=vault_target(spec),
                    kyverno=self.kyverno.release if self.kyverno is not None else None,
                    policy_api=spec.kyverno.policy_api,
                    failure_action=spec.kyverno.failure_action,
                    psa_version=args.psa_version,
                ),
                opts=children,
            )

        self.cluster_href = self.onboarding.cluster_href
        self.cluster_id = self.onboarding.cluster_id
        self.cluster_token = pulumi.Output.secret(self.onboarding.cluster_token)
        self.kyverno_version = self.kyverno.chart_version if self.kyverno else None
        self.kyverno_app_version = self.kyverno.app_version if self.kyverno else None
        self.project_namespaces = {}
        self.project_profiles = {}
        kubeconfigs: dict[str, Any] = {}
        for tenant in spec.tenants:
            for project_spec in tenant.projects:
                project = self.tenants[tenant.name].projects[project_spec.name]
                key = project_key(tenant, project_spec)
                self.project_namespaces[key] = project.namespace
                self.project_profiles[key] = project.profile_href
                kubeconfigs[key] = project.kubeconfigs
        self.project_kubeconfigs = pulumi.Output.secret(kubeconfigs)
        self.register_outputs({name: getattr(self, name) for name in OUTPUT_NAMES})
