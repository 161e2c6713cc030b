"""Pulumi ComponentResources of tenantguard, importable by other teams' programs.

Names resolve lazily so that `import components` stays cheap and each component's
module is loaded only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "Kyverno": "components.kyverno.release",
    "KyvernoArgs": "components.kyverno.release",
    "Project": "components.tenancy.project",
    "ProjectArgs": "components.tenancy.project",
    "Tenant": "components.tenancy.tenant",
    "TenantArgs": "components.tenancy.tenant",
    "LabelRegistry": "components.illumio.labels",
    "ClusterOnboarding": "components.illumio.onboarding",
    "ClusterOnboardingArgs": "components.illumio.onboarding",
    "Platform": "components.platform",
    "PlatformArgs": "components.platform",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
