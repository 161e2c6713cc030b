"""The Illumio test program both engine test packages run: the stand-in (`tests/engine/`)
calls it in-process, the real CLI (`tests/real_engine/program/`) from a project's
`__main__.py`. One declaration, so the two prove the same objects and request counts.
"""

from __future__ import annotations

import pulumi

from providers.illumio import (
    ContainerCluster,
    ContainerWorkloadProfile,
    IpList,
    Label,
    PairingKey,
    PairingProfile,
    PolicyProvision,
    PolicyTeardown,
    RuleSet,
)

CLUSTER = "e2e-cluster"
PAIRING = "e2e-pairing"
FIRST_UP_REQUESTS = {
    "cluster GET": 1,  # is the name taken?
    "cluster POST": 1,
    "label GET": 1,  # one read of every label (the operation's snapshot) ...
    "label POST": 3,  # ... and each created unless it exists (env=prod does)
    "pairing_profile POST": 1,
    "pairing_key POST": 1,
    "profile GET": 1,  # one read of the cluster's profiles: has Kubelink made any?
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


POLICY_FIRST_UP_REQUESTS = {
    "ip_list GET": 1,  # one read per collection: is any name there (to adopt)? ...
    "ip_list POST": 1,
    "rule_set GET": 1,
    "rule_set POST": 2,
    "rule POST": 4,  # ... and each rule is written through sec_rules
    "pending GET": 1,  # one PolicyProvision: one exact subset, one version
    "dependencies POST": 1,
    "policy_version POST": 1,
}
"""PCE requests of `declare_policy()`'s first up, labels aside (`policy_requests`)."""
POLICY_REFRESH_REQUESTS = {
    "ip_list GET": 1,  # one read of each collection serves every Read ...
    "rule_set GET": 1,  # ... the rule sets with their rules embedded
    "pending GET": 1,  # PolicyProvision: is any of the stack's changes still pending?
}
"""A refresh after the first up, labels aside: one request per collection."""
POLICY_CHANGE_REQUESTS = {
    "rule_set GET": 1,  # the shop rule set is read live, its one changed rule rewritten
    "rule PUT": 1,
    "rule_set DELETE": 1,  # the batch rule set is gone from the program ...
    "pending GET": 2,
    "dependencies POST": 2,
    "policy_version POST": 2,  # ... its deletion is a version of its own
}
"""`declare_policy(port=8443, batch=False)` after the first up: two versions."""
POLICY_DESTROY_REQUESTS = {
    "rule_set GET": 1,  # the PolicyTeardown finds its objects' drafts by name ...
    "ip_list GET": 1,
    "rule_set DELETE": 1,  # ... deletes them (their own Deletes are not called) ...
    "ip_list DELETE": 1,
    "pending GET": 1,  # ... and provisions every deletion as one version
    "dependencies POST": 1,
    "policy_version POST": 1,
}
"""Destroy after the change: PolicyProvision itself costs nothing."""


def policy_requests(counts: dict[str, int]) -> dict[str, int]:
    """Request counts without the labels' (the Label provider's own figures)."""
    return {kind: n for kind, n in counts.items() if not kind.startswith("label ")}


def declare_policy(
    *, port: int = 443, batch: bool = True, cidr: str = "10.0.0.0/8", extra: int = 0
) -> None:
    """A project's segmentation: its labels, an egress IP list, a rule set allowing traffic
    within the project, DNS and egress to the IP list (plus a second rule set with
    `batch`, and `extra` more DNS rule sets), the PolicyProvision that makes them active,
    and the PolicyTeardown they are deleted with."""
    extras = [f"e2e-extra-{i}" for i in range(extra)]
    app = Label("policy-app", key="app", value="shop")
    env = Label("policy-env", key="env", value="prod")
    teardown = PolicyTeardown(
        "policy-teardown",
        rule_sets=["e2e-shop", *(["e2e-batch"] if batch else []), *extras],
        ip_lists=["e2e-egress"],
        opts=pulumi.ResourceOptions(depends_on=[app, env]),
    )
    with_teardown = pulumi.ResourceOptions(deleted_with=teardown)
    egress = IpList(
        "egress", name="e2e-egress", ip_ranges=[cidr], description="baseline", opts=with_teardown
    )
    tcp = {"providers": ["ams"], "consumers": ["ams"], "services": [{"proto": "tcp", "port": port}]}
    dns = {
        "providers": ["ams"],
        "consumers": ["ams"],
        "services": [{"proto": "udp", "port": 53}, {"proto": "tcp", "port": 53}],
    }
    out = {
        "providers": [egress.href],
        "consumers": ["ams"],
        "services": [{"proto": "tcp", "port": 443}],
    }
    shop = RuleSet(
        "shop-rules",
        name="e2e-shop",
        scopes=[[app.href, env.href]],
        rules=[tcp, dns, out],
        opts=with_teardown,
    )
    objects: list[pulumi.Resource] = [egress, shop]
    if batch:
        batch_rules = RuleSet(
            "batch-rules", name="e2e-batch", scopes=[[app.href]], rules=[dns], opts=with_teardown
        )
        objects.append(batch_rules)
    for name in extras:
        objects.append(
            RuleSet(name, name=name, scopes=[[env.href]], rules=[dns], opts=with_teardown)
        )
    provision = PolicyProvision("policy", objects=objects, description="e2e segmentation")
    pulumi.export("policy_version", provision.version)
    pulumi.export("shop_rule_set", shop.href)
