"""Snapshots of the draft rule sets and IP lists (`providers.illumio.snapshots`).

Through the real provider host, on the emulator: a first up reads each collection once and
then only POSTs; a refresh reads each collection once however many objects it holds (the
async job above 500), on parallel Reads; a deleted object reads as gone; a failed
collection read falls back to one GET per object; and what changed in the PCE after the
snapshot was read (another user's object of the name, a lost POST answer, rules added to
an object about to be adopted, a deletion) is still caught: no duplicate is ever made.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest

from providers.illumio import snapshots
from providers.illumio.ip_list import IpListProvider
from providers.illumio.rule_set import RuleSetProvider
from tests.pce_emulator.request_log import request_counts
from tests.providers.illumio.dynamic_host import DynamicHost, ResourceState

RULE_SET = RuleSetProvider()
IP_LIST = IpListProvider()
DNS = {"providers": ["ams"], "consumers": ["ams"], "services": [{"proto": "udp", "port": 53}]}
WEB = {"providers": ["ams"], "consumers": ["ams"], "services": [{"proto": "tcp", "port": 443}]}
PCE_DNS = {
    "providers": [{"actors": "ams"}],
    "consumers": [{"actors": "ams"}],
    "ingress_services": [{"proto": 17, "port": 53}],
    "resolve_labels_as": {"providers": ["workloads"], "consumers": ["workloads"]},
}


@pytest.fixture
def app(emu) -> str:
    return emu.add_label("app", "snap")


def rule_set_inputs(app: str, name: str) -> dict[str, Any]:
    return {"name": name, "owner": "tenantguard/test", "scopes": [[app]], "rules": [WEB, DNS]}


def ip_list_inputs(name: str) -> dict[str, Any]:
    return {"name": name, "owner": "tenantguard/test", "ip_ranges": ["10.0.0.0/8"]}


def make(host: DynamicHost, app: str, count: int) -> tuple[list[ResourceState], ...]:
    """`count` rule sets and IP lists made through the host, as a first up makes them."""
    sets = [host.create(RULE_SET, rule_set_inputs(app, f"rs-{i}")) for i in range(count)]
    lists = [host.create(IP_LIST, ip_list_inputs(f"ipl-{i}")) for i in range(count)]
    return sets, lists


def read_all(host: DynamicHost, states: list[ResourceState]) -> list[Any]:
    """Read every state on 4 threads at once, as the engine's parallel refresh does."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(host.read, states))


def named(emu, kind: str, name: str) -> list[dict[str, Any]]:
    with emu.lock:
        return [o for o in emu.policy.draft[kind].values() if o["name"] == name]


def test_first_up_reads_each_collection_once_then_only_posts(emu, host, app) -> None:
    emu.reset_counts()
    make(host, app, 8)
    assert request_counts(emu) == {
        "rule_set GET": 1,
        "rule_set POST": 8,
        "rule POST": 16,  # each rule is an object, written once
        "ip_list GET": 1,
        "ip_list POST": 8,
    }


def test_parallel_refresh_is_one_read_per_collection(emu, host, app) -> None:
    sets, lists = make(host, app, 12)
    host.next_operation()
    emu.reset_counts()
    refreshed = read_all(host, sets + lists)
    assert request_counts(emu) == {"rule_set GET": 1, "ip_list GET": 1}
    assert [r.plain_outputs for r in refreshed] == [s.plain_outputs for s in sets + lists]


def test_above_500_the_collections_come_through_async_jobs(emu, host, app) -> None:
    with emu.lock:
        for i in range(510):
            emu.policy.create_object("rule_sets", {"name": f"bulk-{i}", "scopes": []})
            emu.policy.create_object("ip_lists", {"name": f"bulk-{i}", "ip_ranges": []})
    sets, lists = make(host, app, 2)
    host.next_operation()
    emu.reset_counts()
    refreshed = read_all(host, sets + lists)
    assert [r.plain_outputs for r in refreshed] == [s.plain_outputs for s in sets + lists]
    jobs = [r for r in emu.requests if "/jobs/" in r.path]
    assert len(jobs) >= 2, "both collections were read through an async job"
    # Per collection: the GET that reveals X-Total-Count, the job, its polls, the datafile.
    assert len(emu.requests) == 2 * 3 + len(jobs)


def test_deleted_out_of_band_reads_as_gone(emu, host, pce, app) -> None:
    sets, lists = make(host, app, 2)
    pce.provision([sets[1].id], "active")
    pce.delete_rule_set(sets[1].id)  # provisioned: its deletion is pending
    pce.delete_ip_list(lists[0].id)
    host.next_operation()
    emu.reset_counts()
    refreshed = read_all(host, sets + lists)
    assert [r is None for r in refreshed] == [False, True, True, False]
    assert request_counts(emu) == {"rule_set GET": 1, "ip_list GET": 1}


