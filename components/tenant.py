"""components.Tenant: a tenant's projects, one Project component per ProjectSpec.

The whole tenant is validated before anything registers. Illumio labels come from
one LabelRegistry shared by every tenant of the stack, so each key=value is a single
Label resource.
"""

from __future__ import annotations

import pulumi
from pydantic import BaseModel, ConfigDict, Field

from components.illumio_labels import LabelRegistry
from components.policies import validate_parameters
from components.project import (
    ClusterEndpoint,
    IllumioTarget,
    Project,
    ProjectArgs,
    VaultTarget,
    project_problems,
)
from components.tenancy_models import FailureAction, PlatformPolicy, PolicyApi, TenantSpec
from components.tenancy_validation import Problem, TenancyValidationError, validate_tenants

TYPE_TOKEN = "tenantguard:index:Tenant"


class TenantArgs(BaseModel):
    """Everything a Tenant needs; shared targets (registry, Kyverno, Vault) are handed in."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, hide_input_in_errors=True
    )

    tenant: TenantSpec
    platform: PlatformPolicy
    cluster: ClusterEndpoint
    platform_labels: dict[str, str] = Field(default_factory=dict)
    illumio: IllumioTarget | None = None
    """With `label_registry` None, the Tenant builds its own registry (labels then
    belong to this tenant: share one registry when several tenants exist)."""
    vault: VaultTarget | None = None
    kyverno: pulumi.Resource | None = None
    policy_api: PolicyApi = "validatingpolicy"
    failure_action: FailureAction = "Audit"
    psa_version: str = "latest"


def tenant_problems(
    tenant: TenantSpec,
    platform: PlatformPolicy,
    *,
    platform_labels: dict[str, str],
    with_illumio: bool,
) -> list[Problem]:
    """Every problem with the tenant and each of its projects, without repeats."""
    problems = validate_tenants(
        [tenant], platform, platform_labels=platform_labels, check_policy=validate_parameters
    )
    seen = {(p.path, p.message) for p in problems}
    for project in tenant.projects:
        for problem in project_problems(
            tenant,
            project,
            platform,
            platform_labels=platform_labels,
            with_illumio=with_illumio,
        ):
            if (problem.path, problem.message) not in seen:
                seen.add((problem.path, problem.message))
                problems.append(problem)
    return problems


class Tenant(pulumi.ComponentResource):
    """The tenant's Project components. Outputs: `namespaces`, `kubeconfigs` (secret)."""

    projects: dict[str, Project]
    label_registry: LabelRegistry | None

    def __init__(
        self, name: str, args: TenantArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        problems = tenant_problems(
            args.tenant,
            args.platform,
            platform_labels=args.platform_labels,
            with_illumio=args.illumio is not None,
        )
        if problems:
            raise TenancyValidationError(problems)
        super().__init__(TYPE_TOKEN, name, None, opts)

        illumio = args.illumio
        self.label_registry = None
        if illumio is not None:
            self.label_registry = illumio.label_registry
            if self.label_registry is None:
                self.label_registry = LabelRegistry(pulumi.ResourceOptions(parent=self))
            illumio = IllumioTarget(
                container_cluster_href=illumio.container_cluster_href,
                label_registry=self.label_registry,
            )

        self.projects = {}
        for project in args.tenant.projects:
            self.projects[project.name] = Project(
                f"{name}-{project.name}",
                ProjectArgs(
                    tenant=args.tenant,
                    project=project,
                    platform=args.platform,
                    cluster=args.cluster,
                    platform_labels=args.platform_labels,
                    illumio=illumio,
                    vault=args.vault,
                    kyverno=args.kyverno,
                    policy_api=args.policy_api,
                    failure_action=args.failure_action,
                    psa_version=args.psa_version,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.namespaces = {p: proj.namespace for p, proj in self.projects.items()}
        self.kubeconfigs = pulumi.Output.secret(
            {p: proj.kubeconfigs for p, proj in self.projects.items()}
        )
        self.register_outputs({"namespaces": self.namespaces, "kubeconfigs": self.kubeconfigs})
