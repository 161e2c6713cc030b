"""PolicyProvision and `provision_own` through the real dynamic-provider host: exact
subsets, dependencies, other users' drafts untouched, lost answers, request counts."""

from __future__ import annotations

import pytest

from providers.illumio.ip_list import IpListProvider
from providers.illumio.provisioning import PolicyProvisionProvider
from providers.illumio.rule_set import RuleSetProvider
from tests.pce_emulator.request_log import request_counts
from tests.providers.illumio.dynamic_host import DynamicHost, changes

PROVISION = PolicyProvisionProvider()
OWNER = "tenantguard/test"


def _objects(emu, host: DynamicHost, port: int = 443):
    app = emu.add_label("app", "shop")
    ip_list = host.create(
        IpListProvider(), {"name": "egress", "owner": OWNER, "ip_ranges": ["10.0.0.0/8"]}
    )
    rule_set = host.create(RuleSetProvider(), _rule_set(app, ip_list.id, port), name="rs")
    return app, ip_list, rule_set


def _rule_set(app: str, ip_list: str, port: int) -> dict:
    return {
        "name": "shop",
        "owner": OWNER,
        "scopes": [[app]],
        "rules": [
            {
                "providers": [ip_list],
                "consumers": ["ams"],
                "services": [{"proto": "tcp", "port": port}],
            }
        ],
    }


def _inputs(*states) -> dict:
    return {
        "owner": OWNER,
        "changes": {s.id: s.plain_outputs["revision"] for s in states},
        "description": "",
    }


def test_one_version_for_the_stacks_changes_and_none_for_others(emu, host, pce) -> None:
    _, ip_list, rule_set = _objects(emu, host)
    foreign = pce.create_rule_set({"name": "someone-else", "scopes": []})
    emu.reset_counts()
    state = host.create(PROVISION, _inputs(ip_list, rule_set))
    assert request_counts(emu) == {
        "pending GET": 1,
        "dependencies POST": 1,
        "policy_version POST": 1,
    }
    assert emu.policy.pending_hrefs() == {"rule_sets": {foreign.href: "create"}}
    [version] = emu.policy.versions
    assert version["provisioned_hrefs"] == sorted([ip_list.id, rule_set.id])
    text = version["commit_message"]
    assert text.startswith(f"tenantguard {OWNER}: pulumi up provisions ") and "[update " in text
    assert "rule set shop" in text and "ip list egress" in text
    [provision] = [r for r in emu.requests if r.method == "POST" and r.path.endswith("/sec_policy")]
    assert set(provision.body["change_subset"]) == {"rule_sets", "ip_lists"}
    assert all(set(e) == {"href"} for v in provision.body["change_subset"].values() for e in v)
    assert state.plain_outputs["provisioned"] == sorted([ip_list.id, rule_set.id])

    emu.reset_counts()
    assert changes(host.check_and_diff(PROVISION, state, _inputs(ip_list, rule_set))) == "none"
    assert emu.count() == 0


def test_update_provisions_only_what_moved(emu, host) -> None:
    app, ip_list, rule_set = _objects(emu, host)
    state = host.create(PROVISION, _inputs(ip_list, rule_set))
    changed = host.update(RuleSetProvider(), rule_set, _rule_set(app, ip_list.id, 8443))
    news = _inputs(ip_list, changed)
    assert changes(host.check_and_diff(PROVISION, state, news)) == "some"
    emu.reset_counts()
    updated = host.update(PROVISION, state, news)
    assert updated.plain_outputs["provisioned"] == [rule_set.id]
    assert emu.policy.versions[-1]["provisioned_hrefs"] == [rule_set.id]
    assert request_counts(emu)["policy_version POST"] == 1
    assert emu.policy.pending_hrefs() == {}


def test_a_dependency_that_is_not_the_stacks_is_refused_not_provisioned(emu, host, pce) -> None:
    app = emu.add_label("app", "shop")
    theirs = pce.create_ip_list({"name": "their-draft", "ip_ranges": [{"from_ip": "1.1.1.1"}]})
    rule_set = host.create(RuleSetProvider(), _rule_set(app, theirs.href, 443))
    with pytest.raises(Exception, match="never provisions another user's draft"):
        host.create(PROVISION, _inputs(rule_set))
    assert emu.policy.versions == []
    assert emu.policy.pending_hrefs()["ip_lists"] == {theirs.href: "create"}


def test_a_lost_provision_answer_is_not_sent_again(emu, host) -> None:
    _, ip_list, rule_set = _objects(emu, host)
    # The first drop hits the dependencies question (asked again), the second the provision.
    emu.drop_response_after_apply("POST", "/dependencies", count=1)
    emu.drop_response_after_apply("POST", "/sec_policy$", count=1)
    emu.reset_counts()
    state = host.create(PROVISION, _inputs(ip_list, rule_set))
    assert len(emu.policy.versions) == 1, "no second version for the same change"
    assert request_counts(emu) == {
        "pending GET": 2,  # read again after the lost answer: nothing left pending
        "dependencies POST": 2,
        "policy_version POST": 1,
    }
    assert emu.policy.pending_hrefs() == {} and state.plain_outputs.get("version") is None


def test_a_provision_that_failed_is_repaired_by_the_next_run(emu, host) -> None:
    _, ip_list, rule_set = _objects(emu, host)
    emu.inject_failures(20, status=500, method="POST")
    with pytest.raises(Exception, match="Create"):
        host.create(PROVISION, _inputs(ip_list, rule_set))
    emu.faults._injected.clear()
    assert emu.policy.versions == [] and emu.policy.pending_hrefs()
    host.create(PROVISION, _inputs(ip_list, rule_set))  # the next up: created again
    assert len(emu.policy.versions) == 1 and emu.policy.pending_hrefs() == {}
    emu.reset_counts()
    host.create(PROVISION, _inputs(ip_list, rule_set), name="again")
    assert request_counts(emu) == {"pending GET": 1}, "nothing pending: no version, no POST"


def test_429_and_5xx_on_provision_converge_to_one_version(emu, host) -> None:
    _, ip_list, rule_set = _objects(emu, host)
    emu.inject_rate_limit(3, retry_after=0)
    host.create(PROVISION, _inputs(ip_list, rule_set))
    assert len(emu.policy.versions) == 1


def test_refresh_marks_changes_still_pending_and_delete_is_free(emu, host, pce) -> None:
    _, ip_list, rule_set = _objects(emu, host)
    state = host.create(PROVISION, _inputs(ip_list, rule_set))
    pce.update_ip_list(ip_list.id, {"description": "edited in the PCE"})
    refreshed = host.read(state)
    assert refreshed is not None
    assert refreshed.plain_outputs["changes"][ip_list.id].startswith("pending:")
    emu.reset_counts()
    host.delete(refreshed)
    assert emu.count() == 0


def test_check_refuses_hrefs_that_are_not_draft_rule_sets_or_ip_lists(emu, host) -> None:
    outcome = host.check(PROVISION, {"owner": OWNER, "changes": {"/orgs/1/labels/1": "x"}})
    assert [p for p, _ in outcome.failures] == ["changes"]
    assert emu.count() == 0
