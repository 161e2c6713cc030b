"""The Pulumi program the real-engine tests run: the Illumio dynamic resources, shaped by
the stack's `e2e:*` config so that each test can change one thing between runs.

It is a real project directory (Pulumi.yaml beside it), so the engine runs it through the
Python language host and the dynamic providers through `pulumi-resource-pulumi-python`.
"""

import pulumi

from providers.illumio import (
    ContainerCluster,
    ContainerWorkloadProfile,
    Label,
    PairingKey,
    PairingProfile,
)

config = pulumi.Config("e2e")
mode = config.get("mode") or "visibility_only"
app_value = config.get("app") or "shop"
description = config.get("description") or "real engine e2e"
with_legacy = config.get_bool("withLegacy") or False
shared_labels = config.get_int("sharedLabels") or 0
cluster_name = config.get("clusterName") or "e2e-cluster"

cluster = ContainerCluster("cluster", name=cluster_name, description=description)
env = Label("env-prod", key="env", value="prod")  # pre-exists in the PCE: used, not owned
app = Label("app", key="app", value=app_value)
web = Label("role-web", key="role", value="web")
db = Label("role-db", key="role", value="db")  # shared by both profiles
pairing = PairingProfile(
    "pairing", name="e2e-pairing", enforcement_mode=mode, assign_labels={"env": env.href}
)
key = PairingKey("pairing-key", pairing_profile_href=pairing.href)
shop = ContainerWorkloadProfile(
    "shop",
    container_cluster_href=cluster.href,
    namespace="shop",
    enforcement_mode=mode,
    assign_labels={"env": env.href, "app": app.href},
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

# Many resources declaring one label, as many projects of one tenant do: the engine
# creates them in parallel, and the PCE must end up with exactly one.
shared = [Label(f"loc-{i}", key="loc", value="eu-west") for i in range(shared_labels)]
if shared:
    pulumi.export("shared_hrefs", pulumi.Output.all(*[label.href for label in shared]))
