"""components.Platform: one whole platform from typed arguments and connection values.

ClusterOnboarding (the PCE cluster, pairing, credentials in Vault, Kubelink), Kyverno with
its baseline policies, and one Tenant per tenant, all through Kubernetes and Vault
providers the Platform creates itself from the values handed in, so nothing depends on
whichever cluster or Vault the ambient configuration points at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vault as vault
from pydantic import BaseModel, Field

from components.illumio.labels import LabelRegistry
from components.illumio.onboarding import ClusterOnboarding, ClusterOnboardingArgs
from components.kyverno.release import Kyverno, KyvernoArgs, kyverno_problems
from components.policies import validate_parameters
from components.segmentation.component import Segmentation
from components.segmentation.intent import platform_intents
from components.targets import (
    ARGS_CONFIG,
    ClusterEndpoint,
    IllumioTarget,
    SecretInput,
    VaultTarget,
    secret_output,
)
from components.tenancy.models import (
    PlatformPolicy,
    ProjectSpec,
    TenantSpec,
)
from components.tenancy.spec_base import FailureAction, PolicyApi
from components.tenancy.tenant import Tenant, TenantArgs
from components.tenancy.token_issuer import platform_mount_problems, platform_token_issuer
from components.tenancy.validation import (
    RESERVED_NAMESPACES,
    Problem,
    TenancyValidationError,
    validate_tenants,
)

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


class PlatformValidationError(TenancyValidationError):
    """Everything wrong with a platform's spec and connection values; nothing was registered."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        self.args = (
            f"{len(self.problems)} {noun} in the platform spec; nothing was registered:\n{lines}",
        )


def project_key(tenant: TenantSpec, project: ProjectSpec) -> str:
    """`<tenant>/<project>`: how the platform's outputs name a project."""
    return f"{tenant.name}/{project.name}"


class PlatformArgs(BaseModel):
    """The typed arguments of a whole platform, plus how to reach the cluster and Vault.

    A program builds these from whatever it reads (tenantguard's own program maps its stack
    spec with `tenantguard.platform_args.platform_args`); the component reads no config,
    spec or file itself. Secrets (kubeconfig, Vault token, the existing cluster token inside
    `onboarding`) stay secret Outputs and are never shown in a repr or an error.
    """

    model_config = ARGS_CONFIG

    onboarding: ClusterOnboardingArgs
    """The PCE cluster, its pairing profile, Kubelink and where its credentials go in Vault;
    `onboarding.pairing.assign_labels` is filled from `platform_labels` by the Platform."""
    kyverno: KyvernoArgs | None = None
    """None: Kyverno is not installed, and project policies register without depending on it."""
    tenants: list[TenantSpec] = Field(default_factory=list)
    platform: PlatformPolicy = Field(default_factory=PlatformPolicy)
    cluster: ClusterEndpoint
    """What the projects' kubeconfigs point at."""
    vault: VaultTarget
    """The KV v2 mount and prefix every secret of the platform goes under."""
    platform_labels: dict[str, str] = Field(default_factory=dict)
    """Illumio labels (key -> value) assigned to the cluster's nodes and every profile."""
    policy_api: PolicyApi = "validatingpolicy"
    """How project policies render, like the Kyverno component's baseline policies."""
    failure_action: FailureAction = "Audit"
    kubeconfig: SecretInput | None = None
    """Kubeconfig contents or a path to one; None: the provider's own default (KUBECONFIG)."""
    kube_context: str | None = None
    vault_address: str | None = None
    """None: the Vault provider's own default (VAULT_ADDR)."""
    vault_token: SecretInput | None = None
    """None: the Vault provider's own default (VAULT_TOKEN or the token helper)."""
    vault_skip_child_token: bool | None = None
    psa_version: str = Field(default="latest", min_length=1)
    kubernetes_mount: str | None = None
    """Where Vault's Kubernetes secrets engine (expiring tokens) is mounted, if any account has
    a tokenDuration; None: `kubernetes-<cluster.name>`."""


