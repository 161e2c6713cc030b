"""Pure payload logic for container workload and pairing profiles: label mappings and checks.

Label mappings travel through Pulumi state, where a `None` inside a map is dropped
on the wire, so "explicitly no label for this key" is marshalled as the empty
string `NO_LABEL`. These functions normalise the mappings, turn them into the PCE
`labels` array (`WorkloadProfileRecord` reads it back), and validate profile inputs
(naming the offending property).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from providers.illumio.limits import enforcement_problem, visibility_problem

NO_LABEL = ""
"""Marshalled value of `assign_labels[key] = None`: the profile sets no label for `key`."""

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_NAMESPACE = 63
"""Kubernetes' limit for a namespace name (a DNS-1123 label), not the PCE's."""


def normal_assign(mapping: Any) -> dict[str, str]:
    """`{key: href | None}` as stored in state and compared: None becomes `NO_LABEL`
    (None, missing and {} are the same)."""
    if not mapping:
        return {}
    return {str(k): (v or NO_LABEL) for k, v in dict(mapping).items()}


def normal_restrictions(mapping: Any) -> dict[str, list[str]]:
    """`{key: [href, ...]}` with each list sorted and de-duplicated (the PCE keeps no order)."""
    if not mapping:
        return {}
    return {str(k): sorted(set(v or [])) for k, v in dict(mapping).items()}


def to_pce_labels(
    assign: Mapping[str, str] | None, restrictions: Mapping[str, Iterable[str]] | None
) -> list[dict[str, Any]]:
    """The PCE `labels` array: assignment, restriction (empty = any value) or neither (none)."""
    assign = normal_assign(assign)
    restrictions = normal_restrictions(restrictions)
    entries: list[dict[str, Any]] = []
    for key in sorted(set(assign) | set(restrictions)):
        if key in restrictions:
            entries.append({"key": key, "restriction": [{"href": h} for h in restrictions[key]]})
        elif assign[key]:
            entries.append({"key": key, "assignment": {"href": assign[key]}})
        else:
            entries.append({"key": key})
    return entries


def pairing_label_refs(assign: Mapping[str, str] | None) -> list[dict[str, str]]:
    """A pairing profile's `labels` array: one `{href}` per assigned key, sorted."""
    return [{"href": href} for href in sorted({h for h in normal_assign(assign).values() if h})]


def check_enforcement(prop: str, value: Any) -> str | None:
    """Why an enforcement mode is refused, or None (see `limits.enforcement_problem`)."""
    return enforcement_problem(value, prop)


def check_visibility(prop: str, value: Any) -> str | None:
    """Why a visibility level is refused, or None (see `limits.visibility_problem`)."""
    return visibility_problem(value, prop)


def check_namespace(value: Any) -> str | None:
    """Why a namespace is not a Kubernetes DNS-1123 label, or None."""
    if not isinstance(value, str) or not value:
        return "namespace: required, a Kubernetes namespace name"
    if len(value) > MAX_NAMESPACE or not DNS1123_LABEL.match(value):
        return (
            f"namespace: {value!r} is not a DNS-1123 label (lower-case letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {MAX_NAMESPACE} characters)"
        )
    return None


def check_label_mappings(assign: Any, restrictions: Any) -> list[tuple[str, str]]:
    """Problems with assign_labels / label_restrictions as (property, reason) pairs."""
    problems: list[tuple[str, str]] = []
    if assign is not None and not isinstance(assign, Mapping):
        problems.append(("assign_labels", "assign_labels: must map a label key to a label href"))
        assign = None
    if restrictions is not None and not isinstance(restrictions, Mapping):
        problems.append(
            ("label_restrictions", "label_restrictions: must map a label key to a list of hrefs")
        )
        restrictions = None
    for key, href in (assign or {}).items():
        if not isinstance(href, str):
            problems.append(
                (
                    "assign_labels",
                    f"assign_labels[{key!r}]: must be a label href or None (no label)",
                )
            )
    for key, hrefs in (restrictions or {}).items():
        if not isinstance(hrefs, list) or not all(isinstance(h, str) and h for h in hrefs):
            problems.append(
                (
                    "label_restrictions",
                    f"label_restrictions[{key!r}]: must be a list of label hrefs ([] = any value)",
                )
            )
    both = sorted(set(assign or {}) & set(restrictions or {}))
    if both:
        problems.append(
            (
                "label_restrictions",
                f"label_restrictions: key(s) {', '.join(both)} also in assign_labels; a key is "
                "either assigned one label or restricted to a list, not both",
            )
        )
    return problems


def check_managed_idle(managed: Any, enforcement_mode: Any) -> str | None:
    """A managed profile cannot be idle (the PCE refuses it with 406)."""
    if managed is True and enforcement_mode == "idle":
        return (
            "enforcement_mode: a managed profile cannot be 'idle'; use visibility_only or full, "
            "or set managed=False"
        )
    return None
