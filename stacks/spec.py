"""The stack spec schema: what `stacks/<stack>.yaml` may hold, as the pydantic `PlatformSpec`.

The tenancy sections (`platformPolicy`, `tenants`) are `components.tenancy.models`
unchanged; this module adds the cluster, Illumio, Kubelink, Kyverno and Vault sections,
the rules that span sections (`section_problems`), and answers "what is allowed here"
for any path, so the loader's error messages can say it.
"""

from __future__ import annotations

import base64
import binascii
import re
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

import annotated_types
from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from components.illumio.kubelink_values import (
    EXACT_VERSION,
    ILLUMIO_CHART,
    RESERVED_VALUES,
    ClusterMode,
    ContainerManager,
    ContainerRuntime,
    NetworkType,
    reserved_value_source,
)
from components.kyverno.values import DEFAULT_CHART_VERSION
from components.tenancy.models import (
    DNS1123_LABEL_RULE,
    LABEL_KEY_RULE,
    ROLE_TYPES,
    Description,
    DnsLabel,
    EnforcementMode,
    FailureAction,
    IllumioLabelMap,
    PlatformPolicy,
    PolicyApi,
    PolicyRef,
    ProjectSpec,
    ResourceAmounts,
    ServiceAccount,
    SpecModel,
    TenantSpec,
    VisibilityLevel,
    check_dns_label,
    project_namespace,
)
from components.tenancy.quantity import ALLOWED_FORM as QUANTITY_FORM
from components.tenancy.validation import (
    RESERVED_NAMESPACES,
    PolicyChecker,
    Problem,
    policy_problems,
    validate_tenants,
)
from stacks.secret_shapes import holds_private_key

_PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----"
)
_VAULT_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")

PINNED_VERSION_RULE = "an exact chart version such as 5.3.0 (no ranges such as ^5 or 5.x)"
HTTPS_URL_RULE = "an https URL with a host and optional port, such as https://k8s-api.example:6443"
PEM_RULE = (
    "PEM text holding at least one CA certificate "
    "(-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)"
)
CA_DATA_RULE = (
    "the base64 of the cluster CA certificate in PEM, as in a kubeconfig's "
    "certificate-authority-data"
)
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


def _check_https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not an https URL with a host")
    if parts.username or parts.password:
        raise ValueError(
            "must not carry credentials (user:password@): give the URL only and keep "
            "credentials in Pulumi config set with --secret"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} must not have a query or fragment; allowed: {HTTPS_URL_RULE}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(f"{value!r} has an invalid port; allowed: {HTTPS_URL_RULE}") from None
    return value


def _check_pinned_version(value: str | None) -> str | None:
    if value is not None and not EXACT_VERSION.match(value):
        raise ValueError(f"{value!r} is not pinned; allowed: {PINNED_VERSION_RULE}")
    return value


def _check_pem_certificates(value: str) -> str:
    if holds_private_key(value):
        raise ValueError(
            "holds a private key; a CA bundle is public certificates only: remove the key "
            "from this file and rotate it"
        )
    blocks = _PEM_CERTIFICATE.findall(value)
    if not blocks:
        raise ValueError(f"is not {PEM_RULE}")
    for block in blocks:
        try:
            base64.b64decode("".join(block.split()), validate=True)
        except binascii.Error:
            raise ValueError(
                f"has a certificate whose body is not base64; allowed: {PEM_RULE}"
            ) from None
    return value


