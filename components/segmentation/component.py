"""components.segmentation.Segmentation: the stack's PCE security policy, from the intents.

One RuleSet per project, the IP lists they use, and one PolicyProvision that makes the
stack's draft changes active: one policy version per `pulumi up` that changed anything,
none for a no-op. A rule set or IP list an up drops provisions its own deletion; a
destroy (or removing the whole segmentation) deletes them all through one PolicyTeardown,
as one policy version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from components.illumio.labels import LabelRegistry
from components.segmentation.illumio_rules import (
    Actor,
    RuleSetSpec,
    ip_lists,
    project_rule_set,
    rule_labels,
)
from components.segmentation.intent import ProjectIntent
from providers.illumio import IpList, PolicyProvision, PolicyTeardown, RuleSet

TYPE_TOKEN = "tenantguard:index:Segmentation"


class Segmentation(pulumi.ComponentResource):
    """The PCE rule sets and IP lists of every project in `intents`, provisioned together.

    `cluster` names the objects (`tenantguard-<cluster>-<namespace>`), so several clusters
    can share one PCE. `after` maps a project (`<tenant>/<project>`) to what its rule set
    must wait for (its workload profile), so the policy becomes active once the workloads
    carry their labels; each rule set waits for its own project only, so the dependencies
    grow with the number of projects, not with its square.
    Outputs: `rule_sets` (`<tenant>/<project>` -> href), `ip_lists` (name -> href),
    `policy_version` (the last version this stack provisioned).
    """

    rule_sets: dict[str, pulumi.Output[str]]
    ip_lists: dict[str, pulumi.Output[str]]
    policy_version: pulumi.Output[str | None]

    def __init__(
        self,
        name: str,
        *,
        cluster: str,
        intents: Mapping[str, ProjectIntent],
        egress_baseline: Sequence[str],
        dns_cidrs: Sequence[str],
        label_registry: LabelRegistry,
        after: Mapping[str, Sequence[pulumi.Resource]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        own = pulumi.ResourceOptions(parent=self)
        list_ranges = ip_lists(cluster, intents, egress_baseline, dns_cidrs)
        specs = {key: project_rule_set(cluster, i, egress_baseline) for key, i in intents.items()}
        used = sorted({label for spec in specs.values() for label in rule_labels(spec)})
        # Registered first so every object can be deleted with it; it waits for the labels
        # the rules use, so a destroy deletes it (and the policy) before those labels.
        teardown = PolicyTeardown(
            f"{name}-teardown",
            rule_sets=[spec.name for spec in specs.values()],
            ip_lists=list(list_ranges),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[label_registry.label(k, v) for k, v in used]
            ),
        )
        with_teardown = pulumi.ResourceOptions(parent=self, deleted_with=teardown)
        lists = {
            list_name: IpList(
                f"{name}-iplist-{list_name}",
                name=list_name,
                ip_ranges=list(ranges),
                description="tenantguard: addresses the stack's rule sets allow",
                opts=with_teardown,
            )
            for list_name, ranges in list_ranges.items()
        }
        self.ip_lists = {list_name: resource.href for list_name, resource in lists.items()}
        sets: dict[str, RuleSet] = {}
        for key, intent in intents.items():
            spec = specs[key]
            sets[key] = RuleSet(
                f"{name}-rules-{intent.project.namespace}",
                name=spec.name,
                description=spec.description,
                scopes=[[label_registry.href(k, v) for k, v in spec.scope]],
                rules=_rules(spec, label_registry, lists),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    deleted_with=teardown,
                    depends_on=[
                        *(after or {}).get(key, ()),
                        *(lists.values()),
                        *(label_registry.label(k, v) for k, v in sorted(rule_labels(spec))),
                    ],
                ),
            )
        self.rule_sets = {key: resource.href for key, resource in sets.items()}
        provision = PolicyProvision(
            f"{name}-provision",
            objects=[*lists.values(), *sets.values()],
            description=f"segmentation of cluster {cluster}",
            opts=own,
        )
        self.policy_version = provision.version
        self.register_outputs(
            {
                "rule_sets": self.rule_sets,
                "ip_lists": self.ip_lists,
                "policy_version": self.policy_version,
            }
        )


def _actor(actor: Actor, registry: LabelRegistry, lists: Mapping[str, IpList]) -> list[Any]:
    if actor.kind == "ams":
        return ["ams"]
    if actor.kind == "ip_list":
        return [lists[actor.ip_list].href]
    return [registry.href(key, value) for key, value in actor.labels]


def _rules(
    spec: RuleSetSpec, registry: LabelRegistry, lists: Mapping[str, IpList]
) -> list[dict[str, Any]]:
    return [
        {
            "providers": _actor(rule.providers, registry, lists),
            "consumers": _actor(rule.consumers, registry, lists),
            "services": [dict(service) for service in rule.services],
            "unscoped_consumers": rule.unscoped_consumers,
            "enabled": True,
            "description": rule.description,
        }
        for rule in spec.rules
    ]
