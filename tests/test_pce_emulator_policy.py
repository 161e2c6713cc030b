"""The PCE emulator's draft/active security policy, driven over HTTP as a client sees it:
rule sets with rules, IP lists, pending changes, dependencies, provisioning a change
subset, policy versions, and the refusals `pce-policy-facts.md` describes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pce_emulator import PceEmulator
from tests.test_pce_emulator import Api

BASE = "/orgs/1/sec_policy"


@pytest.fixture
def api(pce_emulator: PceEmulator) -> Api:
    return Api(pce_emulator)


def _label(api: Api, key: str, value: str) -> str:
    return api.ok("POST", "/orgs/1/labels", 201, json={"key": key, "value": value})["href"]


def _ip_list(api: Api, name: str, cidr: str = "10.0.0.0/8") -> str:
    body = {"name": name, "ip_ranges": [{"from_ip": cidr}]}
    return api.ok("POST", f"{BASE}/draft/ip_lists", 201, json=body)["href"]


def _rule_set(api: Api, name: str, app: str) -> str:
    body = {"name": name, "scopes": [[{"label": {"href": app}}]]}
    return api.ok("POST", f"{BASE}/draft/rule_sets", 201, json=body)["href"]


def _rule(providers: list[dict], consumers: list[dict], port: int = 443) -> dict[str, Any]:
    return {
        "providers": providers,
        "consumers": consumers,
        "ingress_services": [{"proto": 6, "port": port}],
        "resolve_labels_as": {"providers": ["workloads"], "consumers": ["workloads"]},
    }


def _subset(rule_sets: list[str] = (), ip_lists: list[str] = ()) -> dict[str, Any]:
    return {
        "rule_sets": [{"href": h} for h in rule_sets],
        "ip_lists": [{"href": h} for h in ip_lists],
    }


def _pending(api: Api) -> dict[str, dict[str, str]]:
    body = api.ok("GET", f"{BASE}/pending", 200)
    return {k: {i["href"]: i["update_type"] for i in v} for k, v in body.items()}


def test_draft_is_pending_until_provisioned_and_then_active(api) -> None:
    app = _label(api, "app", "shop")
    ipl = _ip_list(api, "egress")
    rs = _rule_set(api, "shop", app)
    rule = api.ok(
        "POST",
        f"{rs}/sec_rules",
        201,
        json=_rule([{"ip_list": {"href": ipl}}], [{"actors": "ams"}]),
    )
    assert rule["href"].startswith(rs + "/sec_rules/")
    assert api.ok("GET", rs, 200)["update_type"] == "create"
    assert api.ok("GET", rs, 200)["rules"][0]["href"] == rule["href"]
    assert _pending(api) == {"rule_sets": {rs: "create"}, "ip_lists": {ipl: "create"}}
    assert api("GET", rs.replace("/draft/", "/active/")).status_code == 404

    # The rule set needs its draft-only IP list: refused alone, listed by dependencies.
    refused = api("POST", BASE, json={"update_description": "x", "change_subset": _subset([rs])})
    assert refused.status_code == 406 and ipl in refused.text
    deps = api.ok("POST", f"{BASE}/draft/dependencies", 200, json={"change_subset": _subset([rs])})
    assert deps == {"rule_sets": [], "ip_lists": [{"href": ipl}]}

    version = api.ok(
        "POST",
        BASE,
        201,
        json={"update_description": "first", "change_subset": _subset([rs], [ipl])},
    )
    assert version["version"] == 1 and version["commit_message"] == "first"
    assert _pending(api) == {}
    active = api.ok("GET", rs.replace("/draft/", "/active/"), 200)
    assert active["rules"][0]["href"] == rule["href"].replace("/draft/", "/active/")
    assert api.ok("GET", rs, 200)["update_type"] is None
    assert [v["version"] for v in api.ok("GET", BASE, 200)] == [1]


def test_only_the_subset_is_provisioned_and_other_drafts_stay_pending(api) -> None:
    app = _label(api, "app", "a")
    ours, theirs = _rule_set(api, "ours", app), _rule_set(api, "theirs", app)
    api.ok("POST", BASE, 201, json={"update_description": "ours", "change_subset": _subset([ours])})
    assert _pending(api) == {"rule_sets": {theirs: "create"}}
    # Provisioning it again is refused: nothing of it is pending.
    again = api("POST", BASE, json={"update_description": "x", "change_subset": _subset([ours])})
    assert again.status_code == 406 and "no pending change" in again.text
    # Without a subset the PCE provisions everything (what a tool must never do).
    api.ok("POST", BASE, 201, json={"update_description": "all"})
    assert _pending(api) == {}


def test_updates_and_rule_changes_are_pending_updates_and_reverting_clears_them(api) -> None:
    app = _label(api, "app", "a")
    rs = _rule_set(api, "rs", app)
    api.ok("POST", BASE, 201, json={"update_description": "v1", "change_subset": _subset([rs])})
    api.ok("PUT", rs, 204, json={"description": "changed"})
    assert _pending(api) == {"rule_sets": {rs: "update"}}
    api.ok("PUT", rs, 204, json={"description": ""})
    assert _pending(api) == {}, "a draft equal to active again is not pending"
    rule = api.ok(
        "POST", f"{rs}/sec_rules", 201, json=_rule([{"actors": "ams"}], [{"actors": "ams"}])
    )
    assert _pending(api) == {"rule_sets": {rs: "update"}}
    api.ok("PUT", rule["href"], 204, json={"ingress_services": [{"proto": 17, "port": 53}]})
    assert api.ok("GET", rule["href"], 200)["ingress_services"] == [{"proto": 17, "port": 53}]
    api.ok("DELETE", rule["href"], 204)
    assert _pending(api) == {}


def test_deletion_is_pending_until_provisioned(api) -> None:
    app = _label(api, "app", "a")
    rs = _rule_set(api, "rs", app)
    api.ok("POST", BASE, 201, json={"update_description": "v1", "change_subset": _subset([rs])})
    api.ok("DELETE", rs, 204)
    assert api("GET", rs).status_code == 404 and api("DELETE", rs).status_code == 404
    assert _pending(api) == {"rule_sets": {rs: "delete"}}
    assert api.ok("GET", rs.replace("/draft/", "/active/"), 200)["name"] == "rs"
    assert api("DELETE", app).status_code == 406, "the active rule set still uses the label"
    api.ok("POST", BASE, 201, json={"update_description": "del", "change_subset": _subset([rs])})
    assert _pending(api) == {}
    assert api("GET", rs.replace("/draft/", "/active/")).status_code == 404
    api.ok("DELETE", app, 204)
    # A draft that was never provisioned is simply gone.
    fresh = _rule_set(api, "fresh", _label(api, "app", "b"))
    api.ok("DELETE", fresh, 204)
    assert _pending(api) == {}


def test_ip_list_deletion_needs_the_rule_set_that_stops_using_it(api) -> None:
    app = _label(api, "app", "a")
    ipl = _ip_list(api, "egress")
    rs = _rule_set(api, "rs", app)
    rule = api.ok(
        "POST",
        f"{rs}/sec_rules",
        201,
        json=_rule([{"ip_list": {"href": ipl}}], [{"actors": "ams"}]),
    )
    assert api("DELETE", ipl).status_code == 406, "a draft rule set still uses it"
    api.ok(
        "POST", BASE, 201, json={"update_description": "v1", "change_subset": _subset([rs], [ipl])}
    )
    api.ok("DELETE", rule["href"], 204)
    api.ok("DELETE", ipl, 204)
    refused = api(
        "POST", BASE, json={"update_description": "x", "change_subset": _subset([], [ipl])}
    )
    assert refused.status_code == 406 and rs in refused.text
    deps = api.ok(
        "POST", f"{BASE}/draft/dependencies", 200, json={"change_subset": _subset([], [ipl])}
    )
    assert deps["rule_sets"] == [{"href": rs}]
    api.ok(
        "POST", BASE, 201, json={"update_description": "x", "change_subset": _subset([rs], [ipl])}
    )
    assert _pending(api) == {}


@pytest.mark.parametrize(
    "subset",
    [
        {"rule_sets": [{"href": "/orgs/1/sec_policy/draft/rule_sets/1", "name": "x"}]},
        {"rule_sets": ["/orgs/1/sec_policy/draft/rule_sets/1"]},
        {"workloads": [{"href": "/orgs/1/workloads/1"}]},
        {"rule_sets": []},
    ],
)
def test_a_subset_entry_must_be_exactly_an_href(api, subset) -> None:
    _rule_set(api, "rs", _label(api, "app", "a"))
    assert api("POST", BASE, json={"change_subset": subset}).status_code == 406
    assert len(api.emulator.policy.versions) == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("rule_sets", {"name": "r", "rules": []}),
        ("rule_sets", {"name": "r", "scopes": [[{"label": {"href": "/orgs/1/labels/999"}}]]}),
        ("rule_sets", {"name": "r", "scopes": [[{"label": {"href": "ROLE"}}]]}),
        ("ip_lists", {"name": "i", "ip_ranges": [{"from_ip": "10.0.0.300/8"}]}),
        ("ip_lists", {"name": "i", "ip_ranges": [{"to_ip": "10.0.0.1"}]}),
        ("ip_lists", {"ip_ranges": []}),
    ],
)
def test_bad_bodies_are_refused(api, path, body) -> None:
    role = _label(api, "role", "web")
    text = str(body).replace("ROLE", role).replace("'", '"')
    import json

    response = api("POST", f"{BASE}/draft/{path}", json=json.loads(text))
    assert response.status_code == 406, response.text


def test_bad_rules_and_duplicate_names_are_refused(api) -> None:
    app = _label(api, "app", "a")
    rs = _rule_set(api, "rs", app)
    assert api("POST", f"{BASE}/draft/rule_sets", json={"name": "rs"}).status_code == 406
    no_ports = {**_rule([{"actors": "ams"}], [{"actors": "ams"}]), "ingress_services": []}
    assert api("POST", f"{rs}/sec_rules", json=no_ports).status_code == 406
    bad_port = _rule([{"actors": "ams"}], [{"actors": "ams"}], port=70000)
    assert api("POST", f"{rs}/sec_rules", json=bad_port).status_code == 406
    unknown_ipl = _rule([{"ip_list": {"href": f"{BASE}/draft/ip_lists/99"}}], [{"actors": "ams"}])
    assert api("POST", f"{rs}/sec_rules", json=unknown_ipl).status_code == 406
    assert api("PUT", rs.replace("/draft/", "/active/"), json={}).status_code == 405


def test_the_builtin_any_ip_list_exists_active_and_cannot_be_deleted(api) -> None:
    [any_list] = api.ok("GET", f"{BASE}/draft/ip_lists", 200, params={"name": "Any"})
    assert any_list["name"] == "Any (0.0.0.0/0 and ::/0)" and any_list["update_type"] is None
    assert api("DELETE", any_list["href"]).status_code == 406
