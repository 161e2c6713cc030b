"""get_service_backends: read a container cluster's service backends from the PCE.

This is a plain function that runs in the Pulumi *program* process (not in the
dynamic-provider host): it builds its own client from `PceSettings.load()`, using
the stack's `illumio:*` config when a Pulumi program is running and the
`ILLUMIO_*` environment otherwise. It makes one GET per call, also during preview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from providers.illumio.provider_base import CONFIG_KEYS, CONFIG_NAMESPACE

if TYPE_CHECKING:
    from providers.illumio.models import ServiceBackend


def _program_config() -> dict[str, str]:
    """The `illumio:*` config of the running Pulumi program, or {} outside one."""
    try:
        import pulumi

        config = pulumi.Config(CONFIG_NAMESPACE)
        values = {f"{CONFIG_NAMESPACE}:{key}": config.get(key) for key in CONFIG_KEYS}
    except Exception:  # no Pulumi runtime: fall back to the environment alone
        return {}
    return {key: value for key, value in values.items() if value is not None}


def get_service_backends(container_cluster_href: str) -> list[ServiceBackend]:
    """The cluster's service backends (kind, namespace, name, virtual service) as models."""
    import os

    from providers.illumio.client import PceClient
    from providers.illumio.settings import PceSettings

    settings = PceSettings.load(config=_program_config() or None, env=dict(os.environ))
    return list(PceClient(settings).list_service_backends(container_cluster_href))
