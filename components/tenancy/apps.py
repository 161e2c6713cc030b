"""An app's Kubernetes objects, as plain manifests (dicts): Deployment, Service, and an
Ingress when the app has a host.

Every pod template is built to pass the library's pod policies whatever the project enables:
runAsNonRoot, no privilege escalation, every capability dropped, seccomp RuntimeDefault, no
host namespaces, ports or volumes, explicit CPU and memory requests and limits (the app's,
else the project's container defaults), and the labels the project's `require-labels`
policies ask for. What construction cannot guarantee (an allowed image, a label value only
the tenant knows, room in the quota) is refused by `components.tenancy.app_rules` first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.managed_by import MANAGED_BY_LABEL
from components.tenancy.app_models import AppSpec
from components.tenancy.models import ContainerDefaults, PlatformPolicy

Manifest = dict[str, Any]

APP_LABEL = "tenantguard.io/app"
"""The Deployment's selector: which app a pod belongs to."""
NAME_LABEL = "app.kubernetes.io/name"
VERSION_LABEL = "app.kubernetes.io/version"
ILLUMIO_ANNOTATION_PREFIX = "com.illumio."
"""Kubelink reads `com.illumio.<key>` annotations on a pod template (and a Service) as the
Illumio label the pods ask for; the PCE grants it only within the profile's restrictions."""
PORT_NAME = "http"
INGRESS_PATH_TYPE = "Prefix"

# Docker's reference grammar, restricted to the explicit spelling: the registry host first.
_HOST_PART = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_HOST = rf"{_HOST_PART}(\.{_HOST_PART})*(:[0-9]+)?"
_PATH_PART = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"^(?P<repository>(?P<host>{_HOST})/(?P<path>{_PATH_PART}(/{_PATH_PART})*))"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(@(?P<digest>[a-z0-9]+([+._-][a-z0-9]+)*:[A-Za-z0-9=_-]{32,}))?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
IMAGE_RULE = (
    "an image reference that starts with its registry host (a host has a '.' or ':' or is "
    "localhost) and names a tag or digest, such as registry.example.com/team/api:1.4.2, "
    "docker.io/library/nginx:1.27 or ghcr.io/acme/api@sha256:<64 hex digits>"
)


@dataclass(frozen=True)
class ImageRef:
    """An image reference cut into its parts; `repository` is host and path, as the
    registry allowlist reads it."""

    repository: str
    host: str
    path: str
    tag: str | None
    digest: str | None


def parse_image(image: str) -> ImageRef:
    """`image` cut into its parts; ValueError saying what is allowed if it is not in the
    explicit form (see IMAGE_RULE), so the spelling the allowlist judges is the one pulled."""
    first, slash, _ = image.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        raise ValueError(
            f"{image!r} does not start with a registry host, so Docker would pull it from "
            f"Docker Hub; write docker.io/{image if slash else 'library/' + image}"
        )
    match = _IMAGE.match(image)
    if match is None:
        raise ValueError(f"{image!r} is not {IMAGE_RULE}")
    host, path = match.group("host"), match.group("path")
    if host == "index.docker.io":
        raise ValueError(f"{image!r} uses Docker Hub's legacy host; write docker.io instead")
    if host == "docker.io" and "/" not in path:
        raise ValueError(
            f"{image!r} is an official Docker Hub image; write docker.io/library/{path}..."
        )
    return ImageRef(
        match.group("repository"), host, path, match.group("tag"), match.group("digest")
    )


def is_label_value(value: str) -> bool:
    """Whether `value` is a valid Kubernetes label value."""
    return bool(_LABEL_VALUE.match(value))


def selector_labels(app: AppSpec) -> dict[str, str]:
    """The labels the Deployment selects its pods by (and the NetworkPolicy and Service)."""
    return {APP_LABEL: app.name}


def derived_pod_labels(app: AppSpec) -> dict[str, str]:
    """The labels an app's pods get without asking: the app's name, and its image tag as
    `app.kubernetes.io/version` when the tag is a valid label value."""
    labels = {NAME_LABEL: app.name}
    try:
        tag = parse_image(app.image).tag
    except ValueError:
        tag = None
    if tag and is_label_value(tag):
        labels[VERSION_LABEL] = tag
    return labels


def pod_labels(app: AppSpec, project_labels: dict[str, str]) -> dict[str, str]:
    """Every label on the app's pods: the project's, the selector, derived, then the app's own."""
    return {
        **project_labels,
        **selector_labels(app),
        **derived_pod_labels(app),
        **app.labels,
    }


def reserved_label_keys(project_labels: dict[str, str]) -> set[str]:
    """Label keys an app may not set itself: tenancy, selector and manager labels, its name."""
    return {*project_labels, APP_LABEL, NAME_LABEL, MANAGED_BY_LABEL}


