"""Stack spec errors: `SpecError` with every problem found, and pydantic errors in YAML words.

A problem names the file, the line, the path inside the file (camelCase keys, list
indexes in brackets) and what is allowed there, so a platform engineer can fix the
spec without reading this code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple, get_args, get_origin

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from stacks.schema_guide import (
    Slot,
    allowed_keys,
    bare_type,
    describe_slot,
    is_model,
    slot_at,
)
from stacks.spec import looks_like_secret_key

SECRET_ADVICE = (
    "secrets never belong in the stack spec (it is committed and shown in diffs); "
    "allowed: keep the value in Pulumi config with `pulumi config set --secret <key>` "
    "and leave it out of this file"
)


class SpecProblem(NamedTuple):
    """One thing wrong in a spec file: where (file, YAML path, line) and what is allowed."""

    file: str
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(ValueError):
    """A stack spec that cannot be used; carries every problem found, in file order."""

    def __init__(self, problems: Iterable[SpecProblem], *, note: str | None = None) -> None:
        self.problems: list[SpecProblem] = list(problems)
        self.note = note
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        text = f"{count} {noun} in the stack spec; nothing was changed:\n{lines}"
        super().__init__(f"{text}\n{note}" if note else text)


def format_path(loc: Sequence[str | int]) -> str:
    """`('tenants', 1, 'projects', 0, 'quota')` as `tenants[1].projects[0].quota`."""
    text = ""
    for segment in loc:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else str(segment)
    return text


def describe_value(value: Any) -> str:
    """How a YAML value reads to a person: its kind and a short rendering."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} ({value})"


def suggestion(word: str, choices: Sequence[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice, or an empty string."""
    lowered = {choice.lower(): choice for choice in choices}
    if word.lower() in lowered:
        return f" (did you mean {lowered[word.lower()]!r}?)"
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _literal_values(slot: Slot | None) -> list[str]:
    if slot is None:
        return []
    annotation = bare_type(slot.annotation)
    if get_origin(annotation) is Literal:
        return [str(a) for a in get_args(annotation)]
    return []


def _allowed(loc: Sequence[str | int]) -> str:
    slot = slot_at(loc)
    return describe_slot(slot) if slot is not None else "see the stack spec schema"


def _unknown_key(loc: Sequence[str | int]) -> str:
    key = str(loc[-1])
    parent = slot_at(loc[:-1])
    model = bare_type(parent.annotation) if parent is not None else None
    keys = allowed_keys(model) if is_model(model) else []
    listed = ", ".join(keys)
    if looks_like_secret_key(key):
        return f"key {key!r} looks like a secret; {SECRET_ADVICE} (allowed keys here: {listed})"
    return f"unknown key {key!r}{suggestion(key, keys)}; allowed keys here: {listed}"


_TYPE_ERRORS = frozenset(
    {
        "string_type",
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "bool_type",
        "bool_parsing",
        "dict_type",
        "list_type",
        "model_type",
        "model_attributes_type",
        "mapping_type",
        "none_required",
    }
)


def _under_non_text_key(loc: Sequence[str | int]) -> bool:
    """Whether a path passes through a mapping key YAML read as a number or boolean."""
    for index, segment in enumerate(loc):
        if isinstance(segment, int):
            parent = slot_at(loc[:index])
            if parent is not None and get_origin(bare_type(parent.annotation)) is dict:
                return True
    return False


def translate(error: ErrorDetails) -> tuple[str, str] | None:
    """(path, message) for one pydantic error; None for one about a non-text YAML key.

    Non-text keys (`on:` read as a boolean) are reported by the loader from the YAML itself.
    """
    loc = error["loc"]
    if any(isinstance(seg, bool) or not isinstance(seg, str | int) for seg in loc):
        return None
    if "[key]" in loc or error["type"] == "invalid_key" or _under_non_text_key(loc):
        return None
    path = format_path(loc)
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return path, f"required key {str(loc[-1])!r} is missing; allowed: {_allowed(loc)}"
    if kind == "extra_forbidden":
        return path, _unknown_key(loc)
    if kind == "literal_error":
        choices = _literal_values(slot_at(loc))
        hint = suggestion(str(value), choices) if choices else ""
        return path, f"{describe_value(value)} is not allowed{hint}; allowed: {_allowed(loc)}"
    if kind in ("value_error", "assertion_error"):
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
        allowed = _allowed(loc)
        if "allowed" in reason.lower() or allowed in reason:
            return path, reason
        return path, f"{reason}; allowed: {allowed}"
    if kind in _TYPE_ERRORS:
        hint = ""
        if kind == "string_type" and isinstance(value, bool | int | float):
            hint = " (YAML read it as a boolean or number: quote it to keep it text)"
        return path, f"wrong type, got {describe_value(value)}{hint}; allowed: {_allowed(loc)}"
    reason = error["msg"].rstrip(".")
    return path, f"{reason}, got {describe_value(value)}; allowed: {_allowed(loc)}"


def translate_all(exc: ValidationError) -> list[tuple[str, str]]:
    """Every pydantic error as (path, message), without repeats, in pydantic's order."""
    seen: set[tuple[str, str]] = set()
    result: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False):
        translated = translate(error)
        if translated is not None and translated not in seen:
            seen.add(translated)
            result.append(translated)
    return result
