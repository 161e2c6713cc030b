"""get_service_backends: read a container cluster's service backends from the PCE.

This is a plain function that runs in the Pulumi *program* process, not in the
dynamic-provider host: it builds its own client with `PceSettings.from_pulumi_config()`,
i.e. `PceSettings.load()` over the stack's `illumio:*` config when a Pulumi program is
running, else the `ILLUMIO_*` environment. One GET per call, also during preview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from providers.illumio.models import ServiceBackend


def get_service_backends(container_cluster_href: str) -> list[ServiceBackend]:
    """The cluster's service backends (kind, namespace, name, virtual service) as models."""
    from providers.illumio.client import PceClient
    from providers.illumio.settings import PceSettings

    with PceClient(PceSettings.from_pulumi_config()) as client:
        return list(client.list_service_backends(container_cluster_href))
