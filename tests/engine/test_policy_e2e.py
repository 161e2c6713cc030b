"""Rule sets, IP lists and their provisioning end to end through the engine stand-in, on
the PCE emulator: a first up that makes one policy version, a no-op up with no request, a
refresh of one read per collection, a change, a destroy, and nothing of the stack pending
afterwards, while another user's draft stays pending and untouched throughout."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.engine.conftest import request_counts
from tests.engine.standin import DeploymentError, EngineStandIn
from tests.illumio_program import (
    POLICY_CHANGE_REQUESTS,
    POLICY_DESTROY_REQUESTS,
    POLICY_FIRST_UP_REQUESTS,
    POLICY_REFRESH_REQUESTS,
    declare_policy,
    policy_requests,
)
from tests.pce_emulator import PceEmulator


@pytest.fixture
def engine(emu: PceEmulator, make_engine: Callable[..., EngineStandIn]) -> EngineStandIn:
    emu.add_label("env", "prod")
    return make_engine()


def _foreign_draft(emu: PceEmulator) -> str:
    """Another user's draft rule set, pending in the same org."""
    with emu.lock:
        reply = emu.policy.create_object("rule_sets", {"name": "someone-elses", "scopes": []})
    return reply.body["href"]


def _stack_pending(emu: PceEmulator, foreign: str) -> dict:
    with emu.lock:
        pending = emu.policy.pending_hrefs()
    ours = {k: {h: t for h, t in v.items() if h != foreign} for k, v in pending.items()}
    return {k: v for k, v in ours.items() if v}


def test_up_no_op_change_destroy(emu, engine) -> None:
    foreign = _foreign_draft(emu)
    emu.reset_counts()
    engine.up(lambda: declare_policy())
    assert policy_requests(request_counts(emu)) == POLICY_FIRST_UP_REQUESTS
    assert len(emu.policy.versions) == 1, "one policy version for the whole up"
    assert _stack_pending(emu, foreign) == {}
    assert emu.policy.update_type("rule_sets", foreign) == "create", "theirs is left pending"
    active = {o["name"] for o in emu.policy.active["rule_sets"].values()}
    assert active == {"e2e-shop", "e2e-batch"}
    text = emu.policy.versions[0]["commit_message"]
    assert text.startswith("tenantguard tenantguard/e2e: pulumi up provisions ")

    emu.reset_counts()
    result = engine.up(lambda: declare_policy())
    assert emu.count() == 0, f"a no-op up made PCE requests: {request_counts(emu)}"
    assert result.changed() == []

    emu.reset_counts()
    engine.refresh()
    assert policy_requests(request_counts(emu)) == POLICY_REFRESH_REQUESTS
    emu.reset_counts()
    assert engine.up(lambda: declare_policy()).changed() == [], "refresh matched the state"
    assert emu.count() == 0

    emu.reset_counts()
    engine.up(lambda: declare_policy(port=8443, batch=False))
    assert policy_requests(request_counts(emu)) == POLICY_CHANGE_REQUESTS
    assert len(emu.policy.versions) == 3
    assert {o["name"] for o in emu.policy.active["rule_sets"].values()} == {"e2e-shop"}
    [shop] = emu.policy.active["rule_sets"].values()
    assert {"proto": 6, "port": 8443} in [s for r in shop["rules"] for s in r["ingress_services"]]
    assert _stack_pending(emu, foreign) == {}

    emu.reset_counts()
    engine.destroy()
    assert policy_requests(request_counts(emu)) == POLICY_DESTROY_REQUESTS
    assert _stack_pending(emu, foreign) == {}
    assert emu.policy.active["rule_sets"] == {}
    assert set(emu.policy.active["ip_lists"]) == {emu.policy.any_ip_list}
    assert set(emu.policy.draft["rule_sets"]) == {foreign}
    assert emu.policy.update_type("rule_sets", foreign) == "create"
    assert all(foreign not in v["provisioned_hrefs"] for v in emu.policy.versions)


def test_a_failed_provision_is_repaired_by_the_next_up_without_a_second_version(
    emu, engine
) -> None:
    emu.drop_response_after_apply("POST", "/sec_policy$", count=1)
    engine.up(lambda: declare_policy())  # the lost answer is found applied, not re-sent
    assert len(emu.policy.versions) == 1

    # Now the provision itself fails for good after the rule set's draft was written.
    emu.inject_failures(50, status=500, method="POST")
    with pytest.raises(DeploymentError):
        engine.up(lambda: declare_policy(port=8080))
    emu.faults._injected.clear()
    assert emu.policy.pending_hrefs().get("rule_sets"), "the draft write is pending"
    emu.reset_counts()
    engine.up(lambda: declare_policy(port=8080))
    assert emu.policy.pending_hrefs() == {} and len(emu.policy.versions) == 2
    emu.reset_counts()
    engine.up(lambda: declare_policy(port=8080))
    assert emu.count() == 0


def test_removing_the_whole_policy_in_an_up_is_one_version(emu, engine) -> None:
    engine.up(lambda: declare_policy())
    versions = len(emu.policy.versions)
    emu.reset_counts()
    engine.up(lambda: None)  # the program no longer declares any policy object
    counts = policy_requests(request_counts(emu))
    assert counts["policy_version POST"] == 1 and counts["rule_set DELETE"] == 2
    assert len(emu.policy.versions) == versions + 1, "the teardown took its objects along"
    assert emu.policy.active["rule_sets"] == {} and emu.policy.pending_hrefs() == {}
