"""RuleSet (draft rule set + rules) through the real dynamic-provider host, on the emulator."""

from __future__ import annotations

import pytest

from providers.illumio.rule_set import RuleSetProvider
from tests.pce_emulator.request_log import request_counts
from tests.providers.illumio.dynamic_host import UNKNOWN, DynamicHost, changes

PROVIDER = RuleSetProvider()
DNS = {"proto": "udp", "port": 53}


def _inputs(emu, name: str = "tg-shop", port: int = 443, **extra) -> dict:
    app = _label(emu, "app", "shop")
    return {
        "name": name,
        "owner": "tenantguard/test",
        "scopes": [[app]],
        "rules": [
            {
                "providers": ["ams"],
                "consumers": ["ams"],
                "services": [{"proto": "tcp", "port": port}],
            },
            {"providers": ["ams"], "consumers": ["ams"], "services": [DNS]},
        ],
        **extra,
    }


def _label(emu, key: str, value: str) -> str:
    found = [h for h, lb in emu.labels.items() if (lb["key"], lb["value"]) == (key, value)]
    return found[0] if found else emu.add_label(key, value)


def _draft(emu, href: str) -> dict:
    with emu.lock:
        return emu.policy.draft["rule_sets"][href]


def test_lifecycle_counts_requests(emu, host: DynamicHost) -> None:
    inputs = _inputs(emu)
    emu.reset_counts()
    assert host.check(PROVIDER, inputs).failures == []
    assert emu.count() == 0, "check is offline"

    state = host.create(PROVIDER, inputs)
    assert request_counts(emu) == {"rule_set GET": 1, "rule_set POST": 1, "rule POST": 2}
    assert state.id.startswith("/orgs/1/sec_policy/draft/rule_sets/")
    outs = state.plain_outputs
    assert outs["adopted"] is False and len(outs["rule_hrefs"]) == 2 and outs["revision"]
    assert [r["href"] for r in _draft(emu, state.id)["rules"]] == sorted(outs["rule_hrefs"])
    assert emu.policy.pending_hrefs() == {"rule_sets": {state.id: "create"}}, "draft only"

    emu.reset_counts()
    assert changes(host.check_and_diff(PROVIDER, state, inputs)) == "none"
    reordered = {**inputs, "rules": list(reversed(inputs["rules"]))}
    assert changes(host.check_and_diff(PROVIDER, state, reordered)) == "none"
    assert emu.count() == 0

    changed = _inputs(emu, port=8443)
    diff = host.check_and_diff(PROVIDER, state, changed)
    assert changes(diff) == "some" and list(diff.replaces) == []
    emu.reset_counts()
    updated = host.update(PROVIDER, state, changed)
    # Read the live draft, rewrite the one rule that changed; the DNS rule is untouched.
    assert request_counts(emu) == {"rule_set GET": 1, "rule PUT": 1}
    assert updated.plain_outputs["revision"] != outs["revision"]
    assert sorted(updated.plain_outputs["rule_hrefs"]) == sorted(outs["rule_hrefs"])

    emu.reset_counts()
    refreshed = host.read(updated)
    assert refreshed is not None and emu.count() == 1
    assert refreshed.plain_outputs == updated.plain_outputs
    emu.reset_counts()
    host.delete(updated)
    # Never provisioned: the DELETE removes it outright and nothing is pending to provision.
    assert request_counts(emu) == {"rule_set DELETE": 1, "pending GET": 1}
    assert emu.policy.pending_hrefs() == {}
    assert host.read(updated) is None


def test_delete_of_a_provisioned_rule_set_provisions_its_deletion(emu, host, pce) -> None:
    state = host.create(PROVIDER, _inputs(emu))
    pce.provision([state.id], "first")
    emu.reset_counts()
    host.delete(state)
    assert request_counts(emu) == {
        "rule_set DELETE": 1,
        "pending GET": 1,
        "dependencies POST": 1,
        "policy_version POST": 1,
    }
    assert emu.policy.pending_hrefs() == {} and state.id not in emu.policy.active["rule_sets"]
    version = emu.policy.versions[-1]
    assert version["provisioned_hrefs"] == [state.id]
    assert (
        "tenantguard tenantguard/test: pulumi deletes rule set tg-shop"
        in (version["commit_message"])
    )
    host.delete(state)  # already gone and provisioned: a no-op
    assert len(emu.policy.versions) == 2


def test_existing_rule_set_of_the_name_is_adopted_and_rewritten(emu, host, pce) -> None:
    inputs = _inputs(emu)
    app = inputs["scopes"][0][0]
    theirs = pce.create_rule_set({"name": "tg-shop", "description": "old", "scopes": []})
    kept = pce.create_rule(
        theirs.href,
        {
            "providers": [{"actors": "ams"}],
            "consumers": [{"actors": "ams"}],
            "ingress_services": [{"proto": 17, "port": 53}],
            "resolve_labels_as": {"providers": ["workloads"], "consumers": ["workloads"]},
        },
    )
    stale = pce.create_rule(
        theirs.href,
        {
            "providers": [{"actors": "ams"}],
            "consumers": [{"actors": "ams"}],
            "ingress_services": [{"proto": 6, "port": 22}],
            "resolve_labels_as": {"providers": ["workloads"], "consumers": ["workloads"]},
        },
    )
    emu.reset_counts()
    state = host.create(PROVIDER, inputs)
    assert state.id == theirs.href and state.plain_outputs["adopted"] is True
    # The rule sets are read once (the snapshot), the one of the name again (its live
    # rules); the DNS rule already matches and is kept, the stale one becomes port 443.
    assert request_counts(emu) == {"rule_set GET": 2, "rule_set PUT": 1, "rule PUT": 1}
    assert sorted(state.plain_outputs["rule_hrefs"]) == sorted([kept.href, stale.href])
    draft = _draft(emu, state.id)
    assert draft["description"] == "" and draft["scopes"] == [[{"label": {"href": app}}]]


