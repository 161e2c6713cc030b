"""components.Project: one tenant project as a namespace that is safe by default.

Namespace with PSA labels, service accounts with RBAC and token Secrets (or, with a
`tokenDuration`, Vault roles that mint expiring tokens), quota and
container defaults, default-deny NetworkPolicies with DNS/namespace/egress-baseline
allowances, namespaced Kyverno policies, the Illumio workload profile, one
kubeconfig per service account (a secret output, also stored in Vault KV v2), and the
project's apps (Deployment, Service, Ingress; see `components.tenancy.apps`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, Field

from components.illumio.labels import LabelRegistry
from components.kyverno.policy_resources import policy_resources
from components.policies import validate_parameters
from components.segmentation.intent import ProjectIntent, identity_labels
from components.targets import ARGS_CONFIG, ClusterEndpoint, IllumioTarget, VaultTarget
from components.tenancy.account_kubeconfigs import account_kubeconfig
from components.tenancy.manifests import (
    Manifest,
    project_manifests,
    project_policy_refs,
)
from components.tenancy.models import (
    PlatformPolicy,
    ProjectSpec,
    TenantSpec,
    effective_quota,
    project_namespace,
)
from components.tenancy.spec_base import FailureAction, PolicyApi
from components.tenancy.token_issuer import (
    TokenIssuerTarget,
    issuer_problems,
    register_project_tokens,
)
from components.tenancy.validation import Problem, TenancyValidationError, validate_tenants
from providers.illumio import ContainerWorkloadProfile

TYPE_TOKEN = "tenantguard:index:Project"


class ProjectPlacement(BaseModel):
    """What every project of a stack shares: the platform policy and the targets its
    objects go to (cluster, Illumio, Vault), the Kyverno it waits for, and policy style.

    TenantArgs and ProjectArgs both extend it, so a Tenant hands it on unchanged.
    """

    model_config = ARGS_CONFIG

    platform: PlatformPolicy
    cluster: ClusterEndpoint
    platform_labels: dict[str, str] = Field(default_factory=dict)
    """Illumio labels every profile is assigned (env, loc)."""
    illumio: IllumioTarget | None = None
    vault: VaultTarget | None = None
    kyverno: pulumi.Resource | None = None
    """The Kyverno component (or its Release): policies wait for it and are destroyed first."""
    policy_api: PolicyApi = "validatingpolicy"
    failure_action: FailureAction = "Audit"
    psa_version: str = "latest"
    token_issuer: TokenIssuerTarget | None = None
    """Vault's Kubernetes secrets engine: required once an account has a tokenDuration."""
    intents: dict[str, ProjectIntent] | None = None
    """The stack-wide segmentation intents (`<tenant>/<project>` -> intent, from
    `platform_intents`), so flows between tenants reach both projects' NetworkPolicies;
    None: each project's intent is derived from its tenant alone."""

    def placement(self) -> dict[str, Any]:
        """The shared fields as keyword arguments, to build another ProjectPlacement from."""
        return {name: getattr(self, name) for name in ProjectPlacement.model_fields}


class ProjectArgs(ProjectPlacement):
    """Everything a Project needs; the program hands it all in (no config or files read)."""

    tenant: TenantSpec
    project: ProjectSpec


def kubeconfig_problems(tenant: TenantSpec, cluster: ClusterEndpoint) -> list[Problem]:
    """Service accounts get kubeconfigs, which carry the cluster's CA: none without one."""
    if cluster.certificate_authority is not None:
        return []
    return [
        Problem(
            f"tenants[0].projects[{j}].serviceAccounts",
            f"tenant {tenant.name!r}, project {project.name!r}: service accounts get "
            "kubeconfigs, which carry the cluster's CA; allowed: a cluster endpoint with a "
            "certificate_authority, or no service accounts",
        )
        for j, project in enumerate(tenant.projects)
        if project.service_accounts
    ]


def project_problems(
    tenant: TenantSpec,
    project: ProjectSpec,
    platform: PlatformPolicy,
    *,
    cluster: ClusterEndpoint,
    platform_labels: Mapping[str, str],
    with_illumio: bool,
    token_issuer: TokenIssuerTarget | None = None,
) -> list[Problem]:
    """Every problem with this project (and the platform policy), found before registering.

    The project is checked among its siblings, so a namespace a sibling already uses is
    reported; problems that belong only to a sibling are left out.
    """
    siblings = list(tenant.projects)
    if project not in siblings:
        siblings.append(project)
    mine = f"tenants[0].projects[{siblings.index(project)}]"
    scoped = tenant.model_copy(update={"projects": siblings})
    problems = validate_tenants(
        [scoped],
        platform,
        platform_labels=platform_labels,
        check_policy=validate_parameters,
        illumio_profiles=with_illumio,
    )
    problems += kubeconfig_problems(scoped, cluster)
    problems += issuer_problems(scoped, token_issuer)
    return [
        p
        for p in problems
        if ".projects[" not in p.path or p.path.startswith(mine + ".") or p.path == mine
    ]


