"""The pure policy payload rules: normal form, revisions, PCE bodies and the rule plan."""

from __future__ import annotations

from providers.illumio.policy_models import RuleRecord
from providers.illumio.policy_objects import change_subset
from providers.illumio.policy_payload import (
    ip_range_body,
    live_range,
    live_rule,
    normal_rules,
    plan_rules,
    range_problem,
    revision,
    rule_body,
)

LABEL = "/orgs/1/labels/7"
IPL = "/orgs/1/sec_policy/draft/ip_lists/3"


def _rule(port: int, providers=("ams",)) -> dict:
    return {
        "providers": list(providers),
        "consumers": ["ams"],
        "services": [{"proto": "tcp", "port": port}],
    }


def test_order_does_not_change_the_normal_form_or_the_revision() -> None:
    a = normal_rules([_rule(1, (LABEL, IPL)), _rule(2)])
    b = normal_rules([_rule(2), _rule(1, (IPL, LABEL)), _rule(2)])
    assert a == b and revision({"rules": a}) == revision({"rules": b})
    assert revision({"rules": normal_rules([_rule(3)])}) != revision({"rules": a})


def test_a_rule_round_trips_through_the_pce_shape() -> None:
    [rule] = normal_rules(
        [{**_rule(53, (LABEL, IPL)), "services": [{"proto": 17.0, "port": 53.0}]}]
    )
    body = rule_body(rule)
    assert body["providers"] == [{"label": {"href": LABEL}}, {"ip_list": {"href": IPL}}]
    assert body["ingress_services"] == [{"proto": 17, "port": 53}]
    assert live_rule(RuleRecord.model_validate({"href": "/x", **body})) == rule


def test_ranges_round_trip_and_bad_ones_are_named() -> None:
    for text in ("10.0.0.0/8", "10.0.0.1-10.0.0.9", "!10.1.0.0/16", "fd00::/8"):
        assert live_range(ip_range_body(text)) == text and range_problem(text, "r") is None
    assert "not an ascending range" in range_problem("10.0.0.9-10.0.0.1", "r")
    assert "not an IP" in range_problem("10.0.0.0/33", "r")


def test_the_plan_keeps_identical_rules_and_rewrites_before_adding() -> None:
    live = [("/r/1", normal_rules([_rule(1)])[0]), ("/r/2", normal_rules([_rule(2)])[0])]
    desired = normal_rules([_rule(2), _rule(3), _rule(4)])
    kept, rewrite, add, remove = plan_rules(live, desired)
    assert kept == {0: "/r/2"} and rewrite == [("/r/1", 1)] and add == [2] and remove == []
    kept, rewrite, add, remove = plan_rules(live, [])
    assert (kept, rewrite, add, remove) == ({}, [], [], ["/r/1", "/r/2"])


def test_a_change_subset_is_exact_hrefs_by_type() -> None:
    rs = "/orgs/1/sec_policy/draft/rule_sets/2"
    assert change_subset([IPL, rs, IPL]) == {
        "ip_lists": [{"href": IPL}],
        "rule_sets": [{"href": rs}],
    }
