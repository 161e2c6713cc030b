"""deep_merge: Helm's merge of values maps, without touching either input."""

from __future__ import annotations

from components.helm_values import deep_merge


def test_deep_merge_merges_maps_and_replaces_other_values() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    merged = deep_merge(base, {"a": {"y": [3], "z": 2}, "c": 3})
    assert merged == {"a": {"x": 1, "y": [3], "z": 2}, "b": 1, "c": 3}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1}


def test_deep_merge_does_not_mutate_its_inputs():
    base = {"a": {"b": [1]}, "c": 1}
    override = {"a": {"d": 2}}
    merged = deep_merge(base, override)
    merged["a"]["b"].append(2)
    assert base == {"a": {"b": [1]}, "c": 1}
    assert override == {"a": {"d": 2}}
    assert merged == {"a": {"b": [1, 2], "d": 2}, "c": 1}
