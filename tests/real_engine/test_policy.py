"""Rule sets, IP lists and PolicyProvision under the real Pulumi CLI, on the PCE emulator:
up (one policy version), a no-op up with no PCE request, a refresh of one read per
collection, a change, destroy, and nothing of the stack left pending, while another
user's draft stays pending and untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.illumio_program import (
    POLICY_CHANGE_REQUESTS,
    POLICY_DESTROY_REQUESTS,
    POLICY_FIRST_UP_REQUESTS,
    POLICY_REFRESH_REQUESTS,
    policy_requests,
)
from tests.pce_emulator import PceEmulator

PROGRAM = Path(__file__).resolve().parent / "policy_program"


def _pending_of_stack(emu: PceEmulator, foreign: str) -> dict[str, dict[str, str]]:
    with emu.lock:
        pending = emu.policy.pending_hrefs()
    ours = {k: {h: t for h, t in v.items() if h != foreign} for k, v in pending.items()}
    return {k: v for k, v in ours.items() if v}


def test_up_no_op_change_destroy_under_the_real_engine(emu, make_stack) -> None:
    with emu.lock:
        foreign = emu.policy.create_object("rule_sets", {"name": "theirs", "scopes": []})
    foreign_href = foreign.body["href"]
    real = make_stack(emu, name="policy", program=PROGRAM)

    preview = real.preview()
    assert preview.requests == {}, "preview is offline"

    first = real.up()
    assert policy_requests(first.requests) == POLICY_FIRST_UP_REQUESTS
    assert len(emu.policy.versions) == 1, "one policy version per up"
    assert _pending_of_stack(emu, foreign_href) == {}
    assert emu.policy.versions[0]["commit_message"].startswith(
        "tenantguard tenantguard-e2e/policy: pulumi up provisions "
    )
    assert first.outputs["policy_version"].value == emu.policy.versions[0]["href"]

    again = real.up()
    assert again.requests == {}, f"a no-op up made PCE requests: {again.requests}"
    assert set(again.summary) == {"same"}

    refreshed = real.refresh()
    assert policy_requests(refreshed.requests) == POLICY_REFRESH_REQUESTS
    assert real.up().requests == {}, "what refresh read matches what up wants"

    real.configure(port="8443", batch="false")
    change = real.up()
    assert policy_requests(change.requests) == POLICY_CHANGE_REQUESTS
    # The shop rule set, the PolicyProvision and the PolicyTeardown (one name fewer).
    assert change.summary.get("update") == 3 and change.summary.get("delete") == 1
    assert _pending_of_stack(emu, foreign_href) == {}
    assert {o["name"] for o in emu.policy.active["rule_sets"].values()} == {"e2e-shop"}

    gone = real.destroy()
    assert policy_requests(gone.requests) == POLICY_DESTROY_REQUESTS
    assert _pending_of_stack(emu, foreign_href) == {}
    assert emu.policy.active["rule_sets"] == {}
    assert set(emu.policy.draft["rule_sets"]) == {foreign_href}
    assert emu.policy.update_type("rule_sets", foreign_href) == "create", "never provisioned"
    assert all(foreign_href not in v["provisioned_hrefs"] for v in emu.policy.versions)
    assert len(emu.policy.versions) == 4, "the destroy is one version"


def test_a_destroy_whose_provision_failed_is_finished_by_the_next_destroy(emu, make_stack) -> None:
    from pulumi.automation import CommandError

    real = make_stack(emu, name="policy-retry", program=PROGRAM)
    real.up()
    versions = len(emu.policy.versions)
    emu.inject_failures(50, status=500, method="POST")  # the destroy cannot provision
    with pytest.raises(CommandError):
        real.destroy()
    emu.faults._injected.clear()
    with emu.lock:
        pending = emu.policy.pending_hrefs()
    assert set(pending) == {"rule_sets", "ip_lists"}, "the drafts went, their deletions wait"
    assert all(kind == "delete" for kinds in pending.values() for kind in kinds.values())
    assert emu.policy.active["rule_sets"], "still enforced: nothing was cut off half-way"
    left = {r["type"].rsplit(":", 1)[-1] for r in real.export().get("resources", [])}
    assert "PolicyTeardown" in left, "the engine kept the teardown for the next destroy"

    again = real.destroy()
    assert again.requests.get("policy_version POST") == 1
    assert "rule_set DELETE" not in again.requests and "ip_list DELETE" not in again.requests
    assert emu.policy.pending_hrefs() == {} and emu.policy.active["rule_sets"] == {}
    assert len(emu.policy.versions) == versions + 1, "the whole destroy is one version"


def test_projects_dropped_in_one_up_share_one_policy_version(emu, make_stack) -> None:
    real = make_stack(emu, name="policy-drop", program=PROGRAM)
    real.configure(extra="3")
    real.up()
    versions = len(emu.policy.versions)
    with emu.lock:
        extras = {h for h, o in emu.policy.active["rule_sets"].items() if "extra" in o["name"]}
    assert len(extras) == 3

    real.configure(extra="0")
    emu.set_latency(0.5)  # the engine's parallel deletes overlap at the PCE, as at scale
    try:
        dropped = real.up()
    finally:
        emu.set_latency(0)

    assert dropped.summary.get("delete") == 3
    assert policy_requests(dropped.requests) == {
        "rule_set DELETE": 3,
        "pending GET": 1,
        "dependencies POST": 1,
        "policy_version POST": 1,
    }, "one provision for the three deletions"
    assert len(emu.policy.versions) == versions + 1
    assert set(emu.policy.versions[-1]["provisioned_hrefs"]) == extras
    assert emu.policy.pending_hrefs() == {}
    assert {o["name"] for o in emu.policy.active["rule_sets"].values()} == {"e2e-shop", "e2e-batch"}