def container_resources(
    app: AppSpec, defaults: ContainerDefaults
) -> dict[str, dict[str, str | None]]:
    """The container's requests and limits: the app's amounts, else the container defaults."""
    out: dict[str, dict[str, str | None]] = {}
    for scope, own, default in (
        ("requests", app.resources.requests, defaults.default_request),
        ("limits", app.resources.limits, defaults.default_limit),
    ):
        out[scope] = {
            resource: getattr(own, resource) or getattr(default, resource)
            for resource in ("cpu", "memory")
        }
    return out


def _metadata(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": dict(labels)}


def illumio_annotations(app: AppSpec) -> dict[str, str]:
    """The `com.illumio.<key>` annotations that ask for the app's restricted Illumio labels."""
    return {f"{ILLUMIO_ANNOTATION_PREFIX}{k}": v for k, v in sorted(app.illumio_labels.items())}


def deployment_manifest(
    app: AppSpec, namespace: str, project_labels: dict[str, str], defaults: ContainerDefaults
) -> Manifest:
    """The app's Deployment: one hardened container, no service-account token, no host access."""
    resources = container_resources(app, defaults)
    security: dict[str, Any] = {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    pod_security: dict[str, Any] = {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if app.run_as_user is not None:
        security["runAsUser"] = app.run_as_user
        pod_security["runAsUser"] = app.run_as_user
    container: dict[str, Any] = {
        "name": app.name,
        "image": app.image,
        "ports": [{"name": PORT_NAME, "containerPort": app.port, "protocol": "TCP"}],
        "resources": {
            scope: {k: v for k, v in amounts.items() if v is not None}
            for scope, amounts in resources.items()
        },
        "securityContext": security,
    }
    if app.env:
        container["env"] = [{"name": k, "value": v} for k, v in app.env.items()]
    template_metadata: dict[str, Any] = {"labels": pod_labels(app, project_labels)}
    annotations = illumio_annotations(app)
    if annotations:
        template_metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(app.name, namespace, {**project_labels, **selector_labels(app)}),
        "spec": {
            "replicas": app.replicas,
            "selector": {"matchLabels": selector_labels(app)},
            "template": {
                "metadata": template_metadata,
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": pod_security,
                    "containers": [container],
                },
            },
        },
    }


def service_manifest(app: AppSpec, namespace: str, project_labels: dict[str, str]) -> Manifest:
    """A ClusterIP Service in front of the app's pods, on the app's port."""
    metadata = _metadata(app.name, namespace, {**project_labels, **selector_labels(app)})
    annotations = illumio_annotations(app)
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(app),
            "ports": [
                {"name": PORT_NAME, "port": app.port, "targetPort": PORT_NAME, "protocol": "TCP"}
            ],
        },
    }


def ingress_manifest(
    app: AppSpec, namespace: str, project_labels: dict[str, str], platform: PlatformPolicy
) -> Manifest | None:
    """The app's Ingress on the platform's ingress class, or None when the app has no host."""
    if app.host is None:
        return None
    spec: dict[str, Any] = {
        "ingressClassName": platform.ingress_class,
        "rules": [
            {
                "host": app.host,
                "http": {
                    "paths": [
                        {
                            "path": app.path,
                            "pathType": INGRESS_PATH_TYPE,
                            "backend": {
                                "service": {"name": app.name, "port": {"number": app.port}}
                            },
                        }
                    ]
                },
            }
        ],
    }
    if app.tls_secret_name:
        spec["tls"] = [{"hosts": [app.host], "secretName": app.tls_secret_name}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _metadata(app.name, namespace, {**project_labels, **selector_labels(app)}),
        "spec": spec,
    }


@dataclass(frozen=True)
class AppManifests:
    """What one app needs: its Deployment, its Service, and its Ingress if it has a host."""

    app: AppSpec
    deployment: Manifest
    service: Manifest
    ingress: Manifest | None = None

    def all(self) -> list[Manifest]:
        """Deployment, Service, then the Ingress when there is one."""
        return [self.deployment, self.service, *([self.ingress] if self.ingress else [])]


def app_manifests(
    app: AppSpec,
    namespace: str,
    project_labels: dict[str, str],
    defaults: ContainerDefaults,
    platform: PlatformPolicy,
) -> AppManifests:
    """Every object of `app` (validate it with `app_rules` first)."""
    return AppManifests(
        app=app,
        deployment=deployment_manifest(app, namespace, project_labels, defaults),
        service=service_manifest(app, namespace, project_labels),
        ingress=ingress_manifest(app, namespace, project_labels, platform),
    )
