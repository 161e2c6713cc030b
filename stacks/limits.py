"""Size bounds of a stack spec, checked on YAML events before anything is built from them.

An alias bomb (a few hundred bytes that expand to billions of nodes), pathological
nesting and oversized files are refused here with a file:line problem, in time and
memory proportional to the file's size, so `validate` on a pull request cannot be made
to hang or exhaust a CI runner. The limits are generous: a 1,000-project spec is about
515 KiB, 52,000 nodes and 8 levels deep.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)

MAX_SPEC_BYTES = 2 * 1024 * 1024
"""The largest spec file accepted (2 MiB, four times a 1,000-project spec)."""

MAX_DEPTH = 32
"""The deepest nesting of mappings and lists (the schema itself is about 8 deep)."""

MAX_NODES = 250_000
"""The most values (scalars, mappings, lists) after aliases are expanded."""


class LimitExceeded(Exception):
    """A spec past one of the bounds: the path, the line and the message to report."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.message = message


@dataclass
class _Open:
    """One collection being read: its path, whether the next node is a key, and its size."""

    path: str
    mapping: bool
    size: int = 1
    index: int = 0
    key: str | None = None
    expect_key: bool = True
    anchor: str | None = None


def _child_path(parent: _Open) -> str:
    if parent.mapping:
        key = parent.key if parent.key is not None else "?"
        return f"{parent.path}.{key}" if parent.path else key
    return f"{parent.path}[{parent.index}]"


def size_of(text: str) -> int:
    """The UTF-8 size of a spec text in bytes."""
    return len(text.encode("utf-8"))


def check_events(text: str) -> None:
    """Raise LimitExceeded if the YAML in `text` nests too deep or expands to too many nodes.

    Walks the parser's event stream only (no nodes are built), tracking each open
    collection's expanded size and each anchor's, so aliases count at their full size
    without being expanded. YAML syntax errors propagate as `yaml.MarkedYAMLError`.
    """
    loader = yaml.CSafeLoader(text)
    stack: list[_Open] = []
    anchors: dict[str, int] = {}
    total = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if not isinstance(event, NodeEvent | CollectionEndEvent):
                continue
            line = event.start_mark.line + 1
            if isinstance(event, CollectionEndEvent):
                done = stack.pop()
                if done.anchor is not None:
                    anchors[done.anchor] = done.size
                if stack:
                    _add(stack[-1], done.size, None)
                continue
            parent = stack[-1] if stack else None
            path = _child_path(parent) if parent is not None else ""
            size = anchors.get(event.anchor or "", 1) if isinstance(event, AliasEvent) else 1
            total += size
            if total > MAX_NODES:
                raise LimitExceeded(
                    path,
                    line,
                    f"the spec expands to more than {MAX_NODES:,} values (YAML aliases count "
                    f"at their full size); allowed: at most {MAX_NODES:,} values after "
                    "expanding aliases (an alias bomb is refused here)",
                )
            if isinstance(event, CollectionStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise LimitExceeded(
                        path,
                        line,
                        f"nesting is deeper than {MAX_DEPTH} levels; allowed: at most "
                        f"{MAX_DEPTH} levels of mappings and lists",
                    )
                stack.append(
                    _Open(
                        path,
                        isinstance(event, MappingStartEvent),
                        anchor=event.anchor,
                    )
                )
                continue
            if isinstance(event, ScalarEvent) and event.anchor is not None:
                anchors[event.anchor] = 1
            if parent is not None:
                key = event.value if isinstance(event, ScalarEvent) else None
                _add(parent, size, key)
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" not in str(exc.problem):
            raise
        mark = exc.problem_mark or exc.context_mark
        at = _child_path(stack[-1]) if stack else ""
        raise LimitExceeded(
            at,
            mark.line + 1 if mark is not None else 1,
            f"nesting is deeper than {MAX_DEPTH} levels; allowed: at most {MAX_DEPTH} levels "
            "of mappings and lists",
        ) from None
    finally:
        loader.dispose()


def _add(parent: _Open, size: int, key: str | None) -> None:
    """Count a finished child into its parent and move the parent to its next slot."""
    parent.size += size
    if parent.mapping:
        if parent.expect_key:
            parent.key = key
            parent.expect_key = False
        else:
            parent.key = None
            parent.expect_key = True
    else:
        parent.index += 1