def test_lost_rule_set_and_rule_responses_make_no_duplicates(emu, host) -> None:
    emu.drop_response_after_apply("POST", "/rule_sets", count=1)
    state = host.create(PROVIDER, _inputs(emu, name="lost-set"))
    with emu.lock:
        assert [o["name"] for o in emu.policy.draft["rule_sets"].values()] == ["lost-set"]
    assert len(_draft(emu, state.id)["rules"]) == 2

    emu.drop_response_after_apply("POST", "/sec_rules", count=1)
    grown = _inputs(emu, name="lost-set")
    grown["rules"].append(
        {"providers": ["ams"], "consumers": ["ams"], "services": [{"proto": "tcp", "port": 9000}]}
    )
    updated = host.update(PROVIDER, state, grown)
    assert len(_draft(emu, state.id)["rules"]) == 3, "the lost rule POST was found, not re-sent"
    assert len(set(updated.plain_outputs["rule_hrefs"])) == 3


def test_rate_limits_and_server_errors_converge(emu, host) -> None:
    emu.inject_rate_limit(4, retry_after=0)
    emu.inject_failures(2, status=503, method="POST")
    state = host.create(PROVIDER, _inputs(emu, name="storm"))
    with emu.lock:
        assert [o["name"] for o in emu.policy.draft["rule_sets"].values()] == ["storm"]
    assert len(_draft(emu, state.id)["rules"]) == 2


def test_a_half_written_update_is_finished_by_the_next_one(emu, host) -> None:
    state = host.create(PROVIDER, _inputs(emu, name="half"))
    grown = _inputs(emu, name="half")
    grown["rules"] += [
        {"providers": ["ams"], "consumers": ["ams"], "services": [{"proto": "tcp", "port": p}]}
        for p in (7000, 7001)
    ]
    emu.inject_failures(20, status=500, method="POST")  # 500 is final: the update fails
    with pytest.raises(Exception, match="Update"):
        host.update(PROVIDER, state, grown)
    emu.faults._injected.clear()
    updated = host.update(PROVIDER, state, grown)  # the engine kept the old state
    assert len(_draft(emu, state.id)["rules"]) == 4
    assert len(set(updated.plain_outputs["rule_hrefs"])) == 4


def test_preview_with_unknown_label_hrefs_is_an_update_and_offline(emu, host) -> None:
    state = host.create(PROVIDER, _inputs(emu))
    emu.reset_counts()
    diff = host.check_and_diff(PROVIDER, state, {**_inputs(emu), "scopes": [[UNKNOWN]]})
    assert changes(diff) == "some" and list(diff.replaces) == []
    assert emu.count() == 0


@pytest.mark.parametrize(
    ("patch", "prop", "fragment"),
    [
        ({"name": ""}, "name", "required"),
        ({"scopes": [["/orgs/1/labels/1"] * 4]}, "scopes", "at most 3"),
        ({"scopes": [["not-a-href"]]}, "scopes", "not a label"),
        (
            {"rules": [{"providers": [], "consumers": ["ams"], "services": [DNS]}]},
            "rules",
            "non-empty",
        ),
        (
            {"rules": [{"providers": ["ams"], "consumers": ["ams"], "services": []}]},
            "rules",
            "at least one",
        ),
        (
            {
                "rules": [
                    {
                        "providers": ["ams"],
                        "consumers": ["ams"],
                        "services": [{"proto": "tcp", "port": 70000}],
                    }
                ]
            },
            "rules",
            "1 to 65535",
        ),
        (
            {"rules": [{"providers": ["ams"], "consumers": ["x"], "services": [DNS]}]},
            "rules",
            'not "ams"',
        ),
        (
            {
                "rules": [
                    {"providers": ["ams"], "consumers": ["ams"], "services": [{"proto": "sctp"}]}
                ]
            },
            "rules",
            "proto",
        ),
        (
            {
                "rules": [
                    {"providers": ["ams"], "consumers": ["ams"], "services": [DNS], "ports": 1}
                ]
            },
            "rules",
            "unknown keys",
        ),
    ],
)
def test_check_names_the_bad_property(emu, host, patch, prop, fragment) -> None:
    outcome = host.check(PROVIDER, {**_inputs(emu), **patch})
    assert [p for p, _ in outcome.failures] == [prop], outcome.failures
    assert fragment in outcome.failures[0][1]
    assert emu.count("POST") == 0
