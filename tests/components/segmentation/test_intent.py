"""The segmentation intent, and that the NetworkPolicies and the PCE rules come from it."""

from __future__ import annotations

from typing import Any

import pytest

from components.segmentation.illumio_rules import ip_lists, project_rule_set, services
from components.segmentation.intent import (
    DNS_PORTS,
    Port,
    identity_labels,
    platform_intents,
    project_intent,
)
from components.segmentation.network_policies import project_network_policies
from components.tenancy.models import PlatformPolicy, TenantSpec

PLATFORM = PlatformPolicy.model_validate(
    {
        "egressBaseline": ["10.0.0.0/8", "192.168.0.0/16"],
        "ingressIllumioLabels": {"app": "ingress-nginx"},
    }
)
PLATFORM_LABELS = {"env": "dev", "loc": "eu"}


def tenants(**web: Any) -> list[TenantSpec]:
    """shop (web, db) and ads (api); `web` sets shop/web's segmentation section."""
    return [
        TenantSpec.model_validate(
            {
                "name": "shop",
                "projects": [
                    {"name": "web", "segmentation": web},
                    {
                        "name": "db",
                        "segmentation": {
                            "allowFrom": [{"project": "web", "ports": [{"port": 5432}]}]
                        },
                    },
                ],
            }
        ),
        TenantSpec.model_validate(
            {
                "name": "ads",
                "projects": [
                    {
                        "name": "api",
                        "apps": [{"name": "front", "image": "ghcr.io/ads/front:1", "host": "a.x"}],
                    }
                ],
            }
        ),
    ]


def test_each_project_has_its_own_identity_which_a_spec_may_override():
    shop, _ = tenants()
    assert identity_labels(shop, shop.projects[0], PLATFORM_LABELS) == {
        "app": "shop-web",
        "env": "dev",
        "loc": "eu",
    }
    renamed = tenants(labels={"app": "storefront"})[0]
    assert identity_labels(renamed, renamed.projects[0], PLATFORM_LABELS)["app"] == "storefront"
    labelled = TenantSpec.model_validate(
        {"name": "ads", "labels": {"app": "adtech", "bu": "sales"}, "projects": [{"name": "api"}]}
    )
    assert identity_labels(labelled, labelled.projects[0], {}) == {
        "app": "adtech-api",
        "bu": "sales",
    }


def test_a_flow_opens_ingress_on_the_target_and_egress_on_the_source():
    intents = platform_intents(tenants(), PLATFORM, PLATFORM_LABELS)
    (ingress,) = intents["shop/db"].ingress_from_projects
    (egress,) = intents["shop/web"].egress_to_projects
    assert ingress.peer.key == "shop/web" and egress.peer.key == "shop/db"
    assert ingress.ports == egress.ports == (Port("TCP", 5432),)
    assert intents["shop/web"].ingress_from_projects == ()
    assert intents["ads/api"].ingress_from_projects == ()
    assert intents["ads/api"].egress_to_projects == ()


def test_egress_is_the_baseline_unless_narrowed_or_switched_off():
    assert platform_intents(tenants(), PLATFORM)["shop/web"].egress_cidrs == (
        "10.0.0.0/8",
        "192.168.0.0/16",
    )
    narrowed = platform_intents(tenants(egressCidrs=["10.1.0.0/16"]), PLATFORM)
    assert narrowed["shop/web"].egress_cidrs == ("10.1.0.0/16",)
    off = platform_intents(tenants(allowEgressBaseline=False), PLATFORM)
    assert off["shop/web"].egress_cidrs == ()


def test_an_app_with_a_host_is_reached_by_the_ingress_controller_on_its_port_only():
    (flow,) = platform_intents(tenants(), PLATFORM)["ads/api"].ingress_from_namespaces
    assert flow.namespace == PLATFORM.ingress_namespace
    assert flow.ports == (Port("TCP", 8080),)
    assert flow.pods is not None and "front" in dict(flow.pods).values()
    assert dict(flow.illumio_labels) == {"app": "ingress-nginx"}


