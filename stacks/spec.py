"""The stack spec schema: what `stacks/<stack>.yaml` may hold, as the pydantic `PlatformSpec`.

The tenancy sections (`platformPolicy`, `tenants`) are `components.tenancy.models`
unchanged; this module adds the cluster, Illumio, Kubelink, Kyverno and Vault sections,
the rules that span sections (`section_problems`), and answers "what is allowed here"
for any path, so the loader's error messages can say it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from components.formats import (
    CA_DATA_RULE,
    HTTPS_URL_RULE,
    PEM_RULE,
    PINNED_VERSION_RULE,
    check_ca_data,
    check_https_url,
    check_pem_certificates,
    check_pinned_version,
)
from components.illumio.kubelink_values import (
    ILLUMIO_CHART,
    ClusterMode,
    ContainerManager,
    ContainerRuntime,
    NetworkType,
)
from components.kyverno.values import DEFAULT_CHART_VERSION
from components.tenancy.models import (
    PlatformPolicy,
    PolicyRef,
    TenantSpec,
    project_namespace,
)
from components.tenancy.spec_base import (
    LABEL_KEY_RULE,
    Description,
    DnsLabel,
    FailureAction,
    IllumioLabelMap,
    PolicyApi,
    SpecModel,
)
from providers.illumio.limits import MAX_NAME, EnforcementMode, VisibilityLevel

_VAULT_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


MAX_VAULT_PATH = 200
"""The longest Vault mount or path prefix (render file paths are built from it)."""
VAULT_PATH_RULE = (
    "path segments of letters, digits, '.', '_' and '-' joined by '/', with no leading or "
    f"trailing '/' and no '..', at most {MAX_VAULT_PATH} characters, such as tenantguard/dev"
)
_SECRET_WORDS = re.compile(
    r"password|passwd|passphrase|secret|token|apikey|accesskey|privatekey|clientkey|credential"
)
_NOT_SECRET_SUFFIXES = ("name", "names", "ref", "duration", "ttl", "secrets", "enabled", "file")


def looks_like_secret_key(key: str) -> bool:
    """Whether a key names a secret value (apiSecret, token, password), not a reference to one."""
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    if not _SECRET_WORDS.search(norm) or norm.startswith("existing"):
        return False
    return not norm.endswith(_NOT_SECRET_SUFFIXES)


def _check_vault_path(value: str) -> str:
    parts = value.split("/")
    if value.startswith("/") or value.endswith("/"):
        raise ValueError(f"{value!r} starts or ends with '/'; allowed: {VAULT_PATH_RULE}")
    if ".." in parts or "." in parts:
        raise ValueError(f"{value!r} has a '.' or '..' segment; allowed: {VAULT_PATH_RULE}")
    if not all(_VAULT_SEGMENT.match(part) for part in parts):
        raise ValueError(f"{value!r} is not a Vault path; allowed: {VAULT_PATH_RULE}")
    return value


class PairingProfileSpec(SpecModel):
    """The PCE pairing profile whose key pairs the cluster's C-VENs."""

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME,
        description=f"a pairing profile name of 1 to {MAX_NAME} characters "
        "(default <cluster>-pairing)",
    )
    enabled: bool = True


class IllumioSpec(SpecModel):
    """Illumio defaults for the cluster: pairing modes and the labels every profile gets."""

    enforcement_mode: EnforcementMode = "visibility_only"
    visibility_level: VisibilityLevel = "flow_summary"
    labels: IllumioLabelMap = Field(
        default_factory=dict,
        description=f"a mapping of label key ({LABEL_KEY_RULE}) to value, such as "
        "{env: dev, loc: eu-west-1}",
    )
    pairing_profile: PairingProfileSpec = Field(default_factory=PairingProfileSpec)


class KubelinkSpec(SpecModel):
    """Whether and how Illumio's Kubelink/C-VEN Helm chart is installed on the cluster."""

    enabled: bool = True
    chart: str = Field(
        default=ILLUMIO_CHART,
        min_length=1,
        description="an OCI or https chart reference, such as oci://quay.io/illumio/illumio",
    )
    version: Annotated[str | None, AfterValidator(check_pinned_version)] = Field(
        default=None, description=PINNED_VERSION_RULE
    )
    container_runtime: ContainerRuntime = "containerd"
    container_manager: ContainerManager = "kubernetes"
    network_type: NetworkType = "overlay"
    cluster_mode: ClusterMode | None = None
    ignore_cert: bool = False
    ca_bundle: Annotated[str | None, AfterValidator(check_pem_certificates)] = Field(
        default=None, description=PEM_RULE
    )
    values: dict[str, Any] = Field(
        default_factory=dict, description="a mapping of extra Helm values for the chart"
    )

    @field_validator("chart")
    @classmethod
    def _chart_reference(cls, value: str) -> str:
        if not value.startswith(("oci://", "https://")):
            raise ValueError(f"{value!r} is not an oci:// or https:// chart reference")
        return value


