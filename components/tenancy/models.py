"""Typed descriptions of the platform policy, tenants and projects.

These pydantic models are the data half of the Tenant/Project component arguments
and, unchanged, sections of the stack spec (camelCase in YAML, snake_case in Python).
Each model checks its own fields; rules that span models (ceilings, allowlists,
duplicate namespaces, role rules) live in `components.tenancy.validation`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from components.tenancy.quantity import parse_quantity

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL_RULE = (
    "a DNS-1123 label: at most 63 lowercase letters, digits and '-', "
    "starting and ending with a letter or digit"
)
GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$")

ROLE_TYPES: tuple[str, ...] = ("view", "edit", "admin", "cluster-admin", "custom")
PsaLevel = Literal["privileged", "baseline", "restricted"]
EnforcementMode = Literal["idle", "visibility_only", "full"]
VisibilityLevel = Literal[
    "flow_full_detail", "flow_summary", "flow_drops", "flow_off", "enhanced_data_collection"
]
FailureAction = Literal["Audit", "Enforce"]
PolicyApi = Literal["validatingpolicy", "clusterpolicy"]


def check_dns_label(value: str) -> str:
    """Return `value` if it is a DNS-1123 label, else raise ValueError naming the rule."""
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ValueError(f"{value!r} is not {DNS1123_LABEL_RULE}")
    return value


DnsLabel = Annotated[str, AfterValidator(check_dns_label)]

MAX_LABEL_KEY = 64
MAX_LABEL_VALUE = 255
MAX_DESCRIPTION = 4096
"""The PCE's limits: label keys, label values, and description fields."""

LABEL_KEY_RULE = f"an Illumio label key of 1 to {MAX_LABEL_KEY} characters, such as env or loc"
LABEL_VALUE_RULE = (
    f"an Illumio label value of 1 to {MAX_LABEL_VALUE} characters, without control "
    "characters or leading or trailing spaces"
)


def _short(text: str) -> str:
    """`text` as a message may show it: at most 40 characters."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def check_label_key(key: str) -> None:
    """Raise ValueError unless `key` is a label key the PCE accepts."""
    if not 1 <= len(key) <= MAX_LABEL_KEY:
        raise ValueError(f"label key {_short(key)} is not {LABEL_KEY_RULE} ({len(key)} given)")


def check_label_value(key: str, label: str) -> None:
    """Raise ValueError unless `label` is a value the PCE accepts for label `key`."""
    if not label:
        raise ValueError(f"label {key!r} has an empty value; every label needs a value")
    if (
        len(label) > MAX_LABEL_VALUE
        or label != label.strip()
        or any(ord(c) < 32 or ord(c) == 127 for c in label)
    ):
        raise ValueError(
            f"label {key!r} value {_short(label)} ({len(label)} characters) is not "
            f"{LABEL_VALUE_RULE}"
        )


def check_label_map(value: dict[str, str]) -> dict[str, str]:
    """Return `value` if every key is an Illumio label key and every value one the PCE takes."""
    for key, label in value.items():
        check_label_key(key)
        check_label_value(key, label)
    return value


def check_label_choices(value: dict[str, list[str]]) -> dict[str, list[str]]:
    """Return `value` if every key is a label key and every listed value one the PCE takes."""
    for key, labels in value.items():
        check_label_key(key)
        for label in labels:
            check_label_value(key, label)
    return value


IllumioLabelMap = Annotated[dict[str, str], AfterValidator(check_label_map)]
"""Illumio labels as key -> value (the tenant's, the platform's)."""

IllumioLabelChoices = Annotated[dict[str, list[str]], AfterValidator(check_label_choices)]
"""Illumio label restrictions as key -> the values pods may choose from."""

Description = Annotated[str, annotated_types.MaxLen(MAX_DESCRIPTION)]
"""Free text that reaches the PCE or an annotation: at most MAX_DESCRIPTION characters."""


class SpecModel(BaseModel):
    """Base: unknown keys are errors, camelCase aliases for YAML, snake_case names in Python."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        hide_input_in_errors=True,  # a spec value may be a URL with credentials: never echo it
    )


class ResourceAmounts(SpecModel):
    """CPU and memory amounts as Kubernetes quantities."""

    cpu: str | None = None
    memory: str | None = None

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, bool):
            raise ValueError("must be a quantity such as 500m, 2, 512Mi or 4Gi, not a boolean")
        parse_quantity(value)
        return str(value)


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


class AppResources(SpecModel):
    """An app container's requests and limits; each amount left out comes from the project's
    `containerDefaults` (the LimitRange's defaults)."""

    requests: ResourceAmounts = Field(default_factory=ResourceAmounts)
    limits: ResourceAmounts = Field(default_factory=ResourceAmounts)


class AppSpec(SpecModel):
    """An app the platform deploys: a Deployment and a Service, and an Ingress with `host`.

    Rules that need the project or the whole stack (image allowlist, quota, unique names
    and hosts, labels the project's policies require) live in `components.tenancy.app_rules`.
    """

    name: DnsLabel
    image: str = Field(
        min_length=1,
        description="an image with its registry host and a tag or digest, such as "
        "registry.internal.example/team/api:1.4.2 (Docker Hub: docker.io/library/nginx:1.27)",
    )
    host: str | None = Field(
        default=None,
        description="the DNS name the app's Ingress serves, such as api.dev.example.com "
        "(no wildcard); unset: no Ingress",
    )
    port: int = Field(default=8080, ge=1, le=65535)
    replicas: int = Field(default=1, ge=0)
    path: str = Field(
        default="/", description="the Ingress path prefix, starting with '/' (default /)"
    )
    tls_secret_name: DnsLabel | None = None
    resources: AppResources = Field(default_factory=AppResources)
    env: dict[str, str] = Field(
        default_factory=dict,
        description="a mapping of environment variable name to a plain, non-secret value",
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="a mapping of Kubernetes label key to value, added to the app's pods",
    )
    illumio_labels: dict[str, str] = Field(
        default_factory=dict,
        description="a mapping of a label key the project restricts (labelRestrictions) to "
        "one of its values, set as the pods' com.illumio.<key> annotation",
    )
    run_as_user: int | None = Field(default=None, ge=1)


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