_SPEC_KINDS: dict[str, Any] = {
    "ResourceQuota": k8s.core.v1.ResourceQuota,
    "LimitRange": k8s.core.v1.LimitRange,
    "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    "Deployment": k8s.apps.v1.Deployment,
    "Service": k8s.core.v1.Service,
    "Ingress": k8s.networking.v1.Ingress,
}
_BINDING_KINDS: dict[str, Any] = {
    "RoleBinding": k8s.rbac.v1.RoleBinding,
    "ClusterRoleBinding": k8s.rbac.v1.ClusterRoleBinding,
}


def _k8s_resource(name: str, manifest: Manifest, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """Register one manifest as its typed pulumi-kubernetes resource."""
    kind = manifest["kind"]
    metadata = manifest["metadata"]
    if kind in _SPEC_KINDS:
        return _SPEC_KINDS[kind](name, metadata=metadata, spec=manifest["spec"], opts=opts)
    if kind in _BINDING_KINDS:
        return _BINDING_KINDS[kind](
            name,
            metadata=metadata,
            role_ref=manifest["roleRef"],
            subjects=manifest["subjects"],
            opts=opts,
        )
    if kind == "Namespace":
        return k8s.core.v1.Namespace(name, metadata=metadata, opts=opts)
    if kind == "ServiceAccount":
        return k8s.core.v1.ServiceAccount(
            name,
            metadata=metadata,
            automount_service_account_token=manifest.get("automountServiceAccountToken"),
            opts=opts,
        )
    if kind == "Secret":
        return k8s.core.v1.Secret(name, metadata=metadata, type=manifest["type"], opts=opts)
    if kind == "Role":
        return k8s.rbac.v1.Role(name, metadata=metadata, rules=manifest["rules"], opts=opts)
    raise ValueError(f"no resource class for kind {kind!r}")


class Project(pulumi.ComponentResource):
    """One project namespace and everything it gets (see the module docstring).

    Outputs: `namespace`, `kubeconfigs` (service account -> kubeconfig, each secret),
    `profile_href` (None without an Illumio target).

    An account without a `tokenDuration` gets a `kubernetes.io/service-account-token`
    Secret, whose token never expires, and that token in its kubeconfig. An account with
    one gets no such Secret: Vault's Kubernetes secrets engine (`token_issuer`, see
    `components.tenancy.token_issuer`) mints TokenRequest tokens that expire, and its
    kubeconfig carries no token. No token is minted at deploy time, so `pulumi up`
    stays idempotent.
    """

    namespace: pulumi.Output[str]
    kubeconfigs: dict[str, pulumi.Output[str]]
    profile_href: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: ProjectArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        tenant, project, platform = args.tenant, args.project, args.platform
        problems = project_problems(
            tenant,
            project,
            platform,
            cluster=args.cluster,
            platform_labels=args.platform_labels,
            with_illumio=args.illumio is not None,
            token_issuer=args.token_issuer,
        )
        if problems:
            raise TenancyValidationError(problems)
        policy_refs = project_policy_refs(tenant, project, platform)
        super().__init__(TYPE_TOKEN, name, None, opts)

        namespace_name = project_namespace(tenant, project)
        manifests = project_manifests(
            tenant,
            project,
            platform,
            quota=effective_quota(project, platform),
            psa_version=args.psa_version,
            intent=(args.intents or {}).get(f"{tenant.name}/{project.name}"),
        )
        namespace = _k8s_resource(
            f"{name}-namespace", manifests.namespace, pulumi.ResourceOptions(parent=self)
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        self.kubeconfigs = {}
        self.service_accounts: dict[str, pulumi.Resource] = {}
        self.token_secrets: dict[str, k8s.core.v1.Secret] = {}
        timed: list[tuple[Any, pulumi.Resource]] = []
        for account in manifests.accounts:
            sa_name = account.account.name
            service_account = _k8s_resource(
                f"{name}-sa-{sa_name}", account.service_account, in_namespace
            )
            secret = None
            if account.token_secret is None:  # expiring tokens only, minted by Vault
                timed.append((account.account, service_account))
            else:
                secret = _k8s_resource(
                    f"{name}-token-{sa_name}",
                    account.token_secret,
                    pulumi.ResourceOptions(
                        parent=self,
                        depends_on=[namespace, service_account],
                        additional_secret_outputs=["data", "stringData"],
                    ),
                )
                assert isinstance(secret, k8s.core.v1.Secret)
                self.token_secrets[sa_name] = secret
            for manifest in account.rbac:
                _k8s_resource(
                    f"{name}-{manifest['kind'].lower()}-{manifest['metadata']['name']}",
                    manifest,
                    pulumi.ResourceOptions(parent=self, depends_on=[namespace, service_account]),
                )
            self.service_accounts[sa_name] = service_account
            self.kubeconfigs[sa_name] = account_kubeconfig(
                self,
                name,
                cluster=args.cluster,
                vault_target=args.vault,
                path=("tenants", tenant.name, project.name, sa_name),
                namespace=namespace_name,
                service_account=sa_name,
                secret=secret,
                token_duration=account.account.token_duration,
                token_issuer=args.token_issuer,
            )
        self.token_roles = {}
        if args.token_issuer is not None:
            self.token_roles = register_project_tokens(
                self,
                name,
                target=args.token_issuer,
                namespace=namespace_name,
                labels=manifests.namespace["metadata"]["labels"],
                accounts=timed,
                depends_on=[namespace],
            )

        guards: list[pulumi.Resource] = [namespace]
        if manifests.resource_quota is not None:
            guards.append(_k8s_resource(f"{name}-quota", manifests.resource_quota, in_namespace))
        if manifests.limit_range is not None:
            guards.append(_k8s_resource(f"{name}-limits", manifests.limit_range, in_namespace))
        for manifest in manifests.network_policies:
            guards.append(
                _k8s_resource(
                    f"{name}-netpol-{manifest['metadata']['name']}", manifest, in_namespace
                )
            )

        policy_deps: list[pulumi.Resource] = [namespace]
        if args.kyverno is not None:
            policy_deps.append(args.kyverno)
        self.policies = policy_resources(
            name,
            policy_refs,
            parent=self,
            depends_on=policy_deps,
            api=args.policy_api,
            failure_action=args.failure_action,
            namespace=namespace_name,
        )

        # Apps come last: admitted under the project's policies, quota, limits and networking.
        after_guards = pulumi.ResourceOptions(parent=self, depends_on=[*guards, *self.policies])
        self.apps: dict[str, list[pulumi.Resource]] = {
            app.app.name: [
                _k8s_resource(f"{name}-{m['kind'].lower()}-{app.app.name}", m, after_guards)
                for m in app.all()
            ]
            for app in manifests.apps
        }

        self.profile: ContainerWorkloadProfile | None = None
        self.profile_href = None
        if args.illumio is not None:
            registry = args.illumio.label_registry
            if registry is None:
                registry = LabelRegistry(pulumi.ResourceOptions(parent=self))
            self.profile = self._profile(name, args, registry, namespace, namespace_name)
            self.profile_href = self.profile.href

        self.namespace = namespace.metadata["name"]
        self.register_outputs(
            {
                "namespace": self.namespace,
                "kubeconfigs": pulumi.Output.secret(self.kubeconfigs),
                "profile_href": self.profile_href,
            }
        )

    def _profile(
        self,
        name: str,
        args: ProjectArgs,
        registry: LabelRegistry,
        namespace: pulumi.Resource,
        namespace_name: str,
    ) -> ContainerWorkloadProfile:
        """The namespace's workload profile: the project's identity labels (tenant, platform,
        and its own `app`, unique in the stack), and the project's label restrictions."""
        assert args.illumio is not None
        assigned = identity_labels(args.tenant, args.project, args.platform_labels)
        labels = [registry.label(key, value) for key, value in assigned.items()]
        restrictions: dict[str, list[pulumi.Output[str]]] = {}
        for key, values in args.project.label_restrictions.items():
            restricted = [registry.label(key, value) for value in values]
            labels += restricted
            restrictions[key] = [label.href for label in restricted]
        return ContainerWorkloadProfile(
            f"{name}-profile",
            container_cluster_href=args.illumio.container_cluster_href,
            namespace=namespace_name,
            name=namespace_name,
            description=(f"tenantguard: tenant {args.tenant.name}, project {args.project.name}"),
            enforcement_mode=args.project.enforcement_mode,
            visibility_level=args.project.visibility_level,
            managed=True,
            assign_labels={key: registry.href(key, value) for key, value in assigned.items()},
            label_restrictions=restrictions,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, *labels]),
        )