def platform_arg_problems(args: PlatformArgs) -> list[Problem]:
    """The rules only the whole platform can check: tenancy across ALL tenants (namespace
    clashes, reserved namespaces, platform labels) and the Kyverno arguments."""
    reserved = set(RESERVED_NAMESPACES)
    if args.kyverno is not None:
        reserved.add(args.kyverno.namespace)
    problems = validate_tenants(
        args.tenants,
        args.platform,
        path="tenants",
        platform_labels=args.platform_labels,
        platform_labels_path="platformLabels",
        check_policy=validate_parameters,
        reserved_namespaces=reserved,
        illumio_profiles=True,
        baseline_policies=args.kyverno.policies if args.kyverno is not None else (),
    )
    if args.kyverno is not None:
        problems += kyverno_problems(args.kyverno)
    problems += platform_mount_problems(
        args.tenants, args.cluster.name, args.kubernetes_mount, "kubernetes_mount"
    )
    return problems


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
    segmentation: Segmentation
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
        problems = platform_arg_problems(args)
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
        platform_labels = dict(args.platform_labels)
        onboarding = args.onboarding
        if platform_labels:
            pairing = onboarding.pairing.model_copy(
                update={
                    "assign_labels": {
                        key: self.label_registry.href(key, value)
                        for key, value in platform_labels.items()
                    }
                }
            )
            onboarding = onboarding.model_copy(update={"pairing": pairing})
        self.onboarding = ClusterOnboarding(f"{name}-onboarding", onboarding, opts=children)

        self.kyverno = None
        if args.kyverno is not None:
            self.kyverno = Kyverno(f"{name}-kyverno", args.kyverno, opts=children)

        illumio = IllumioTarget(
            container_cluster_href=self.onboarding.cluster_href,
            label_registry=self.label_registry,
        )
        self.token_issuer = platform_token_issuer(
            f"{name}-token-issuer",
            args.tenants,
            cluster=args.cluster,
            mount=args.kubernetes_mount,
            max_token_duration=args.platform.max_token_duration,
            opts=children,
        )
        intents = platform_intents(args.tenants, args.platform, platform_labels)
        self.tenants = {}
        for tenant in args.tenants:
            self.tenants[tenant.name] = Tenant(
                f"{name}-{tenant.name}",
                TenantArgs(
                    tenant=tenant,
                    platform=args.platform,
                    cluster=args.cluster,
                    platform_labels=platform_labels,
                    illumio=illumio,
                    vault=args.vault,
                    kyverno=self.kyverno.release if self.kyverno is not None else None,
                    policy_api=args.policy_api,
                    failure_action=args.failure_action,
                    intents=intents,
                    psa_version=args.psa_version,
                    token_issuer=self.token_issuer.target if self.token_issuer else None,
                ),
                opts=children,
            )

        profiles = {
            f"{tenant_name}/{project_name}": [project.profile]
            for tenant_name, tenant in self.tenants.items()
            for project_name, project in tenant.projects.items()
            if project.profile is not None
        }
        self.segmentation = Segmentation(
            f"{name}-segmentation",
            cluster=args.onboarding.cluster_name,
            intents=intents,
            egress_baseline=list(args.platform.egress_baseline),
            dns_cidrs=list(args.platform.dns_cidrs),
            label_registry=self.label_registry,
            after=profiles,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.cluster_href = self.onboarding.cluster_href
        self.cluster_id = self.onboarding.cluster_id
        self.cluster_token = pulumi.Output.secret(self.onboarding.cluster_token)
        self.kyverno_version = self.kyverno.chart_version if self.kyverno else None
        self.kyverno_app_version = self.kyverno.app_version if self.kyverno else None
        self.project_namespaces = {}
        self.project_profiles = {}
        kubeconfigs: dict[str, Any] = {}
        for tenant in args.tenants:
            for project_spec in tenant.projects:
                project = self.tenants[tenant.name].projects[project_spec.name]
                key = project_key(tenant, project_spec)
                self.project_namespaces[key] = project.namespace
                self.project_profiles[key] = project.profile_href
                kubeconfigs[key] = project.kubeconfigs
        self.project_kubeconfigs = pulumi.Output.secret(kubeconfigs)
        self.register_outputs({name: getattr(self, name) for name in OUTPUT_NAMES})