class ClusterSpec(SpecModel):
    """The Kubernetes cluster: its PCE container-cluster name, API endpoint and onboarding."""

    name: str = Field(
        min_length=1,
        max_length=MAX_NAME,
        description=f"the PCE container-cluster name: 1 to {MAX_NAME} characters, no '/', no "
        "leading or trailing spaces",
    )
    description: Description | None = None
    api_server: Annotated[str, AfterValidator(check_https_url)] = Field(
        description=f"the Kubernetes API URL used in kubeconfigs: {HTTPS_URL_RULE}"
    )
    ca_data: Annotated[str | None, AfterValidator(check_ca_data)] = Field(
        default=None, description=CA_DATA_RULE
    )
    illumio: IllumioSpec = Field(default_factory=IllumioSpec)
    kubelink: KubelinkSpec = Field(default_factory=KubelinkSpec)

    @field_validator("name")
    @classmethod
    def _cluster_name(cls, value: str) -> str:
        if value != value.strip() or "/" in value or any(ord(c) < 32 for c in value):
            raise ValueError(
                f"{value!r} starts or ends with a space or holds '/' or a control character "
                "(the name is also part of Vault paths)"
            )
        return value

    @model_validator(mode="after")
    def _default_pairing_profile_name(self) -> ClusterSpec:
        # Models are frozen; the default name is filled in once, right after validation.
        profile = self.illumio.pairing_profile
        if profile.name is None:
            named = profile.model_copy(update={"name": self.pairing_profile_name})
            illumio = self.illumio.model_copy(update={"pairing_profile": named})
            object.__setattr__(self, "illumio", illumio)
        return self

    @property
    def pairing_profile_name(self) -> str:
        """The pairing profile's name: the one given, else `<cluster>-pairing`."""
        return self.illumio.pairing_profile.name or f"{self.name}-pairing"


class KyvernoSpec(SpecModel):
    """The Kyverno installation and the baseline policies every namespace gets."""

    enabled: bool = True
    chart_version: Annotated[str, AfterValidator(check_pinned_version)] = Field(
        default=DEFAULT_CHART_VERSION, description=PINNED_VERSION_RULE
    )
    namespace: DnsLabel = "kyverno"
    ha: bool = False
    policy_api: PolicyApi = "validatingpolicy"
    failure_action: FailureAction = "Audit"
    baseline_policies: list[PolicyRef] = Field(default_factory=list)
    webhook_excluded_namespaces: list[DnsLabel] = Field(default_factory=list)
    values: dict[str, Any] = Field(
        default_factory=dict, description="a mapping of extra Helm values for the Kyverno chart"
    )


class VaultSpec(SpecModel):
    """Where tenantguard writes kubeconfigs and cluster credentials in Vault (KV v2)."""

    mount: Annotated[str, AfterValidator(_check_vault_path)] = Field(
        default="secret",
        max_length=MAX_VAULT_PATH,
        description=f"the KV v2 mount: {VAULT_PATH_RULE}",
    )
    path_prefix: Annotated[str, AfterValidator(_check_vault_path)] = Field(
        max_length=MAX_VAULT_PATH, description=f"the path under the mount: {VAULT_PATH_RULE}"
    )
    kubernetes_mount: Annotated[str, AfterValidator(_check_vault_path)] | None = Field(
        default=None,
        max_length=MAX_VAULT_PATH,
        description="where Vault's Kubernetes secrets engine (expiring service-account "
        f"tokens) is mounted: {VAULT_PATH_RULE} (default kubernetes-<cluster.name>)",
    )


class PlatformSpec(SpecModel):
    """One stack's platform: cluster, Kyverno, platform policy, Vault and tenants."""

    cluster: ClusterSpec
    kyverno: KyvernoSpec = Field(default_factory=KyvernoSpec)
    platform_policy: PlatformPolicy = Field(default_factory=PlatformPolicy)
    vault: VaultSpec
    tenants: list[TenantSpec] = Field(default_factory=list)

    def namespaces(self) -> dict[str, tuple[str, str]]:
        """Every project namespace, mapped to its (tenant, project) names."""
        return {
            project_namespace(tenant, project): (tenant.name, project.name)
            for tenant in self.tenants
            for project in tenant.projects
        }
