"""Typed descriptions of the platform policy, tenants and projects.

These pydantic models are the data half of the Tenant/Project component arguments
and, unchanged, sections of the stack spec (camelCase in YAML, snake_case in Python).
Each model checks its own fields; rules that span models (ceilings, allowlists,
duplicate namespaces, role rules) live in `components.tenancy.validation`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator

from components.segmentation.models import (
    SegmentationSpec,
)
from components.tenancy.app_models import (
    AppSpec,
)
from components.tenancy.durations import (
    DEFAULT_MAX_TOKEN_DURATION,
    MIN_TOKEN_DURATION,
    check_max_token_duration,
)
from components.tenancy.spec_base import (
    DNS1123_LABEL_RULE,
    GO_DURATION,
    Description,
    DnsLabel,
    IllumioLabelChoices,
    IllumioLabelMap,
    PsaLevel,
    ResourceAmounts,
    SpecModel,
)
from providers.illumio.limits import EnforcementMode, VisibilityLevel


class Quota(SpecModel):
    """What a project's ResourceQuota allows; also the platform's ceiling for every project."""

    requests: ResourceAmounts = Field(default_factory=ResourceAmounts)
    limits: ResourceAmounts = Field(default_factory=ResourceAmounts)
    pods: int | None = Field(default=None, ge=0)
    services: int | None = Field(default=None, ge=0)
    persistent_volume_claims: int | None = Field(default=None, ge=0)

    def hard(self) -> dict[str, str]:
        """The ResourceQuota `spec.hard` map for the amounts that are set."""
        hard: dict[str, str] = {}
        for scope, amounts in (("requests", self.requests), ("limits", self.limits)):
            for resource in ("cpu", "memory"):
                value = getattr(amounts, resource)
                if value is not None:
                    hard[f"{scope}.{resource}"] = value
        for key, value in (
            ("pods", self.pods),
            ("services", self.services),
            ("persistentvolumeclaims", self.persistent_volume_claims),
        ):
            if value is not None:
                hard[key] = str(value)
        return hard


class ContainerDefaults(SpecModel):
    """LimitRange defaults so pods that set no requests or limits still fit the quota."""

    default_request: ResourceAmounts = Field(
        default_factory=lambda: ResourceAmounts(cpu="100m", memory="128Mi")
    )
    default_limit: ResourceAmounts = Field(
        default_factory=lambda: ResourceAmounts(cpu="500m", memory="512Mi")
    )


class RbacRule(SpecModel):
    """One RBAC PolicyRule for a `custom` service account's Role."""

    api_groups: list[str] = Field(default_factory=lambda: [""])
    resources: list[str]
    verbs: list[str]
    resource_names: list[str] | None = None


