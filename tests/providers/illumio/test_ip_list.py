"""IpList (draft IP list) through the real dynamic-provider host, on the PCE emulator."""

from __future__ import annotations

import pytest

from providers.illumio.ip_list import IpListProvider
from tests.pce_emulator.request_log import request_counts
from tests.providers.illumio.dynamic_host import DynamicHost, changes

PROVIDER = IpListProvider()
INPUTS = {
    "name": "tg-egress",
    "owner": "tenantguard/test",
    "ip_ranges": ["10.0.0.0/8", "192.168.1.1-192.168.1.9", "!10.9.0.0/16"],
}


def _drafts(emu, name: str) -> list[dict]:
    with emu.lock:
        return [o for o in emu.policy.draft["ip_lists"].values() if o["name"] == name]


def test_lifecycle_counts_requests(emu, host: DynamicHost, pce) -> None:
    emu.reset_counts()
    assert host.check(PROVIDER, INPUTS).failures == [] and emu.count() == 0
    state = host.create(PROVIDER, INPUTS)
    assert request_counts(emu) == {"ip_list GET": 1, "ip_list POST": 1}
    [draft] = _drafts(emu, "tg-egress")
    assert {"from_ip": "192.168.1.1", "to_ip": "192.168.1.9", "exclusion": False} in draft[
        "ip_ranges"
    ]
    assert {"from_ip": "10.9.0.0/16", "exclusion": True} in draft["ip_ranges"]
    assert state.plain_outputs["adopted"] is False and state.plain_outputs["revision"]

    emu.reset_counts()
    shuffled = {**INPUTS, "ip_ranges": list(reversed(INPUTS["ip_ranges"]))}
    assert changes(host.check_and_diff(PROVIDER, state, shuffled)) == "none"
    assert emu.count() == 0
    narrower = {**INPUTS, "ip_ranges": ["10.0.0.0/16"]}
    assert changes(host.check_and_diff(PROVIDER, state, narrower)) == "some"
    updated = host.update(PROVIDER, state, narrower)
    assert request_counts(emu) == {"ip_list PUT": 1}
    assert updated.plain_outputs["revision"] != state.plain_outputs["revision"]

    emu.reset_counts()
    refreshed = host.read(updated)
    assert refreshed is not None and refreshed.plain_outputs == updated.plain_outputs
    assert emu.count() == 1

    pce.provision([state.id], "active")
    emu.reset_counts()
    host.delete(updated)
    assert request_counts(emu) == {
        "ip_list DELETE": 1,
        "pending GET": 1,
        "dependencies POST": 1,
        "policy_version POST": 1,
    }
    assert emu.policy.pending_hrefs() == {} and state.id not in emu.policy.active["ip_lists"]


def test_existing_ip_list_is_adopted_with_one_put(emu, host, pce) -> None:
    theirs = pce.create_ip_list({"name": "tg-egress", "ip_ranges": [{"from_ip": "1.1.1.1"}]})
    emu.reset_counts()
    state = host.create(PROVIDER, INPUTS)
    assert state.id == theirs.href and state.plain_outputs["adopted"] is True
    # The IP lists are read once (the snapshot), the one of the name again (live), then PUT.
    assert request_counts(emu) == {"ip_list GET": 2, "ip_list PUT": 1}
    emu.reset_counts()
    again = host.create(PROVIDER, INPUTS, name="again")  # identical already: no PUT
    assert again.id == theirs.href and request_counts(emu) == {"ip_list GET": 1}


def test_lost_post_and_server_errors_make_no_duplicates(emu, host) -> None:
    emu.drop_response_after_apply("POST", "/ip_lists", count=1)
    host.create(PROVIDER, INPUTS)
    assert len(_drafts(emu, "tg-egress")) == 1
    emu.inject_rate_limit(3, retry_after=0)
    emu.inject_failures(2, status=502, method="POST")
    host.create(PROVIDER, {**INPUTS, "name": "tg-burst"})
    assert len(_drafts(emu, "tg-burst")) == 1


def test_deleting_one_a_draft_rule_set_uses_fails_and_leaves_nothing_pending(emu, host, pce):
    state = host.create(PROVIDER, INPUTS)
    rule_set = pce.create_rule_set({"name": "user", "scopes": []})
    pce.create_rule(
        rule_set.href,
        {
            "providers": [{"ip_list": {"href": state.id}}],
            "consumers": [{"actors": "ams"}],
            "ingress_services": [{"proto": 6, "port": 443}],
            "resolve_labels_as": {"providers": ["workloads"], "consumers": ["workloads"]},
        },
    )
    with pytest.raises(Exception, match="in use"):
        host.delete(state)
    assert _drafts(emu, "tg-egress"), "the PCE refused the delete"
    assert len(emu.policy.versions) == 0


@pytest.mark.parametrize(
    ("patch", "prop"),
    [
        ({"name": ""}, "name"),
        ({"ip_ranges": ["10.0.0.300/8"]}, "ip_ranges"),
        ({"ip_ranges": ["10.0.0.9-10.0.0.1"]}, "ip_ranges"),
        ({"ip_ranges": []}, "ip_ranges"),
        ({"fqdns": [""]}, "fqdns"),
        ({"description": "d" * 4097}, "description"),
    ],
)
def test_check_names_the_bad_property(emu, host, patch, prop) -> None:
    outcome = host.check(PROVIDER, {**INPUTS, **patch})
    assert [p for p, _ in outcome.failures] == [prop], outcome.failures
    assert emu.count() == 0
