"""Settings and Helm values for Illumio's Kubelink/C-VEN chart (`oci://quay.io/illumio/illumio`).

Pure: validation and rendering only, no Pulumi resources. The chart takes the cluster token
and pairing key as plain values, so `kubelink_values_output` hands the whole values map back
as one secret Output; nothing here logs or prints a value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from components.formats import check_pem_certificates, check_pinned_version
from components.helm_values import deep_merge

ILLUMIO_CHART = "oci://quay.io/illumio/illumio"
ILLUMIO_NAMESPACE = "illumio-system"
DEFAULT_RELEASE_NAME = "illumio"

# A private PCE CA reaches Kubelink and the C-VEN through the chart's `extraVolumes` and
# `extraVolumeMounts`; Illumio's images read extra CA certificates from this directory.
CA_MOUNT_PATH = "/etc/pki/tls/ilo_certs/"
CA_VOLUME_NAME = "pce-root-ca"
CA_CONFIGMAP_NAME = "illumio-pce-root-ca"
CA_CONFIGMAP_KEY = "pce-root-ca.crt"

ContainerRuntime = Literal["containerd", "crio", "k3s_containerd"]
ContainerManager = Literal["kubernetes", "openshift"]
NetworkType = Literal["overlay", "flat"]
ClusterMode = Literal["legacy", "clas", "migrateLegacyToClas", "migrateClasToLegacy"]

# Top-level chart values tenantguard sets itself: the one list the component and the stack
# spec both refuse in extra values. Some come from the PCE objects tenantguard creates ...
VALUES_FROM_ONBOARDING: dict[str, str] = {
    "pce_url": "the PCE URL handed in (the Pulumi config illumio:pceUrl)",
    "cluster_id": "the PCE container cluster tenantguard creates",
    "cluster_token": "the PCE container cluster tenantguard creates",
    "cluster_code": "the pairing key tenantguard creates",
}
# ... and the others from a KubelinkSettings field, which is where a user changes them.
VALUES_FROM_SETTINGS: dict[str, str] = {
    "containerRuntime": "container_runtime",
    "containerManager": "container_manager",
    "networkType": "network_type",
    "clusterMode": "cluster_mode",
    "ignore_cert": "ignore_cert",
}
RESERVED_VALUES: tuple[str, ...] = (*VALUES_FROM_ONBOARDING, *VALUES_FROM_SETTINGS)
SECRET_VALUE_KEYS: tuple[str, ...] = ("cluster_token", "cluster_code")
"""The values that carry a secret (the cluster token and the pairing key) and so make
`kubelink_values_output` a secret Output. The rest are public chart settings: `tenantguard
render` redacts exactly these keys and shows the others."""


def reserved_value_source(
    key: str, setting_path: Callable[[str], str] = lambda field: f"kubelink.{field}"
) -> str | None:
    """Where tenantguard takes chart value `key` from, or None when a user may set it.

    `setting_path` words a KubelinkSettings field the way the caller's input names it
    (`kubelink.network_type` for the component, `cluster.kubelink.networkType` in a spec).
    """
    if key in VALUES_FROM_ONBOARDING:
        return VALUES_FROM_ONBOARDING[key]
    field = VALUES_FROM_SETTINGS.get(key)
    return None if field is None else setting_path(field)


# List values that are appended to (not replaced by) extra values when the CA is mounted.
_APPENDED_LISTS = ("extraVolumes", "extraVolumeMounts")


def pce_host_port(pce_url: str) -> str:
    """The `host:port` Kubelink dials, from the PCE's base URL (default port 443/80 by scheme).

    Raises ValueError naming `pce_url` when it is not an http(s) URL with a host and nothing
    after it; a URL carrying credentials is refused without echoing it.
    """
    example = "such as https://pce.example.com:8443"
    parts = urlsplit(pce_url.strip())
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"pce_url must not carry credentials; give the PCE's base URL, {example}")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"pce_url must be an https:// or http:// URL with a host, {example}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"pce_url must be the PCE's base URL without a path, query or fragment, {example}"
        )
    from providers.illumio.settings import insecure_transport  # one rule for every PCE client

    insecure = insecure_transport(pce_url)
    if insecure:
        raise ValueError(f"pce_url: {insecure}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"pce_url has an invalid port: {exc}") from None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{host}:{port}"


class KubelinkSettings(BaseModel):
    """How (and whether) tenantguard installs Illumio's Kubelink/C-VEN chart.

    `enabled` defaults to False here: a program reusing ClusterOnboarding opts in to a
    privileged DaemonSet and pins its version. The stack spec's `cluster.kubelink` defaults
    to enabled (a stack onboards its cluster) and calls `extra_values` `values`; Platform
    maps one onto the other field by field (`tenantguard.platform_args.kubelink_settings`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    enabled: bool = False
    chart: str = Field(default=ILLUMIO_CHART, min_length=1)
    version: str | None = Field(default=None, validate_default=True)
    release_name: str = Field(default=DEFAULT_RELEASE_NAME, min_length=1, max_length=53)
    container_runtime: ContainerRuntime = "containerd"
    container_manager: ContainerManager = "kubernetes"
    network_type: NetworkType = "overlay"
    cluster_mode: ClusterMode | None = None
    ignore_cert: bool = False
    ca_bundle: str | None = None
    extra_values: dict[str, Any] = Field(default_factory=dict)

    @field_validator("version", mode="after")
    @classmethod
    def _pinned(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("enabled"):
                raise ValueError(
                    "is required when kubelink.enabled is true: pin an exact chart version "
                    "such as 5.1.0 so a later `pulumi up` does not silently upgrade Kubelink"
                )
            return value
        return check_pinned_version(value)

    @field_validator("ca_bundle", mode="after")
    @classmethod
    def _ca(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("ignore_cert"):
            raise ValueError(
                "cannot be combined with kubelink.ignore_cert: either trust the PCE's private "
                "CA (ca_bundle) or skip certificate checks (ignore_cert), not both"
            )
        return check_pem_certificates(value)

    @field_validator("extra_values", mode="after")
    @classmethod
    def _not_reserved(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            owner = reserved_value_source(key)
            if owner is not None:
                raise ValueError(f"must not set {key!r}: it comes from {owner}")
        for key in _APPENDED_LISTS:
            if key in value and not isinstance(value[key], list):
                raise ValueError(f"{key!r} must be a list of Kubernetes {key[5:-1]} entries")
        return value


def render_values(
    settings: KubelinkSettings,
    *,
    pce_url: str,
    cluster_id: str,
    cluster_token: str,
    cluster_code: str,
) -> dict[str, Any]:
    """The chart's values as plain data; holds the token and key, so never log or print it."""
    values: dict[str, Any] = {
        "pce_url": pce_host_port(pce_url),
        "cluster_id": cluster_id,
        "cluster_token": cluster_token,
        "cluster_code": cluster_code,
        "containerRuntime": settings.container_runtime,
        "containerManager": settings.container_manager,
        "networkType": settings.network_type,
    }
    if settings.cluster_mode is not None:
        values["clusterMode"] = settings.cluster_mode
    if settings.ignore_cert:
        values["ignore_cert"] = True
    extra = dict(settings.extra_values)
    if settings.ca_bundle is not None:
        values["extraVolumes"] = [
            {"name": CA_VOLUME_NAME, "configMap": {"name": CA_CONFIGMAP_NAME}},
            *extra.pop("extraVolumes", []),
        ]
        values["extraVolumeMounts"] = [
            {"name": CA_VOLUME_NAME, "mountPath": CA_MOUNT_PATH, "readOnly": True},
            *extra.pop("extraVolumeMounts", []),
        ]
    return deep_merge(values, extra)


def kubelink_values_output(
    settings: KubelinkSettings,
    *,
    pce_url: str,
    cluster_id: pulumi.Input[str],
    cluster_token: pulumi.Input[str],
    cluster_code: pulumi.Input[str],
) -> pulumi.Output[dict[str, Any]]:
    """The chart's values as one secret Output (they carry the cluster token and pairing key)."""
    pce_host_port(pce_url)  # fail now, not inside an apply
    rendered = pulumi.Output.all(cluster_id, cluster_token, cluster_code).apply(
        lambda parts: render_values(
            settings,
            pce_url=pce_url,
            cluster_id=parts[0],
            cluster_token=parts[1],
            cluster_code=parts[2],
        )
    )
    return pulumi.Output.secret(rendered)


def ca_configmap_manifest(
    settings: KubelinkSettings, namespace: str, labels: Mapping[str, str]
) -> dict[str, Any] | None:
    """The ConfigMap holding the PCE's private CA that the values mount, or None without one."""
    if settings.ca_bundle is None:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CA_CONFIGMAP_NAME, "namespace": namespace, "labels": dict(labels)},
        "data": {CA_CONFIGMAP_KEY: settings.ca_bundle},
    }