class ServiceAccount(SpecModel):
    """A project service account and the access it gets (the seed's role types)."""

    name: DnsLabel
    role: str = "edit"
    rules: list[RbacRule] | None = None
    role_name: str | None = None
    role_kind: Literal["Role", "ClusterRole"] = "ClusterRole"
    token_duration: str | None = None
    description: Description | None = None

    @field_validator("token_duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and not GO_DURATION.match(value):
            raise ValueError(f"{value!r} is not a duration such as 24h, 168h or 8760h")
        return value


class PolicyRef(SpecModel):
    """A policy from the library (`components.policies.catalog()`) with its parameters."""

    name: str
    parameters: dict[str, Any] = Field(default_factory=dict)


DEFAULT_INGRESS_CLASS = "nginx"
DEFAULT_INGRESS_NAMESPACE = "ingress-nginx"
"""ingress-nginx's own defaults: its IngressClass and the namespace its chart installs into."""


class PlatformPolicy(SpecModel):
    """Rules every tenant lives under (the seed's platform policy)."""

    image_allowlist: list[str] = Field(default_factory=list)
    egress_baseline: list[str] = Field(default_factory=list)
    quota_max: Quota = Field(default_factory=Quota)
    allow_cluster_admin: bool = False
    default_psa_level: PsaLevel = "baseline"
    ingress_class: DnsLabel = Field(
        default=DEFAULT_INGRESS_CLASS,
        description="the IngressClass every app Ingress names: "
        f"{DNS1123_LABEL_RULE} (default {DEFAULT_INGRESS_CLASS})",
    )
    ingress_namespace: DnsLabel = Field(
        default=DEFAULT_INGRESS_NAMESPACE,
        description="the namespace the ingress controller runs in; app NetworkPolicies admit "
        f"it to the app's port: {DNS1123_LABEL_RULE} (default {DEFAULT_INGRESS_NAMESPACE})",
    )
    max_token_duration: Annotated[str, AfterValidator(check_max_token_duration)] = Field(
        default=DEFAULT_MAX_TOKEN_DURATION,
        description="the longest tokenDuration a service account may have: a duration of at "
        f"least {MIN_TOKEN_DURATION}, such as 8760h (default {DEFAULT_MAX_TOKEN_DURATION})",
    )
    ingress_illumio_labels: IllumioLabelMap = Field(
        default_factory=dict,
        description="a mapping of label key to value: the Illumio labels of the ingress "
        "controller's workloads, which the PCE rules for apps with a host admit",
    )
    dns_cidrs: list[str] = Field(
        default_factory=list,
        description="a list of CIDR networks holding the cluster DNS, narrowing the PCE's DNS "
        "rule (default: DNS ports to any address; the NetworkPolicy admits kube-dns only)",
    )


class ProjectSpec(SpecModel):
    """One project: a namespace and everything it gets."""

    name: DnsLabel
    namespace: DnsLabel | None = None
    quota: Quota | None = None
    container_defaults: ContainerDefaults = Field(default_factory=ContainerDefaults)
    psa_level: PsaLevel | None = None
    enforcement_mode: EnforcementMode = "visibility_only"
    visibility_level: VisibilityLevel = "flow_summary"
    label_restrictions: IllumioLabelChoices = Field(default_factory=dict)
    service_accounts: list[ServiceAccount] = Field(default_factory=list)
    policies: list[PolicyRef] = Field(default_factory=list)
    apps: list[AppSpec] = Field(default_factory=list)
    segmentation: SegmentationSpec = Field(default_factory=SegmentationSpec)


class TenantSpec(SpecModel):
    """A tenant: its Illumio labels, its image allowlist and its projects."""

    name: DnsLabel
    labels: IllumioLabelMap = Field(default_factory=dict)
    image_allowlist: list[str] | None = None
    projects: list[ProjectSpec] = Field(default_factory=list)

    def illumio_labels(self) -> dict[str, str]:
        """The tenant's Illumio labels; `app` defaults to the tenant name."""
        return {"app": self.name, **self.labels}


def project_namespace(tenant: TenantSpec, project: ProjectSpec) -> str:
    """The project's namespace: its override, else `<tenant>-<project>`."""
    return project.namespace or f"{tenant.name}-{project.name}"


def effective_quota(project: ProjectSpec, platform: PlatformPolicy) -> Quota:
    """The project's quota, with every amount it leaves unset taken from the platform ceiling."""
    ceiling = platform.quota_max
    if project.quota is None:
        return ceiling
    mine = project.quota

    def merged(scope: str) -> ResourceAmounts:
        own, cap = getattr(mine, scope), getattr(ceiling, scope)
        return ResourceAmounts(cpu=own.cpu or cap.cpu, memory=own.memory or cap.memory)

    return Quota(
        requests=merged("requests"),
        limits=merged("limits"),
        pods=mine.pods if mine.pods is not None else ceiling.pods,
        services=mine.services if mine.services is not None else ceiling.services,
        persistent_volume_claims=(
            mine.persistent_volume_claims
            if mine.persistent_volume_claims is not None
            else ceiling.persistent_volume_claims
        ),
    )


def effective_allowlist(tenant: TenantSpec, platform: PlatformPolicy) -> list[str]:
    """The registries a tenant's images may come from: its own list, else the platform's."""
    return (
        list(tenant.image_allowlist)
        if tenant.image_allowlist is not None
        else list(platform.image_allowlist)
    )
