"""Pulumi ComponentResources of tenantguard, importable by other teams' programs.

Names resolve lazily so that `import components` stays cheap and each component's
module is loaded only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "Kyverno": "components.kyverno",
    "KyvernoArgs": "components.kyverno",
    "Project": "components.project",
    "ProjectArgs": "components.project",
    "Tenant": "components.tenant",
    "TenantArgs": "components.tenant",
    "LabelRegistry": "components.illumio_labels",
    "ClusterOnboarding": "components.cluster_onboarding",
    "ClusterOnboardingArgs": "components.cluster_onboarding",
    "Platform": "components.platform",
    "PlatformArgs": "components.platform",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
