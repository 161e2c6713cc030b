"""Deletions running at the same time share one policy version (`deletion_batches`), on the
PCE emulator: through the real dynamic-provider host's worker threads, and in-process for
the failure paths."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from providers.illumio.deletion_batches import DeletionBatches
from providers.illumio.errors import PceAuthError
from providers.illumio.ip_list import IpListProvider
from providers.illumio.provider_base import provider_client, set_provider_config
from providers.illumio.provisioning import ForeignDraftError
from providers.illumio.rule_set import RuleSetProvider
from tests.pce_emulator.request_log import request_counts
from tests.providers.illumio.dynamic_host import stack_config

OWNER = "tenantguard/test"
LATENCY = 0.3
"""Every emulator request waits this long, so deletions started together overlap."""


def _at_once(calls: list[Callable[[], Any]]) -> list[BaseException | None]:
    """Run `calls` from as many threads, released together; each one's error or None."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> BaseException | None:
        start.wait()
        try:
            call()
        except BaseException as error:  # the test inspects each outcome
            return error
        return None

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def client(emu):
    """The provider process's own client, configured for `emu` as Configure would."""
    set_provider_config(stack_config(emu.url, emu.org_id, emu.api_key, emu.api_secret))
    return provider_client()


def _rule_set(emu, host, name: str):
    app = emu.add_label("app", name)
    inputs = {
        "name": name,
        "owner": OWNER,
        "scopes": [[app]],
        "rules": [
            {"providers": ["ams"], "consumers": ["ams"], "services": [{"proto": "udp", "port": 53}]}
        ],
    }
    return host.create(RuleSetProvider(), inputs)


def _active(emu, kind: str) -> set[str]:
    with emu.lock:
        return set(emu.policy.active[kind])


def test_deletions_under_the_hosts_worker_threads_make_one_version(emu, host, pce) -> None:
    rule_sets = [_rule_set(emu, host, f"tg-{i}") for i in range(3)]
    ip_list = host.create(
        IpListProvider(), {"name": "tg-egress", "owner": OWNER, "ip_ranges": ["10.0.0.0/8"]}
    )
    hrefs = sorted([*(s.id for s in rule_sets), ip_list.id])
    pce.provision(hrefs, "before")
    emu.set_latency(LATENCY)
    emu.reset_counts()

    outcomes = _at_once([lambda s=s: host.delete(s) for s in [*rule_sets, ip_list]])

    assert outcomes == [None] * 4
    assert request_counts(emu) == {
        "rule_set DELETE": 3,
        "ip_list DELETE": 1,
        "pending GET": 1,
        "dependencies POST": 1,
        "policy_version POST": 1,
    }, "one provision for the four deletions, not four"
    assert len(emu.policy.versions) == 2
    version = emu.policy.versions[-1]
    assert sorted(version["provisioned_hrefs"]) == hrefs
    assert version["commit_message"].startswith(f"tenantguard {OWNER}: pulumi deletes ")
    assert all(name in version["commit_message"] for name in ("tg-0", "tg-1", "tg-2", "tg-egress"))
    assert emu.policy.pending_hrefs() == {}
    assert _active(emu, "rule_sets") == set() and ip_list.id not in _active(emu, "ip_lists")


def test_one_deletion_alone_waits_only_the_settle_time(emu, pce, client) -> None:
    href = pce.create_rule_set({"name": "tg-alone", "scopes": []}).href
    pce.provision([href], "before")
    batches = DeletionBatches(gather_seconds=30.0)
    emu.reset_counts()
    started = time.monotonic()
    batches.delete(client, "rule_sets", href, OWNER)
    assert time.monotonic() - started < 3, "nothing in flight: no wait for the 30 s gather"
    assert request_counts(emu) == {
        "rule_set DELETE": 1,
        "pending GET": 1,
        "dependencies POST": 1,
        "policy_version POST": 1,
    }
    assert emu.policy.versions[-1]["provisioned_hrefs"] == [href]