def test_a_project_alone_keeps_the_flows_within_its_tenant():
    shop, _ = tenants()
    intent = project_intent(shop, shop.projects[1], PLATFORM)
    assert [flow.peer.key for flow in intent.ingress_from_projects] == ["shop/web"]


def _netpol_flows(policies: list[dict[str, Any]], direction: str) -> dict[str, set[tuple]]:
    """peer namespace -> {(protocol, port)} a set of NetworkPolicies opens in `direction`."""
    found: dict[str, set[tuple]] = {}
    key, peers = ("ingress", "from") if direction == "ingress" else ("egress", "to")
    for policy in policies:
        for entry in policy["spec"].get(key, []):
            for peer in entry.get(peers, []):
                selector = peer.get("namespaceSelector", {}).get("matchLabels", {})
                namespace = selector.get("kubernetes.io/metadata.name")
                if namespace:
                    found.setdefault(namespace, set()).update(
                        (p["protocol"], p.get("port")) for p in entry.get("ports", [])
                    )
    return found


@pytest.mark.parametrize("key", ["shop/web", "shop/db", "ads/api"])
def test_network_policies_and_pce_rules_allow_the_same_flows(key):
    """Both layers are derived from one intent: every peer and port a NetworkPolicy opens
    to or from another namespace has its PCE rule, and the other way round."""
    intents = platform_intents(tenants(), PLATFORM, PLATFORM_LABELS)
    intent = intents[key]
    policies = project_network_policies(intent, {})
    rule_set = project_rule_set("c1", intent, PLATFORM.egress_baseline)
    by_consumers = {
        tuple(rule.consumers.labels): {(s["proto"].upper(), s.get("port")) for s in rule.services}
        for rule in rule_set.rules
        if rule.consumers.kind == "labels"
    }
    ingress = _netpol_flows(policies, "ingress")
    expected_peers = {flow.peer.namespace: flow.peer.scope for flow in intent.ingress_from_projects}
    expected_peers |= {
        flow.namespace: flow.illumio_labels for flow in intent.ingress_from_namespaces
    }
    assert set(ingress) == set(expected_peers)
    for namespace, scope in expected_peers.items():
        assert ingress[namespace] == by_consumers[tuple(scope)]
    dns = [rule for rule in rule_set.rules if rule.services == services(DNS_PORTS)]
    netpol_names = {policy["metadata"]["name"] for policy in policies}
    assert ("allow-dns" in netpol_names) == (len(dns) == 1) == intent.allow_dns
    egress_rules = [r for r in rule_set.rules if "egress" in r.description]
    assert ("allow-egress-baseline" in netpol_names) == bool(egress_rules)


def test_no_default_rule_lets_one_project_reach_another():
    intents = platform_intents(tenants(), PLATFORM, PLATFORM_LABELS)
    rule_set = project_rule_set("c1", intents["shop/web"], PLATFORM.egress_baseline)
    assert [rule.consumers.kind for rule in rule_set.rules] == ["ams", "ams", "ams"]
    assert all(not rule.unscoped_consumers for rule in rule_set.rules)
    assert rule_set.scope == (("app", "shop-web"), ("env", "dev"), ("loc", "eu"))


def test_the_stack_shares_one_dns_and_one_baseline_ip_list():
    intents = platform_intents(tenants(egressCidrs=["10.1.0.0/16"]), PLATFORM)
    assert ip_lists("c1", intents, PLATFORM.egress_baseline, []) == {
        "tenantguard-c1-dns": ("0.0.0.0/0", "::/0"),
        "tenantguard-c1-shop-web-egress": ("10.1.0.0/16",),
        "tenantguard-c1-egress": ("10.0.0.0/8", "192.168.0.0/16"),
    }
    assert ip_lists("c1", intents, [], ["10.96.0.10/32"])["tenantguard-c1-dns"] == (
        "10.96.0.10/32",
    )
