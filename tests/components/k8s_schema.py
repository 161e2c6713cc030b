"""Validate Kubernetes manifests against the OpenAPI schemas of one pinned Kubernetes version.

Strict schemas: an unknown or misspelt field is an error (the API server would drop
it silently or refuse it under strict field validation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import kubernetes_validate

KUBERNETES_VERSION = "1.31"
"""The version the manifests must be valid for; bump deliberately, with the cluster floor."""


def validate_manifest(manifest: Mapping[str, Any]) -> None:
    """Raise AssertionError naming the object and the failing field if `manifest` is invalid."""
    what = f"{manifest.get('kind')}/{(manifest.get('metadata') or {}).get('name')}"
    try:
        used = kubernetes_validate.validate(dict(manifest), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        field = ".".join(str(p) for p in exc.path) or "<root>"
        raise AssertionError(
            f"{what} is not valid for Kubernetes {KUBERNETES_VERSION}: {field}: {exc.message}"
        ) from exc
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise AssertionError(f"{what}: {exc.message}") from exc
    if used != KUBERNETES_VERSION:
        raise AssertionError(
            f"{what} was validated against Kubernetes {used}, not the pinned {KUBERNETES_VERSION}"
        )


def validate_manifests(manifests: Iterable[Mapping[str, Any]]) -> int:
    """Validate each manifest; return how many were checked."""
    count = 0
    for manifest in manifests:
        validate_manifest(manifest)
        count += 1
    return count
