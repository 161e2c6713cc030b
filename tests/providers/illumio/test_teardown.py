"""PolicyTeardown through the real dynamic-provider host: a destroy's deletions as one
policy version, a retried destroy finishing an earlier one, other users' drafts untouched,
no request outside its delete, and names checked offline."""

from __future__ import annotations

import pytest

from providers.illumio.ip_list import IpListProvider
from providers.illumio.provisioning import PolicyProvisionProvider
from providers.illumio.rule_set import RuleSetProvider
from providers.illumio.teardown import PolicyTeardownProvider
from tests.pce_emulator.request_log import request_counts
from tests.providers.illumio.dynamic_host import DynamicHost, changes

TEARDOWN = PolicyTeardownProvider()
OWNER = "tenantguard/test"
NAMES = {"rule_sets": ["shop", "batch"], "ip_lists": ["egress"], "owner": OWNER}


def _active_stack(emu, host: DynamicHost) -> list[str]:
    """An IP list and two rule sets using it, provisioned: the hrefs."""
    app = emu.add_label("app", "shop")
    ip_list = host.create(
        IpListProvider(), {"name": "egress", "owner": OWNER, "ip_ranges": ["10.0.0.0/8"]}
    )
    rule = {"providers": [ip_list.id], "consumers": ["ams"], "services": [{"proto": "tcp"}]}
    sets = [
        host.create(
            RuleSetProvider(),
            {"name": name, "owner": OWNER, "scopes": [[app]], "rules": [rule]},
            name=name,
        )
        for name in ("shop", "batch")
    ]
    states = [ip_list, *sets]
    host.create(
        PolicyProvisionProvider(),
        {"owner": OWNER, "changes": {s.id: s.plain_outputs["revision"] for s in states}},
    )
    return [s.id for s in states]


def _teardown(host: DynamicHost):
    return host.create(TEARDOWN, dict(NAMES), name="teardown")


def test_only_its_delete_makes_requests(emu, host) -> None:
    emu.reset_counts()
    state = _teardown(host)
    fewer = {**NAMES, "rule_sets": ["shop"]}
    assert changes(host.diff(state, dict(NAMES))) == "none"
    assert changes(host.diff(state, fewer)) == "some"
    state = host.update(TEARDOWN, state, fewer)
    assert host.read(state) is not None
    assert emu.count() == 0, request_counts(emu)
    assert state.plain_outputs == {"rule_sets": ["shop"], "ip_lists": ["egress"], "owner": OWNER}


def test_delete_removes_every_named_object_as_one_version(emu, host, pce) -> None:
    hrefs = _active_stack(emu, host)
    foreign = pce.create_rule_set({"name": "someone-else", "scopes": []})
    state = _teardown(host)
    versions = len(emu.policy.versions)
    host.next_operation()  # a destroy is an operation of its own
    emu.reset_counts()
    host.delete(state)
    assert request_counts(emu) == {
        "rule_set GET": 1,  # one read per collection finds the drafts by name
        "ip_list GET": 1,
        "rule_set DELETE": 2,  # rule sets before the IP list they use
        "ip_list DELETE": 1,
        "pending GET": 1,
        "dependencies POST": 1,
        "policy_version POST": 1,
    }
    assert len(emu.policy.versions) == versions + 1
    assert set(emu.policy.versions[-1]["provisioned_hrefs"]) == set(hrefs)
    assert emu.policy.versions[-1]["commit_message"].startswith(
        "tenantguard tenantguard/test: pulumi destroy deletes "
    )
    assert emu.policy.active["rule_sets"] == {}
    assert set(emu.policy.active["ip_lists"]) == {emu.policy.any_ip_list}
    assert emu.policy.pending_hrefs() == {"rule_sets": {foreign.href: "create"}}


def test_a_failed_destroy_is_finished_by_the_next_one(emu, host) -> None:
    hrefs = _active_stack(emu, host)
    state = _teardown(host)
    host.next_operation()
    emu.inject_failures(50, status=500, method="POST")  # no provision can go through
    with pytest.raises(Exception, match="Delete"):
        host.delete(state)
    emu.faults._injected.clear()
    assert emu.policy.pending_hrefs() == {
        "rule_sets": {hrefs[1]: "delete", hrefs[2]: "delete"},
        "ip_lists": {hrefs[0]: "delete"},
    }, "the drafts went; their deletions wait"
    host.next_operation()
    emu.reset_counts()
    host.delete(state)  # the engine kept the teardown: the next destroy calls it again
    assert request_counts(emu) == {
        "rule_set GET": 1,
        "ip_list GET": 1,  # nothing left to delete: the drafts are gone ...
        "pending GET": 1,  # ... and their pending deletions are claimed by name
        "dependencies POST": 1,
        "policy_version POST": 1,
    }
    assert emu.policy.pending_hrefs() == {}
    assert emu.policy.active["rule_sets"] == {}


def test_a_lost_provision_answer_is_not_sent_again(emu, host) -> None:
    _active_stack(emu, host)
    state = _teardown(host)
    versions = len(emu.policy.versions)
    host.next_operation()
    emu.drop_response_after_apply("POST", "/sec_policy$", count=1)
    host.delete(state)
    assert len(emu.policy.versions) == versions + 1
    assert emu.policy.pending_hrefs() == {}


def test_others_pending_deletions_are_left_pending(emu, host, pce) -> None:
    _active_stack(emu, host)
    theirs = pce.create_rule_set({"name": "theirs", "scopes": []})
    pce.provision([theirs.href], "someone else's rule set")
    pce.delete_rule_set(theirs.href)  # their deletion, pending, not ours to provision
    state = _teardown(host)
    host.next_operation()
    host.delete(state)
    assert emu.policy.pending_hrefs() == {"rule_sets": {theirs.href: "delete"}}


def test_a_failed_collection_read_falls_back_to_one_lookup_per_name(emu, host) -> None:
    _active_stack(emu, host)
    state = _teardown(host)
    host.next_operation()
    emu.inject_failures(1, 500, "GET")  # a 500 is final: the rule sets' collection read fails
    emu.reset_counts()
    host.delete(state)
    counts = request_counts(emu)
    assert counts["rule_set GET"] == 1 + 2, "the failed read, then one lookup per name"
    assert counts["rule_set DELETE"] == 2 and counts["policy_version POST"] == 1
    assert emu.policy.pending_hrefs() == {} and emu.policy.active["rule_sets"] == {}


def test_check_refuses_names_the_pce_cannot_hold(emu, host) -> None:
    outcome = host.check(TEARDOWN, {"rule_sets": ["", "x" * 256], "ip_lists": "egress"})
    assert sorted(path for path, _ in outcome.failures) == ["ip_lists", "rule_sets", "rule_sets"]
    assert emu.count() == 0


def test_a_failed_delete_provisions_nothing_and_the_next_destroy_finishes(emu, host) -> None:
    _active_stack(emu, host)
    state = _teardown(host)
    versions = len(emu.policy.versions)
    host.next_operation()
    emu.inject_failures(1, 500, "DELETE")  # one of the rule sets' DELETEs is refused
    with pytest.raises(Exception, match="Delete"):
        host.delete(state)
    emu.faults._injected.clear()
    assert len(emu.policy.versions) == versions, "no version with a deletion missing"
    assert len(emu.policy.active["rule_sets"]) == 2, "the active policy is untouched"
    host.next_operation()
    host.delete(state)
    assert len(emu.policy.versions) == versions + 1
    assert emu.policy.pending_hrefs() == {} and emu.policy.active["rule_sets"] == {}
