"""The PCE's limits in one module: the values, and the pure checks providers use."""

from __future__ import annotations

import typing

import pytest

from providers.illumio import limits
from providers.illumio.limits import (
    ENFORCEMENT_MODES,
    MAX_LABEL_KEY,
    MAX_LABEL_VALUE,
    MAX_NAME,
    VISIBILITY_LEVELS,
    EnforcementMode,
    VisibilityLevel,
    enforcement_problem,
    label_key_problem,
    label_value_problem,
    name_problem,
    visibility_problem,
)
from tests.pce_emulator import payloads


def test_the_limits_are_the_pces():
    assert (MAX_NAME, MAX_LABEL_KEY, MAX_LABEL_VALUE) == (255, 64, 255)
    # The emulator is written from the PCE's documentation, independently of this module.
    assert (MAX_NAME, MAX_LABEL_KEY, MAX_LABEL_VALUE) == (
        payloads.MAX_NAME,
        payloads.MAX_LABEL_KEY,
        payloads.MAX_LABEL_VALUE,
    )
    assert set(VISIBILITY_LEVELS) == set(payloads.VISIBILITY_LEVELS)
    assert set(ENFORCEMENT_MODES) | set(limits.UNSUPPORTED_ENFORCEMENT_MODES) == set(
        payloads.ENFORCEMENT_MODES
    )


def test_the_literal_types_and_the_tuples_agree():
    assert (
        typing.get_args(EnforcementMode) == ENFORCEMENT_MODES == ("idle", "visibility_only", "full")
    )
    assert typing.get_args(VisibilityLevel) == VISIBILITY_LEVELS
    assert "selective" not in ENFORCEMENT_MODES


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("web", None),
        ("x" * 255, None),
        ("x" * 256, "name: at most 255 characters (got 256)"),
        ("", "name: required, non-empty"),
        ("   ", "name: required, non-empty"),
        (None, "name: required, non-empty"),
        (7, "name: required, non-empty"),
    ],
)
def test_name_problem(value, problem):
    assert name_problem(value) == problem


def test_an_optional_name_checks_only_the_length():
    assert name_problem(None, required=False) is None
    assert name_problem("", required=False) is None
    assert name_problem("x" * 256, "label", required=False) == (
        "label: at most 255 characters (got 256)"
    )


def test_label_key_and_value_problems():
    assert label_key_problem("env") is None
    assert label_key_problem("k" * 65) == "key: at most 64 characters (got 65)"
    assert label_key_problem("") == "key: required, non-empty"
    assert label_value_problem("v" * 255) is None
    assert label_value_problem("v" * 256) == "value: at most 255 characters (got 256)"
    assert label_value_problem(None, "labels[env]") == "labels[env]: required, non-empty"


def test_enforcement_and_visibility_problems_name_the_property():
    assert enforcement_problem("full") is None
    assert "'selective' is not supported for container workloads" in (
        enforcement_problem("selective") or ""
    )
    assert (enforcement_problem("strict", "mode") or "").startswith(
        "mode: unknown enforcement mode 'strict'; allowed: idle, visibility_only, full"
    )
    assert visibility_problem("flow_summary") is None
    assert (visibility_problem("loud") or "").startswith("visibility_level: unknown visibility")
