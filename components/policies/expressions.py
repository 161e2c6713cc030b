"""CEL text building blocks shared by the templates: literal quoting and pod container lists.

Every value a user supplies reaches a CEL expression through `cel_string`/`cel_string_list`,
never by string formatting, so a quote or backslash in a parameter can neither break the
expression nor add code to it. Only standard CEL is used (`has`, `all`, `exists`, `map`,
`matches`, `startsWith`), so the same text evaluates in Kyverno (cel-go) and in cel-python.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

_SIMPLE_ESCAPES: dict[str, str] = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_AUTOGEN_PREFIX = "object"


@lru_cache(maxsize=4096)
def cel_string(value: str) -> str:
    """`value` as a double-quoted CEL string literal that evaluates back to exactly `value`.

    Cached: every project's policies quote the same patterns, registries and labels again.

    Quotes, backslashes and non-printable or non-ASCII characters are escaped. A `.` right
    after "object" (any case) is written as `\\x2e`: Kyverno builds the pod-controller rules
    by textual replacement of `object.spec`/`object.metadata` over the whole policy, and this
    keeps a literal such as a registry `object.spec.example.com` out of that rewrite.
    """
    out: list[str] = []
    for i, char in enumerate(value):
        code = ord(char)
        if char in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[char])
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"{value!r} contains a lone surrogate, which no CEL string can hold")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code > 0x7E:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        elif char == "." and value[max(0, i - len(_AUTOGEN_PREFIX)) : i].lower() == "object":
            out.append("\\x2e")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def cel_string_list(values: Iterable[str]) -> str:
    """A CEL list literal of string literals, each quoted by `cel_string`."""
    return "[" + ", ".join(cel_string(v) for v in values) + "]"


def _optional_list(field: str) -> str:
    return f"(has(object.spec.{field}) ? object.spec.{field} : [])"


ALL_CONTAINERS = " + ".join(
    [
        "object.spec.containers",
        _optional_list("initContainers"),
        _optional_list("ephemeralContainers"),
    ]
)
"""Every container of the pod: containers, initContainers and ephemeralContainers."""

EPHEMERAL_CONTAINERS = _optional_list("ephemeralContainers")
"""Only the ephemeral containers: what `kubectl debug` adds through `pods/ephemeralcontainers`."""

CONTAINERS_AND_INIT = " + ".join(["object.spec.containers", _optional_list("initContainers")])
"""Containers and initContainers: the ones that may declare resources (ephemeral ones may not)."""


def field_is(path: str, value: str) -> str:
    """CEL: the optional field at `path` (a dotted path under a bound name) is set to `value`.

    Each step is guarded with `has()`, since selecting a missing field is an error in CEL.
    `value` is CEL text (a literal such as `true`).
    """
    parts = path.split(".")
    guards = [f"has({'.'.join(parts[: i + 1])})" for i in range(1, len(parts))]
    return "(" + " && ".join([*guards, f"{path} == {value}"]) + ")"