def _their_change_needs_our_ip_list(emu, pce) -> str:
    """An IP list of ours that another user's active rule set used; their draft has dropped
    the rule, so deleting the IP list is allowed but provisioning that needs their change."""
    ours = pce.create_ip_list({"name": "tg-shared", "ip_ranges": [{"from_ip": "10.0.0.0/8"}]})
    theirs = pce.create_rule_set({"name": "theirs", "scopes": []})
    rule = pce.create_rule(
        theirs.href,
        {
            "providers": [{"ip_list": {"href": ours.href}}],
            "consumers": [{"actors": "ams"}],
            "ingress_services": [{"proto": 6, "port": 443}],
            "resolve_labels_as": {"providers": ["workloads"], "consumers": ["workloads"]},
        },
    )
    pce.provision([ours.href, theirs.href], "theirs and ours")
    pce.delete_rule(rule.href)  # their draft change, still pending
    return ours.href


def test_a_refused_joint_provision_fails_only_the_deletion_at_fault(emu, pce, client) -> None:
    shared = _their_change_needs_our_ip_list(emu, pce)
    fine = pce.create_rule_set({"name": "tg-fine", "scopes": []}).href
    pce.provision([fine], "ours")
    versions = len(emu.policy.versions)
    emu.set_latency(LATENCY)
    batches = DeletionBatches()
    emu.reset_counts()

    outcomes = dict(
        zip(
            ("ip_list", "rule_set"),
            _at_once(
                [
                    lambda: batches.delete(client, "ip_lists", shared, OWNER),
                    lambda: batches.delete(client, "rule_sets", fine, OWNER),
                ]
            ),
            strict=True,
        )
    )

    assert isinstance(outcomes["ip_list"], ForeignDraftError)
    assert "never provisions another user's draft" in str(outcomes["ip_list"])
    assert outcomes["rule_set"] is None, "the deletion with nothing foreign still went through"
    assert request_counts(emu) == {
        "ip_list DELETE": 1,
        "rule_set DELETE": 1,
        "pending GET": 3,  # the joint attempt, then each alone
        "dependencies POST": 3,
        "policy_version POST": 1,
    }, "the two were tried together first, then one at a time"
    assert [v["provisioned_hrefs"] for v in emu.policy.versions[versions:]] == [[fine]]
    pending = emu.policy.pending_hrefs()
    assert pending["ip_lists"] == {shared: "delete"}, "left pending for the user to sort out"
    assert fine not in pending.get("rule_sets", {})


def test_a_failed_joint_provision_fails_every_member_and_the_retry_finishes(
    emu, pce, client
) -> None:
    hrefs = [pce.create_rule_set({"name": f"tg-{i}", "scopes": []}).href for i in range(3)]
    pce.provision(hrefs, "before")
    emu.set_latency(LATENCY)
    batches = DeletionBatches()
    emu.inject_failures(1, status=401, method="POST")  # the dependencies question is refused

    outcomes = _at_once([lambda h=h: batches.delete(client, "rule_sets", h, OWNER) for h in hrefs])

    assert all(isinstance(o, PceAuthError) for o in outcomes), outcomes
    assert len({id(o) for o in outcomes}) == 3, "each member raises its own copy"
    assert len(emu.policy.versions) == 1, "nothing provisioned"
    assert set(emu.policy.pending_hrefs()["rule_sets"]) == set(hrefs), "nothing lost"

    # The next run deletes them again, at the same time: the drafts are gone already.
    again = _at_once([lambda h=h: batches.delete(client, "rule_sets", h, OWNER) for h in hrefs])
    assert again == [None] * 3
    assert emu.policy.pending_hrefs() == {}
    assert len(emu.policy.versions) == 2
    assert sorted(emu.policy.versions[-1]["provisioned_hrefs"]) == sorted(hrefs)


def test_a_lost_joint_provision_answer_makes_no_second_version(emu, pce, client) -> None:
    hrefs = [pce.create_rule_set({"name": f"tg-{i}", "scopes": []}).href for i in range(3)]
    pce.provision(hrefs, "before")
    emu.set_latency(LATENCY)
    batches = DeletionBatches()
    emu.drop_response_after_apply("POST", "/sec_policy$", count=1)
    emu.reset_counts()

    outcomes = _at_once([lambda h=h: batches.delete(client, "rule_sets", h, OWNER) for h in hrefs])

    assert outcomes == [None] * 3, "the provision went through; only its answer was lost"
    assert request_counts(emu) == {
        "rule_set DELETE": 3,
        "pending GET": 2,  # read again after the lost answer: nothing left pending
        "dependencies POST": 1,
        "policy_version POST": 1,
    }
    assert len(emu.policy.versions) == 2, "never a second version for the same deletions"
    assert sorted(emu.policy.versions[-1]["provisioned_hrefs"]) == sorted(hrefs)
    assert emu.policy.pending_hrefs() == {}


