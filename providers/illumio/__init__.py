"""Illumio PCE: settings, client, errors, models and the Pulumi dynamic resources.

Names resolve lazily so that importing one resource module does not load the
HTTP client, and each module can be imported on its own.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "PceSettings": "providers.illumio.settings",
    "PceClient": "providers.illumio.client",
    "IllumioManagerError": "providers.illumio.errors",
    "IllumioError": "providers.illumio.errors",
    "ClusterOperationError": "providers.illumio.errors",
    "LabelOperationError": "providers.illumio.errors",
    "PceAuthError": "providers.illumio.errors",
    "PceNotFoundError": "providers.illumio.errors",
    "PceConflictError": "providers.illumio.errors",
    "PceValidationError": "providers.illumio.errors",
    "PceRateLimitError": "providers.illumio.errors",
    "PceServerError": "providers.illumio.errors",
    "PceOutcomeUnknownError": "providers.illumio.errors",
    "PceSettingsError": "providers.illumio.errors",
    "PceConnectionError": "providers.illumio.errors",
    "PceJobError": "providers.illumio.errors",
    "ClusterRecord": "providers.illumio.models",
    "WorkloadProfileRecord": "providers.illumio.models",
    "LabelRecord": "providers.illumio.models",
    "PairingProfileRecord": "providers.illumio.models",
    "ServiceBackend": "providers.illumio.models",
    "ContainerCluster": "providers.illumio.container_cluster",
    "Label": "providers.illumio.label",
    "ContainerWorkloadProfile": "providers.illumio.workload_profile",
    "PairingProfile": "providers.illumio.pairing",
    "PairingKey": "providers.illumio.pairing",
    "get_service_backends": "providers.illumio.service_backends",
    "NO_LABEL": "providers.illumio.profile_payload",
    "RuleSet": "providers.illumio.rule_set",
    "IpList": "providers.illumio.ip_list",
    "PolicyProvision": "providers.illumio.provisioning",
    "ProvisionError": "providers.illumio.provisioning",
    "PolicyTeardown": "providers.illumio.teardown",
    "RuleSetRecord": "providers.illumio.policy_models",
    "IpListRecord": "providers.illumio.policy_models",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'providers.illumio' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
