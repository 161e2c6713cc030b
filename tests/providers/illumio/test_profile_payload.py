"""Pure label-mapping and check logic of profiles (no Pulumi runtime, no HTTP)."""

from __future__ import annotations

import pytest

from providers.illumio.profile_payload import (
    NO_LABEL,
    check_enforcement,
    check_label_mappings,
    check_managed_idle,
    check_namespace,
    check_visibility,
    normal_assign,
    normal_restrictions,
    pairing_label_refs,
    to_pce_labels,
)

ENV = "/orgs/1/labels/1"
WEB = "/orgs/1/labels/2"
DB = "/orgs/1/labels/3"


def test_none_is_marshalled_as_no_label() -> None:
    assert normal_assign({"env": ENV, "app": None}) == {"env": ENV, "app": NO_LABEL}
    assert normal_assign(None) == {}


def test_restrictions_are_sorted_and_deduplicated() -> None:
    assert normal_restrictions({"role": [DB, WEB, DB], "loc": []}) == {
        "role": [WEB, DB],
        "loc": [],
    }


def test_labels_array_shapes() -> None:
    entries = to_pce_labels({"env": ENV, "app": NO_LABEL}, {"role": [DB, WEB], "loc": []})
    assert entries == [
        {"key": "app"},
        {"key": "env", "assignment": {"href": ENV}},
        {"key": "loc", "restriction": []},
        {"key": "role", "restriction": [{"href": WEB}, {"href": DB}]},
    ]


def test_pairing_label_refs_skip_empty_and_sort() -> None:
    assert pairing_label_refs({"env": ENV, "app": "", "role": WEB}) == [
        {"href": ENV},
        {"href": WEB},
    ]


@pytest.mark.parametrize("namespace", ["shop", "a", "shop-prod-1", "a" * 63])
def test_valid_namespaces(namespace: str) -> None:
    assert check_namespace(namespace) is None


@pytest.mark.parametrize("namespace", ["", "Shop", "shop_prod", "-a", "a-", "a" * 64, "a.b"])
def test_invalid_namespaces_are_named(namespace: str) -> None:
    reason = check_namespace(namespace)
    assert reason is not None and reason.startswith("namespace:")


def test_enforcement_and_visibility_rules() -> None:
    assert "not supported for container workloads" in check_enforcement("m", "selective")
    assert "unknown enforcement mode" in check_enforcement("m", "strict")
    assert check_enforcement("m", "full") is None
    assert "unknown visibility level" in check_visibility("v", "flow_everything")
    assert check_visibility("v", "flow_off") is None
    assert check_managed_idle(True, "idle") is not None
    assert check_managed_idle(False, "idle") is None


def test_label_mapping_rules() -> None:
    assert check_label_mappings({"env": ENV}, {"role": []}) == []
    problems = check_label_mappings({"env": ENV, "role": NO_LABEL}, {"role": [WEB]})
    assert [p for p, _ in problems] == ["label_restrictions"]
    assert "role" in problems[0][1]
    assert [p for p, _ in check_label_mappings({"env": 3}, None)] == ["assign_labels"]
    assert [p for p, _ in check_label_mappings(None, {"role": "x"})] == ["label_restrictions"]
    assert [p for p, _ in check_label_mappings(["env"], None)] == ["assign_labels"]