def test_a_failed_delete_leaves_the_batch_to_the_others(emu, pce, client) -> None:
    hrefs = [pce.create_rule_set({"name": f"tg-{i}", "scopes": []}).href for i in range(2)]
    pce.provision(hrefs, "before")
    emu.set_latency(LATENCY)
    batches = DeletionBatches(gather_seconds=30.0)
    emu.inject_failures(1, status=401, method="DELETE")

    started = time.monotonic()
    outcomes = _at_once([lambda h=h: batches.delete(client, "rule_sets", h, OWNER) for h in hrefs])

    assert time.monotonic() - started < 10, "the leader stopped waiting once the DELETE failed"
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "PceAuthError"]
    [deleted] = [h for h, o in zip(hrefs, outcomes, strict=True) if o is None]
    assert emu.policy.versions[-1]["provisioned_hrefs"] == [deleted]
    assert set(emu.policy.pending_hrefs().get("rule_sets", {})) == set()


def test_an_interrupt_while_gathering_releases_every_member(emu, pce, client) -> None:
    """Ctrl-C reaches the leader while it waits for more deletions: the member that joined
    stops too instead of waiting forever, nothing is provisioned or lost, and the next
    deletions make a fresh batch on a lane that is not left marked busy."""
    hrefs = [pce.create_rule_set({"name": f"tg-{i}", "scopes": []}).href for i in range(2)]
    pce.provision(hrefs, "before")
    versions = len(emu.policy.versions)
    callers: list[int] = []
    joined = threading.Event()
    raised: list[int] = []

    def clock() -> float:
        """Real time; the leader's first look after the second deletion joins is interrupted."""
        me = threading.get_ident()
        if me not in callers:
            callers.append(me)
        if callers.index(me) == 1:
            joined.set()  # the second deletion's only call: its join
        elif joined.is_set() and not raised:
            raised.append(me)
            raise KeyboardInterrupt
        return time.monotonic()

    batches = DeletionBatches(gather_seconds=30.0, settle_seconds=5.0, clock=clock)
    outcomes: dict[str, BaseException | None] = {}

    def delete(label: str, href: str) -> None:
        try:
            batches.delete(client, "rule_sets", href, OWNER)
            outcomes[label] = None
        except BaseException as error:  # the test inspects each outcome
            outcomes[label] = error

    leader = threading.Thread(target=delete, args=("leader", hrefs[0]))
    member = threading.Thread(target=delete, args=("member", hrefs[1]))
    started = time.monotonic()
    leader.start()
    time.sleep(0.5)  # the leader's DELETE is done and it is gathering (5 s settle)
    member.start()
    leader.join(10)
    member.join(10)

    assert not leader.is_alive() and not member.is_alive(), "a member was left waiting"
    assert time.monotonic() - started < 5, "nobody waited out the settle time"
    assert raised == [callers[0]], "the interrupt reached the leader"
    assert isinstance(outcomes["leader"], KeyboardInterrupt)
    assert isinstance(outcomes["member"], KeyboardInterrupt)
    assert outcomes["member"] is not outcomes["leader"], "the member raises its own copy"
    assert len(emu.policy.versions) == versions, "nothing provisioned"
    assert set(emu.policy.pending_hrefs()["rule_sets"]) == set(hrefs), "nothing lost"

    # The next run deletes them again: one new batch, one version, no stale busy mark.
    again = _at_once([lambda h=h: batches.delete(client, "rule_sets", h, OWNER) for h in hrefs])
    assert again == [None, None]
    assert emu.policy.pending_hrefs() == {}
    assert len(emu.policy.versions) == versions + 1
    assert sorted(emu.policy.versions[-1]["provisioned_hrefs"]) == sorted(hrefs)


@pytest.fixture(autouse=True)
def _no_latency_after(emu):
    yield
    emu.set_latency(0)
