"""components.Tenant: a tenant's projects, one Project component per ProjectSpec.

The whole tenant is validated before anything registers. Illumio labels come from
one LabelRegistry shared by every tenant of the stack, so each key=value is a single
Label resource.
"""

from __future__ import annotations

import pulumi

from components.illumio.labels import LabelRegistry
from components.policies import validate_parameters
from components.targets import IllumioTarget
from components.tenancy.models import TenantSpec
from components.tenancy.project import Project, ProjectArgs, ProjectPlacement, kubeconfig_problems
from components.tenancy.token_issuer import issuer_problems
from components.tenancy.validation import TenancyValidationError, validate_tenants

TYPE_TOKEN = "tenantguard:index:Tenant"


class TenantArgs(ProjectPlacement):
    """Everything a Tenant needs; shared targets (registry, Kyverno, Vault) are handed in.

    With `illumio.label_registry` None the Tenant builds its own registry (its labels then
    belong to this tenant: share one registry when several tenants exist).
    """

    tenant: TenantSpec


class Tenant(pulumi.ComponentResource):
    """The tenant's Project components. Outputs: `namespaces`, `kubeconfigs` (secret)."""

    projects: dict[str, Project]
    label_registry: LabelRegistry | None

    def __init__(
        self, name: str, args: TenantArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        problems = validate_tenants(
            [args.tenant],
            args.platform,
            platform_labels=args.platform_labels,
            check_policy=validate_parameters,
            illumio_profiles=args.illumio is not None,
        )
        problems += kubeconfig_problems(args.tenant, args.cluster)
        problems += issuer_problems(args.tenant, args.token_issuer)
        if problems:
            raise TenancyValidationError(problems)
        super().__init__(TYPE_TOKEN, name, None, opts)

        placement = args.placement()
        self.label_registry = None
        if args.illumio is not None:
            self.label_registry = args.illumio.label_registry
            if self.label_registry is None:
                self.label_registry = LabelRegistry(pulumi.ResourceOptions(parent=self))
            placement["illumio"] = IllumioTarget(
                container_cluster_href=args.illumio.container_cluster_href,
                label_registry=self.label_registry,
            )

        self.projects = {
            project.name: Project(
                f"{name}-{project.name}",
                ProjectArgs(tenant=args.tenant, project=project, **placement),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for project in args.tenant.projects
        }
        self.namespaces = {p: proj.namespace for p, proj in self.projects.items()}
        self.kubeconfigs = pulumi.Output.secret(
            {p: proj.kubeconfigs for p, proj in self.projects.items()}
        )
        self.register_outputs({"namespaces": self.namespaces, "kubeconfigs": self.kubeconfigs})
