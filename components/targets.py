"""Where components put what they make: the cluster endpoint kubeconfigs point at, the Illumio
container cluster and label registry profiles join, and the Vault KV v2 location secrets go to.

One model per target, shared by Project, Tenant, ClusterOnboarding and Platform, so a
Vault path or an endpoint is checked the same way wherever it is handed in.
"""

from __future__ import annotations

import pulumi
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from components.illumio.labels import LabelRegistry
from components.tenancy.kubeconfig import certificate_authority_data, server_problem

ARGS_CONFIG = ConfigDict(
    extra="forbid", frozen=True, arbitrary_types_allowed=True, hide_input_in_errors=True
)
"""Component argument models: unknown fields refused, immutable, Pulumi objects allowed,
and inputs never echoed in validation errors (they may hold secrets)."""

StrInput = str | pulumi.Output
"""A plain string or a Pulumi Output of one."""

SecretInput = SecretStr | StrInput
"""A secret handed in as a pydantic SecretStr (never shown in a repr), a string or an Output."""

DEFAULT_VAULT_PREFIX = "tenantguard"


def secret_output(value: SecretInput | None) -> pulumi.Output[str] | None:
    """`value` as a secret Output (None stays None), so it reaches the state encrypted."""
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return pulumi.Output.secret(value.get_secret_value())
    return pulumi.Output.secret(value)


class ClusterEndpoint(BaseModel):
    """How kubeconfigs reach the cluster: API server URL and CA (PEM or base64 PEM).

    Plain strings are checked here, before anything registers; Outputs when they resolve.
    The CA may be left out only where no kubeconfig is made (no service accounts).
    """

    model_config = ARGS_CONFIG

    server: StrInput
    certificate_authority: StrInput | None
    name: str = Field(default="kubernetes", min_length=1)
    """The cluster's name inside the kubeconfigs."""

    @field_validator("server", mode="after")
    @classmethod
    def _server(cls, value: StrInput) -> StrInput:
        problem = server_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("certificate_authority", mode="after")
    @classmethod
    def _ca(cls, value: StrInput | None) -> StrInput | None:
        if isinstance(value, str):
            certificate_authority_data(value)
        return value


class IllumioTarget(BaseModel):
    """Where workload profiles go. Without one, no Illumio objects are made."""

    model_config = ARGS_CONFIG

    container_cluster_href: StrInput
    label_registry: LabelRegistry | None = None
    """The stack-wide registry; a Tenant or Project builds its own when None."""


class VaultTarget(BaseModel):
    """A KV v2 mount and a path prefix inside it; every secret path starts with the prefix.

    Cluster credentials go to `<prefix>/clusters/<cluster>`, kubeconfigs to
    `<prefix>/tenants/<tenant>/<project>/<service-account>` (see `path`).
    """

    model_config = ARGS_CONFIG

    mount: StrInput
    path_prefix: str = DEFAULT_VAULT_PREFIX

    @field_validator("mount", "path_prefix", mode="after")
    @classmethod
    def _path(cls, value: StrInput, info: ValidationInfo) -> StrInput:
        if not isinstance(value, str):
            return value
        value = value.strip("/")
        if info.field_name == "mount" and not value:
            raise ValueError("must name the KV v2 mount, such as 'secret' or 'kv'")
        if value and any(not part.strip() for part in value.split("/")):
            raise ValueError("must not contain empty path segments ('//')")
        return value

    def path(self, *segments: str) -> str:
        """The secret's name inside the mount: the prefix, then `segments`, joined by '/'."""
        return "/".join(part for part in (self.path_prefix, *segments) if part)

    def full_path(self, *segments: str) -> StrInput:
        """`<mount>/<path>`, what `vault kv get` takes (an Output when the mount is one)."""
        if isinstance(self.mount, str):
            return f"{self.mount}/{self.path(*segments)}"
        return pulumi.Output.concat(self.mount, "/", self.path(*segments))
