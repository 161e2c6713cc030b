"""The PCE side of a tenantguard stack with N projects, as a Pulumi program of its own.

`bench/pce_requests.py` runs it through the engine stand-in and the real Pulumi CLI. It
declares what the tenantguard program declares in the PCE for `bench/spec_factory.py`'s
spec (5 projects per tenant), and nothing else, so the real engine needs no Kubernetes or
Vault plugin: one container cluster, a pairing profile and key, the platform labels
(`env`, `loc`), a `bu` label per business unit, an `app` label per tenant, the `role`
labels of the label restrictions, and one workload profile per project. With `policy`
(the default) also the segmentation's policy objects: a DNS IP list, one rule set per
project with two rules (within the project, DNS), the PolicyProvision of them all, and
the PolicyTeardown they are deleted with (as `components.segmentation` declares them).
"""

from __future__ import annotations

import pulumi

from bench.spec_factory import BUSINESS_UNITS, CLUSTER_NAME, PROJECTS_PER_TENANT
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

RULES_PER_SET = 2


def object_counts(projects: int, *, policy: bool = True) -> dict[str, int]:
    """How many PCE objects of each kind `declare(projects)` manages (`provision`: the one
    policy version a first up makes)."""
    tenants = -(-projects // PROJECTS_PER_TENANT)
    bus = min(tenants, len(BUSINESS_UNITS))
    roles = 2 if projects > 1 else 0
    counts = {
        "cluster": 1,
        "pairing_profile": 1,
        "pairing_key": 1,
        "label": 2 + bus + tenants + roles,
        "profile": projects,
    }
    if policy:
        counts.update(ip_list=1, rule_set=projects, rule=RULES_PER_SET * projects, provision=1)
    return counts


def declare(projects: int, *, policy: bool = True) -> None:
    """Register the PCE objects of a spec with `projects` projects."""
    cluster = ContainerCluster("cluster", name=CLUSTER_NAME, description="pce bench")
    labels: dict[tuple[str, str], Label] = {}

    def label(key: str, value: str) -> Label:
        if (key, value) not in labels:
            labels[(key, value)] = Label(f"label-{key}-{value}", key=key, value=value)
        return labels[(key, value)]

    platform = {"env": label("env", "bench"), "loc": label("loc", "eu-west-1")}
    pairing = PairingProfile(
        "pairing", name=f"{CLUSTER_NAME}-kubelink", assign_labels={"env": platform["env"].href}
    )
    PairingKey("pairing-key", pairing_profile_href=pairing.href)
    dns: IpList | None = None
    with_teardown: pulumi.ResourceOptions | None = None
    if policy:
        apps = [label("app", f"tenant-{i // PROJECTS_PER_TENANT:04d}") for i in range(projects)]
        teardown = PolicyTeardown(
            "policy-teardown",
            rule_sets=[f"{CLUSTER_NAME}-{_namespace(i)}" for i in range(projects)],
            ip_lists=[f"{CLUSTER_NAME}-dns"],
            opts=pulumi.ResourceOptions(depends_on=[platform["env"], *dict.fromkeys(apps)]),
        )
        with_teardown = pulumi.ResourceOptions(deleted_with=teardown)
        dns = IpList(
            "ip-dns", name=f"{CLUSTER_NAME}-dns", ip_ranges=["10.96.0.10"], opts=with_teardown
        )
    policy_objects: list[pulumi.Resource] = [dns] if dns else []
    for index in range(projects):
        tenant = index // PROJECTS_PER_TENANT
        assigned = {
            **platform,
            "bu": label("bu", BUSINESS_UNITS[tenant % len(BUSINESS_UNITS)]),
            "app": label("app", f"tenant-{tenant:04d}"),
        }
        restrictions: dict[str, list[pulumi.Output[str]]] = {}
        if index % 2 == 1:
            restrictions["role"] = [label("role", "api").href, label("role", "worker").href]
        namespace = _namespace(index)
        profile = ContainerWorkloadProfile(
            f"{namespace}-profile",
            container_cluster_href=cluster.href,
            namespace=namespace,
            description=f"pce bench project {index}",
            assign_labels={key: found.href for key, found in assigned.items()},
            label_restrictions=restrictions,
        )
        if dns is not None and with_teardown is not None:
            policy_objects.append(_rule_set(namespace, assigned, dns, profile, with_teardown))
    if policy_objects:
        PolicyProvision("policy", objects=policy_objects, description="pce bench")
    pulumi.export("cluster_href", cluster.href)


def _namespace(index: int) -> str:
    return f"t{index // PROJECTS_PER_TENANT:04d}-p{index % PROJECTS_PER_TENANT}"


def _rule_set(
    namespace: str,
    assigned: dict[str, Label],
    dns: IpList,
    profile: pulumi.Resource,
    with_teardown: pulumi.ResourceOptions,
) -> RuleSet:
    """A project's rule set: traffic within its scope, and DNS to the cluster's resolver."""
    within = {"providers": ["ams"], "consumers": ["ams"], "services": [{"proto": "tcp"}]}
    to_dns = {
        "providers": [dns.href],
        "consumers": ["ams"],
        "services": [{"proto": "udp", "port": 53}],
        "unscoped_consumers": False,
    }
    return RuleSet(
        f"{namespace}-rules",
        name=f"{CLUSTER_NAME}-{namespace}",
        scopes=[[assigned["app"].href, assigned["env"].href]],
        rules=[within, to_dns],
        opts=pulumi.ResourceOptions.merge(
            with_teardown, pulumi.ResourceOptions(depends_on=[profile])
        ),
    )
