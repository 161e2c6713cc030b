"""An app a project deploys: its image, host, port, replicas and pod settings (the spec's
`tenants[].projects[].apps`). Rules that need the project live in `app_rules`."""

from __future__ import annotations

from pydantic import Field

from components.tenancy.spec_base import (
    DnsLabel,
    ResourceAmounts,
    SpecModel,
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