def _check_ca_data(value: str) -> str:
    try:
        decoded = base64.b64decode("".join(value.split()), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(f"is not base64 text; allowed: {CA_DATA_RULE}") from None
    if holds_private_key(decoded):
        raise ValueError(
            "decodes to a private key; caData is the public CA certificate only: remove the "
            "key from this file and rotate it"
        )
    if not _PEM_CERTIFICATE.search(decoded):
        raise ValueError(f"does not decode to a PEM certificate; allowed: {CA_DATA_RULE}")
    return value


def _check_optional_pem(value: str | None) -> str | None:
    return None if value is None else _check_pem_certificates(value)


def _check_optional_ca_data(value: str | None) -> str | None:
    return None if value is None else _check_ca_data(value)


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
        max_length=255,
        description="a pairing profile name of 1 to 255 characters (default <cluster>-pairing)",
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
    version: Annotated[str | None, AfterValidator(_check_pinned_version)] = Field(
        default=None, description=PINNED_VERSION_RULE
    )
    container_runtime: ContainerRuntime = "containerd"
    container_manager: ContainerManager = "kubernetes"
    network_type: NetworkType = "overlay"
    cluster_mode: ClusterMode | None = None
    ignore_cert: bool = False
    ca_bundle: Annotated[str | None, AfterValidator(_check_optional_pem)] = Field(
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
        max_length=255,
        description="the PCE container-cluster name: 1 to 255 characters, no '/', no "
        "leading or trailing spaces",
    )
    description: Description | None = None
    api_server: Annotated[str, AfterValidator(_check_https_url)] = Field(
        description=f"the Kubernetes API URL used in kubeconfigs: {HTTPS_URL_RULE}"
    )
    ca_data: Annotated[str | None, AfterValidator(_check_optional_ca_data)] = Field(
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
    chart_version: Annotated[str, AfterValidator(_check_pinned_version)] = Field(
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


# ---------------------------------------------------------------- rules across sections


def _baseline_policy_problems(
    spec: PlatformSpec, check_policy: PolicyChecker | None
) -> list[Problem]:
    return policy_problems(
        spec.kyverno.baseline_policies,
        spec.platform_policy,
        path="kyverno.baselinePolicies",
        subject=lambda name: f"baseline policy {name!r}",
        check_policy=check_policy,
    )


def _kubelink_setting_path(field: str) -> str:
    return f"cluster.kubelink.{to_camel(field)}"


def _cluster_problems(spec: PlatformSpec) -> list[Problem]:
    problems: list[Problem] = []
    kubelink = spec.cluster.kubelink
    if kubelink.enabled and kubelink.version is None:
        problems.append(
            Problem(
                "cluster.kubelink.version",
                "required when kubelink is enabled, so a later `pulumi up` never upgrades "
                f"Kubelink silently; allowed: {PINNED_VERSION_RULE}, or enabled: false",
            )
        )
    if kubelink.ca_bundle is not None and kubelink.ignore_cert:
        problems.append(
            Problem(
                "cluster.kubelink.caBundle",
                "caBundle and ignoreCert: true exclude each other; allowed: either caBundle "
                "(trust the PCE's private CA) or ignoreCert: true (skip certificate checks)",
            )
        )
    for key in kubelink.values:
        source = reserved_value_source(key, _kubelink_setting_path)
        if source is not None:
            problems.append(
                Problem(
                    f"cluster.kubelink.values.{key}",
                    f"chart value {key!r} is set by tenantguard from {source}; allowed: any "
                    f"chart value except {', '.join(RESERVED_VALUES)}",
                )
            )
    accounts = [
        (tenant.name, project.name)
        for tenant in spec.tenants
        for project in tenant.projects
        if project.service_accounts
    ]
    if spec.cluster.ca_data is None and accounts:
        tenant, project = accounts[0]
        problems.append(
            Problem(
                "cluster.caData",
                f"required when projects have service accounts (tenant {tenant!r}, project "
                f"{project!r} has): their kubeconfigs carry the cluster's CA; allowed: "
                f"{CA_DATA_RULE}",
            )
        )
    return problems


def _kyverno_problems(spec: PlatformSpec) -> list[Problem]:
    problems: list[Problem] = []
    owners = spec.namespaces()
    for i, namespace in enumerate(spec.kyverno.webhook_excluded_namespaces):
        if namespace in owners:
            tenant, project = owners[namespace]
            problems.append(
                Problem(
                    f"kyverno.webhookExcludedNamespaces[{i}]",
                    f"namespace {namespace!r} belongs to tenant {tenant!r}, project "
                    f"{project!r}: excluding it would switch off its policies; allowed: "
                    "namespaces that are not tenant projects",
                )
            )
    return problems


def section_problems(spec: PlatformSpec, *, check_policy: PolicyChecker | None) -> list[Problem]:
    """Every problem that spans sections, in spec order; empty when the spec is coherent.

    `check_policy` validates a library policy name and parameters (normally
    `components.policies.validate_parameters`); it is applied to the tenants' project
    policies and to the Kyverno baseline policies.
    """
    problems = _cluster_problems(spec)
    problems += _baseline_policy_problems(spec, check_policy)
    problems += _kyverno_problems(spec)
    problems += validate_tenants(
        spec.tenants,
        spec.platform_policy,
        path="tenants",
        platform_labels=spec.cluster.illumio.labels,
        platform_labels_path="cluster.illumio.labels",
        check_policy=check_policy,
        reserved_namespaces=RESERVED_NAMESPACES | {spec.kyverno.namespace},
        illumio_profiles=True,
    )
    return problems


# ---------------------------------------------------------------- what is allowed where

_TENANCY_ALLOWED: dict[tuple[type[BaseModel], str], str] = {
    (ResourceAmounts, "cpu"): QUANTITY_FORM,
    (ResourceAmounts, "memory"): QUANTITY_FORM,
    (ServiceAccount, "role"): f"one of {', '.join(ROLE_TYPES)}",
    (ServiceAccount, "token_duration"): "a duration such as 24h, 168h or 8760h",
    (PolicyRef, "name"): "the name of a policy in the library (components.policies.catalog())",
    (PolicyRef, "parameters"): "a mapping of the policy's parameters",
    (PlatformPolicy, "image_allowlist"): "a list of registry hosts such as docker.io or ghcr.io",
    (PlatformPolicy, "egress_baseline"): "a list of CIDR networks such as 10.0.0.0/8",
    (TenantSpec, "image_allowlist"): "a list of registry hosts within the platform allowlist",
    (TenantSpec, "labels"): f"a mapping of label key ({LABEL_KEY_RULE}) to value",
    (ProjectSpec, "label_restrictions"): (
        "a mapping of label key to the list of label values pods may choose from"
    ),
}


@dataclass(frozen=True)
class Slot:
    """What the schema expects at one path: the type, and the field it belongs to if any."""

    annotation: Any
    field: FieldInfo | None = None
    owner: type[BaseModel] | None = None
    name: str | None = None


def bare_type(annotation: Any) -> Any:
    """The type without Annotated metadata and without `| None`."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def is_model(annotation: Any) -> bool:
    """Whether an annotation is a pydantic model class."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def model_field(model: type[BaseModel], key: str) -> tuple[str, FieldInfo] | None:
    """The (name, field) a YAML key (the camelCase alias) selects in `model`."""
    for name, field in model.model_fields.items():
        if key == (field.alias or name):
            return name, field
    return None


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The YAML keys a section accepts, in declaration order."""
    return [field.alias or name for name, field in model.model_fields.items()]


def slot_at(loc: Sequence[str | int], root: type[BaseModel] = PlatformSpec) -> Slot | None:
    """The schema slot at a path such as ('tenants', 0, 'projects'); None if there is none."""
    slot = Slot(root)
    for segment in loc:
        annotation = bare_type(slot.annotation)
        origin = get_origin(annotation)
        if is_model(annotation):
            if not isinstance(segment, str):
                return None
            found = model_field(annotation, segment)
            if found is None:
                return None
            name, field = found
            slot = Slot(field.annotation, field, annotation, name)
        elif origin is list and isinstance(segment, int):
            slot = Slot(get_args(annotation)[0])
        elif origin is dict and isinstance(segment, str):
            slot = Slot(get_args(annotation)[1])
        else:
            return None
    return slot


def _constraints(metadata: Iterable[Any]) -> str:
    words: list[str] = []
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            words.append(f"at least {item.ge}")
        elif isinstance(item, annotated_types.Le):
            words.append(f"at most {item.le}")
        elif isinstance(item, annotated_types.MinLen):
            words.append(f"at least {item.min_length} characters")
        elif isinstance(item, annotated_types.MaxLen):
            words.append(f"at most {item.max_length} characters")
    return f" ({', '.join(words)})" if words else ""


def _is_dns_validator(item: Any) -> bool:
    return isinstance(item, AfterValidator) and item.func is check_dns_label


def describe_type(annotation: Any) -> str:
    """A short phrase saying what a value of this type looks like in YAML."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        if any(_is_dns_validator(item) for item in metadata):
            return DNS1123_LABEL_RULE
        return describe_type(base) + _constraints(metadata)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return " or ".join(describe_type(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    if origin is list:
        return f"a list, each item {describe_type(get_args(annotation)[0])}"
    if origin is dict:
        key, value = get_args(annotation)
        return f"a mapping of {describe_type(key)} to {describe_type(value)}"
    if is_model(annotation):
        return "a mapping with keys " + ", ".join(allowed_keys(annotation))
    simple: dict[Any, str] = {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        Any: "any value",
    }
    return simple.get(annotation, getattr(annotation, "__name__", str(annotation)))


def describe_slot(slot: Slot) -> str:
    """What is allowed at a slot: the field's own description, else one derived from its type."""
    field = slot.field
    if field is not None:
        if field.description:
            return field.description
        if slot.owner is not None and slot.name is not None:
            known = _TENANCY_ALLOWED.get((slot.owner, slot.name))
            if known:
                return known
        if any(_is_dns_validator(item) for item in field.metadata):
            return DNS1123_LABEL_RULE
        return describe_type(field.annotation) + _constraints(field.metadata)
    return describe_type(slot.annotation)