def test_a_failed_collection_read_falls_back_to_one_get_each(emu, host, app) -> None:
    sets, lists = make(host, app, 3)
    host.next_operation()
    emu.reset_counts()
    refreshed = []
    for group in (sets, lists):
        emu.inject_failures(1, 500, "GET")  # a 500 is final: the collection read fails
        refreshed += [host.read(state) for state in group]
    assert [r.plain_outputs for r in refreshed] == [s.plain_outputs for s in sets + lists]
    answered = [r for r in emu.requests if r.status == 200]
    assert len(answered) == 6
    assert all(r.path.rsplit("/", 2)[-2] in ("rule_sets", "ip_lists") for r in answered)


def test_our_own_writes_are_applied_to_the_snapshot(emu, host, app) -> None:
    [state], [listed] = make(host, app, 1)
    emu.reset_counts()
    grown = {**rule_set_inputs(app, "rs-0"), "rules": [WEB]}
    updated = host.update(RULE_SET, state, grown)  # live GET, then one rule DELETE
    assert host.read(updated).plain_outputs == updated.plain_outputs, "read again: changed"
    host.delete(updated)
    assert host.read(updated) is None
    assert host.read(listed) is not None
    assert request_counts(emu) == {
        "rule_set GET": 2,  # update's live read, the Read of what it changed
        "rule DELETE": 1,
        "rule_set DELETE": 1,
        "pending GET": 1,
    }


# -- first up: what changed since the snapshot is still caught by the PCE -------------------


@pytest.mark.parametrize("kind", ["rule_sets", "ip_lists"])
def test_one_another_user_made_after_the_snapshot_is_adopted_not_duplicated(
    emu, host, pce, app, kind
) -> None:
    make(host, app, 1)  # both collections are read now
    if kind == "rule_sets":
        theirs = pce.create_rule_set({"name": "late", "scopes": []}).href
        state = host.create(RULE_SET, rule_set_inputs(app, "late"))
    else:
        theirs = pce.create_ip_list({"name": "late", "ip_ranges": [{"from_ip": "1.1.1.1"}]}).href
        state = host.create(IP_LIST, ip_list_inputs("late"))
    assert state.id == theirs, "the 406 led to a fresh lookup and an adoption"
    assert [o["href"] for o in named(emu, kind, "late")] == [theirs]


@pytest.mark.parametrize("kind", ["rule_sets", "ip_lists"])
def test_a_lost_post_answer_is_found_by_a_fresh_lookup(emu, host, app, kind) -> None:
    make(host, app, 1)
    emu.drop_response_after_apply("POST", f"/{kind}$", count=1)
    emu.reset_counts()
    if kind == "rule_sets":
        state = host.create(RULE_SET, rule_set_inputs(app, "lost"))
    else:
        state = host.create(IP_LIST, ip_list_inputs("lost"))
    assert [o["href"] for o in named(emu, kind, "lost")] == [state.id]
    counts = request_counts(emu)
    assert counts[f"{kind[:-1]} POST"] == 1 and counts[f"{kind[:-1]} GET"] == 1, counts


def test_rules_added_after_the_snapshot_are_seen_before_adopting(emu, host, pce, app) -> None:
    theirs = pce.create_rule_set({"name": "shared", "scopes": []}).href
    make(host, app, 1)  # the snapshot holds "shared" without rules
    pce.create_rule(theirs, PCE_DNS)  # someone adds the DNS rule meanwhile
    emu.reset_counts()
    state = host.create(RULE_SET, rule_set_inputs(app, "shared"))
    assert state.id == theirs and state.plain_outputs["adopted"] is True
    [draft] = named(emu, "rule_sets", "shared")
    assert len(draft["rules"]) == 2, "the DNS rule was kept, not added twice"
    assert request_counts(emu) == {"rule_set GET": 1, "rule_set PUT": 1, "rule POST": 1}


@pytest.mark.parametrize("kind", ["rule_sets", "ip_lists"])
def test_one_deleted_after_the_snapshot_is_created_again(emu, host, pce, app, kind) -> None:
    if kind == "rule_sets":
        theirs = pce.create_rule_set({"name": "gone", "scopes": []}).href
        make(host, app, 1)
        pce.delete_rule_set(theirs)
        state = host.create(RULE_SET, rule_set_inputs(app, "gone"))
    else:
        theirs = pce.create_ip_list({"name": "gone", "ip_ranges": [{"from_ip": "1.1.1.1"}]}).href
        make(host, app, 1)
        pce.delete_ip_list(theirs)
        state = host.create(IP_LIST, ip_list_inputs("gone"))
    assert state.id != theirs and state.plain_outputs["adopted"] is False
    assert [o["href"] for o in named(emu, kind, "gone")] == [state.id]


def test_a_rule_set_collection_without_rules_is_not_trusted(pce, monkeypatch) -> None:
    listed = [{"href": "/orgs/1/sec_policy/draft/rule_sets/1", "name": "bare"}]
    monkeypatch.setattr(pce, "get_collection", lambda href, params=None: listed)
    with pytest.raises(ValueError, match="without their rules"):
        pce.list_rule_sets()
    snapshots.begin_operation("test")
    try:
        assert snapshots.rule_sets(pce) is None, "failed: each rule set is read on its own"
    finally:
        snapshots.end_operation()
