"""Pure checks of request bodies and query strings, as strict as the PCE's own.

No state here: existence of referenced hrefs and uniqueness rules live in the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs

from .errors import INVALID_ARGUMENT, ApiError, invalid

ENFORCEMENT_MODES = ("idle", "visibility_only", "full", "selective")
VISIBILITY_LEVELS = (
    "flow_full_detail",
    "flow_summary",
    "flow_drops",
    "flow_off",
    "enhanced_data_collection",
)
MAX_NAME = 255
MAX_LABEL_KEY = 64
MAX_LABEL_VALUE = 255


def require_object(body: Any, allowed: Iterable[str], what: str) -> dict[str, Any]:
    """The body must be a JSON object whose properties are all known for `what`."""
    if not isinstance(body, dict):
        raise invalid(f"{what}: the request body must be a JSON object")
    allowed_set = set(allowed)
    unknown = sorted(set(body) - allowed_set)
    if unknown:
        raise invalid(f"{what}: unknown properties {unknown}; allowed: {sorted(allowed_set)}")
    return body


def string_field(
    body: Mapping[str, Any],
    field: str,
    *,
    max_len: int = MAX_NAME,
    required: bool = False,
    nullable: bool = False,
    allow_empty: bool = True,
) -> str | None:
    """A string property: type, length and presence checked."""
    if field not in body:
        if required:
            raise invalid(f"{field} is required")
        return None
    value = body[field]
    if value is None:
        if nullable and not required:
            return None
        raise invalid(f"{field} must be a string, not null")
    if not isinstance(value, str):
        raise invalid(f"{field} must be a string")
    if not value and (required or not allow_empty):
        raise invalid(f"{field} must not be empty")
    if len(value) > max_len:
        raise invalid(f"{field} must be at most {max_len} characters (got {len(value)})")
    return value


def bool_field(body: Mapping[str, Any], field: str) -> bool | None:
    """A boolean property (JSON true/false only, not 0/1 or strings)."""
    if field not in body:
        return None
    value = body[field]
    if not isinstance(value, bool):
        raise invalid(f"{field} must be true or false")
    return value


def enum_field(body: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> str | None:
    """A string property restricted to `allowed`."""
    if field not in body:
        return None
    value = body[field]
    if value not in allowed:
        raise invalid(f"{field} must be one of {list(allowed)} (got {value!r})")
    return value


def href_ref(item: Any, where: str) -> str:
    """A `{href: "..."}` reference object."""
    if not isinstance(item, dict) or set(item) != {"href"} or not isinstance(item["href"], str):
        raise invalid(f'{where} must be an object {{"href": "..."}}')
    return item["href"]


@dataclass(frozen=True)
class LabelEntry:
    """One per-key label rule of a workload profile.

    mode ``assignment`` pins `hrefs[0]`; ``restriction`` allows `hrefs` (empty = any value);
    ``none`` means no label for this key.
    """

    key: str
    mode: Literal["assignment", "restriction", "none"]
    hrefs: tuple[str, ...] = ()


def profile_labels(body: Mapping[str, Any]) -> list[LabelEntry] | None:
    """The label rules in a profile body (`labels` or older `assign_labels`), or None.

    Accepts `assignment` and the seed document's `assign` spelling; `assign: {}` means
    "no label for this key". The label keys are checked against the labels by the store.
    """
    if "labels" in body and "assign_labels" in body:
        raise invalid("use either labels or assign_labels, not both")
    if "assign_labels" in body:
        raw = body["assign_labels"]
        if not isinstance(raw, list):
            raise invalid("assign_labels must be an array of {href}")
        return [
            LabelEntry("", "assignment", (href_ref(item, f"assign_labels[{i}]"),))
            for i, item in enumerate(raw)
        ]
    if "labels" not in body:
        return None
    raw = body["labels"]
    if not isinstance(raw, list):
        raise invalid("labels must be an array of {key, assignment | restriction}")
    entries: list[LabelEntry] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"labels[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise invalid(f"{where} must be an object with a string key")
        unknown = sorted(set(item) - {"key", "assignment", "assign", "restriction"})
        if unknown:
            raise invalid(f"{where}: unknown properties {unknown}")
        key = item["key"]
        if key in seen:
            raise invalid(f"{where}: label key {key!r} appears more than once")
        seen.add(key)
        has_assign = [name for name in ("assignment", "assign") if name in item]
        if len(has_assign) > 1 or (has_assign and "restriction" in item):
            raise invalid(f"{where}: give one of assignment or restriction for {key!r}")
        if has_assign:
            target = item[has_assign[0]]
            if target == {} or target is None:
                entries.append(LabelEntry(key, "none"))
            else:
                href = href_ref(target, f"{where}.{has_assign[0]}")
                entries.append(LabelEntry(key, "assignment", (href,)))
        elif "restriction" in item:
            restriction = item["restriction"]
            if not isinstance(restriction, list):
                raise invalid(f"{where}.restriction must be an array of {{href}}")
            hrefs = tuple(
                href_ref(ref, f"{where}.restriction[{j}]") for j, ref in enumerate(restriction)
            )
            if len(set(hrefs)) != len(hrefs):
                raise invalid(f"{where}.restriction lists a label twice")
            entries.append(LabelEntry(key, "restriction", hrefs))
        else:
            entries.append(LabelEntry(key, "none"))
    return entries


def pairing_labels(body: Mapping[str, Any]) -> list[str] | None:
    """A pairing profile's `labels: [{href}]`, or None when absent."""
    if "labels" not in body:
        return None
    raw = body["labels"]
    if not isinstance(raw, list):
        raise invalid("labels must be an array of {href}")
    return [href_ref(item, f"labels[{i}]") for i, item in enumerate(raw)]


def parse_query(raw_query: str, allowed: Iterable[str], what: str) -> dict[str, str]:
    """Query parameters of a collection GET; an unknown or repeated one is refused."""
    parsed = parse_qs(raw_query, keep_blank_values=True)
    allowed_set = set(allowed) | {"max_results"}
    unknown = sorted(set(parsed) - allowed_set)
    if unknown:
        raise ApiError(
            406,
            INVALID_ARGUMENT,
            f"{what}: unknown query parameters {unknown}; allowed: {sorted(allowed_set)}",
        )
    query: dict[str, str] = {}
    for name, values in parsed.items():
        if len(values) != 1:
            raise ApiError(406, INVALID_ARGUMENT, f"query parameter {name} given twice")
        query[name] = values[0]
    if "max_results" in query:
        text = query["max_results"]
        if not text.isdigit() or int(text) < 1:
            raise ApiError(406, INVALID_ARGUMENT, "max_results must be a positive integer")
    return query


def partial_match(filter_value: str | None, actual: str | None) -> bool:
    """The PCE's partial, case-insensitive match of a query filter (no filter: match)."""
    if filter_value is None:
        return True
    if actual is None:
        return False
    return filter_value.lower() in actual.lower()


def bool_query(query: Mapping[str, str], name: str) -> bool | None:
    """A boolean query filter (`true`/`false`)."""
    if name not in query:
        return None
    text = query[name].lower()
    if text not in ("true", "false"):
        raise ApiError(406, INVALID_ARGUMENT, f"query parameter {name} must be true or false")
    return text == "true"
