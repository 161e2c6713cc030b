"""The size bounds of a spec: alias expansion, nesting and the node count, on YAML events."""

from __future__ import annotations

import time

import pytest
import yaml

from stacks.limits import MAX_DEPTH, MAX_NODES, LimitExceeded, check_events
from tests.stacks.conftest import VALID_SPEC


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic billion-laughs document: each level lists the previous one `width` times."""
    lines = ["l0: &l0 [" + ",".join(['"x"'] * width) + "]"]
    for level in range(1, levels):
        refs = ",".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once_with_its_line_and_path() -> None:
    text = alias_bomb()
    assert len(text) < 500
    started = time.perf_counter()
    with pytest.raises(LimitExceeded) as info:
        check_events(text)
    assert time.perf_counter() - started < 0.5
    assert info.value.line == 6  # 9**6 values: the first level past the bound
    assert info.value.path.startswith("l5[")
    assert f"{MAX_NODES:,}" in info.value.message


def test_aliases_within_the_bound_are_accepted() -> None:
    check_events("base: &b {cpu: '1'}\na: *b\nb: *b\n")


def test_nesting_past_the_bound_names_the_path_and_line() -> None:
    depth = MAX_DEPTH + 1
    text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "x\n"
    with pytest.raises(LimitExceeded) as info:
        check_events(text)
    assert info.value.line == MAX_DEPTH + 1  # the mapping that is one level too deep
    assert info.value.path == ".".join(f"k{i}" for i in range(MAX_DEPTH))
    assert f"{MAX_DEPTH} levels" in info.value.message


def test_nesting_at_the_bound_is_accepted() -> None:
    check_events("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")


def test_sequence_items_get_indexed_paths() -> None:
    text = "tenants:\n  - name: a\n  - " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    with pytest.raises(LimitExceeded) as info:
        check_events(text)
    assert info.value.path.startswith("tenants[1]")


def test_the_valid_spec_passes_and_syntax_errors_propagate() -> None:
    check_events(VALID_SPEC)
    with pytest.raises(yaml.MarkedYAMLError):
        check_events("a: [1, 2\n")
