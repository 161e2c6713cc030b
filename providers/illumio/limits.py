"""The PCE's own field limits, in one place, and the pure checks built on them.

Sources: /work/shared/docs/pce-api-facts.md (object names at most 255 characters,
label keys at most 64, the enforcement modes and visibility levels of container
workload profiles) and what the PCE accepts for label values (255 characters). The
facts give no limit for descriptions, so none is defined here.

The check functions take a value (and the property it came from) and return why the
PCE would refuse it, or None; they never raise and do no I/O, so providers' check()
and spec models can both use them. Kubernetes rules (namespace names) are not PCE
limits and live with the profile payload logic.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

MAX_NAME = 255
"""Longest object name the PCE takes: container clusters, workload and pairing profiles."""

MAX_LABEL_KEY = 64
"""Longest label key (label type) the PCE takes."""

MAX_LABEL_VALUE = 255
"""Longest label value the PCE takes."""

EnforcementMode = Literal["idle", "visibility_only", "full"]
"""Enforcement modes a container workload or pairing profile may have."""

ENFORCEMENT_MODES: tuple[str, ...] = get_args(EnforcementMode)

UNSUPPORTED_ENFORCEMENT_MODES: tuple[str, ...] = ("selective",)
"""Modes the PCE knows but that are not supported for container workloads: refuse them."""

VisibilityLevel = Literal[
    "flow_full_detail", "flow_summary", "flow_drops", "flow_off", "enhanced_data_collection"
]
"""Visibility levels a container workload or pairing profile may have."""

VISIBILITY_LEVELS: tuple[str, ...] = get_args(VisibilityLevel)


def _length_problem(prop: str, value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"{prop}: at most {limit} characters (got {len(value)})"
    return None


def name_problem(value: Any, prop: str = "name", *, required: bool = True) -> str | None:
    """Why `value` is not an object name the PCE takes, or None.

    With `required=False` a missing or empty name passes (the caller fills in a default)
    and only the length of a string is checked.
    """
    if not required:
        return _length_problem(prop, value, MAX_NAME) if isinstance(value, str) else None
    if not isinstance(value, str) or not value.strip():
        return f"{prop}: required, non-empty"
    return _length_problem(prop, value, MAX_NAME)


def label_key_problem(value: Any, prop: str = "key") -> str | None:
    """Why `value` is not a label key the PCE takes, or None."""
    if not isinstance(value, str) or not value:
        return f"{prop}: required, non-empty"
    return _length_problem(prop, value, MAX_LABEL_KEY)


def label_value_problem(value: Any, prop: str = "value") -> str | None:
    """Why `value` is not a label value the PCE takes, or None."""
    if not isinstance(value, str) or not value:
        return f"{prop}: required, non-empty"
    return _length_problem(prop, value, MAX_LABEL_VALUE)


def enforcement_problem(value: Any, prop: str = "enforcement_mode") -> str | None:
    """Why `value` is not an enforcement mode for container workloads, or None."""
    allowed = ", ".join(ENFORCEMENT_MODES)
    if value in UNSUPPORTED_ENFORCEMENT_MODES:
        return f"{prop}: {value!r} is not supported for container workloads; use one of {allowed}"
    if value not in ENFORCEMENT_MODES:
        return f"{prop}: unknown enforcement mode {value!r}; allowed: {allowed}"
    return None


def visibility_problem(value: Any, prop: str = "visibility_level") -> str | None:
    """Why `value` is not a visibility level, or None."""
    if value not in VISIBILITY_LEVELS:
        return (
            f"{prop}: unknown visibility level {value!r}; allowed: {', '.join(VISIBILITY_LEVELS)}"
        )
    return None
