"""The Illumio test program both engine test packages run: the stand-in (`tests/engine/`)
calls it in-process, the real CLI (`tests/real_engine/program/`) from a project's
`__main__.py`. One declaration, so the two prove the same objects and request counts.
"""

from __future__ import annotations

import pulumi

from providers.illumio import (
    ContainerCluster,
    ContainerWorkloadProfile,
    Label,
    PairingKey,
    PairingProfile,
)

CLUSTER = "e2e-cluster"
PAIRING = "e2e-pairing"
FIRST_UP_REQUESTS = {
    "cluster GET": 1,  # is the name taken?
    "cluster POST": 1,
    "label GET": 4,  # each label is looked up first ...
    "label POST": 3,  # ... and created unless it exists (env=prod does)
    "pairing_profile POST": 1,
    "pairing_key POST": 1,
    "profile GET": 2,  # does Kubelink already have a profile for the namespace?
    "profile POST": 2,
}
"""PCE requests of a first up on an emulator where only env=prod exists."""


def declare(
    *,
    mode: str = "visibility_only",
    app: str = "shop",
    description: str = "engine e2e",
    with_legacy: bool = False,
    shared_labels: int = 0,
) -> None:
    """Register the program's resources and exports.

    `with_legacy` also manages namespace `legacy`, whose profile Kubelink may already
    have reported; `shared_labels` adds that many resources declaring one label, as many
    projects of one tenant do, so parallel creates of it meet.
    """
    cluster = ContainerCluster("cluster", name=CLUSTER, description=description)
    env = Label("env-prod", key="env", value="prod")  # pre-exists in the PCE: used, not owned
    app_label = Label("app", key="app", value=app)
    web = Label("role-web", key="role", value="web")
    db = Label("role-db", key="role", value="db")  # shared by both profiles
    pairing = PairingProfile(
        "pairing", name=PAIRING, enforcement_mode=mode, assign_labels={"env": env.href}
    )
    key = PairingKey("pairing-key", pairing_profile_href=pairing.href)
    shop = ContainerWorkloadProfile(
        "shop",
        container_cluster_href=cluster.href,
        namespace="shop",
        enforcement_mode=mode,
        assign_labels={"env": env.href, "app": app_label.href},
        label_restrictions={"role": [web.href, db.href]},
    )
    billing = ContainerWorkloadProfile(
        "billing",
        container_cluster_href=cluster.href,
        namespace="billing",
        enforcement_mode=mode,
        assign_labels={"env": env.href, "app": None},
        label_restrictions={"role": [db.href]},
    )
    pulumi.export("cluster_href", cluster.href)
    pulumi.export("cluster_token", cluster.container_cluster_token)
    pulumi.export("activation_code", key.activation_code)
    pulumi.export("profiles", pulumi.Output.all(shop.href, billing.href))
    if with_legacy:
        legacy = ContainerWorkloadProfile(
            "legacy",
            container_cluster_href=cluster.href,
            namespace="legacy",
            enforcement_mode=mode,
            assign_labels={"env": env.href},
        )
        pulumi.export("legacy_href", legacy.href)
    shared = [Label(f"loc-{i}", key="loc", value="eu-west") for i in range(shared_labels)]
    if shared:
        pulumi.export("shared_hrefs", pulumi.Output.all(*[label.href for label in shared]))
