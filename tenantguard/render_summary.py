"""The render's summary: the resource tree (`resources.txt`, the CLI's output) and the counts.

Pure functions of a `Recording`; they say what was registered, never a value, so nothing
here can hold a secret (a name that matches a secret text is still scrubbed by the caller).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from tenantguard.recording_mocks import Recording, Registered


def sort_key(resource: Registered) -> tuple[str, str, str]:
    """The order resources are listed and written in: type, then name, then URN."""
    return (resource.type, resource.name, resource.urn)


def resource_tree(recording: Recording) -> list[str]:
    """`type name` per resource, children indented under their parent, siblings sorted."""
    known = {resource.urn for resource in recording.resources}
    children: dict[str, list[Registered]] = {}
    roots: list[Registered] = []
    for resource in recording.resources:
        if resource.parent in known:
            children.setdefault(resource.parent, []).append(resource)
        else:
            roots.append(resource)
    lines: list[str] = []

    def walk(items: list[Registered], depth: int) -> None:
        for resource in sorted(items, key=sort_key):
            lines.append(f"{'  ' * depth}{resource.type} {resource.name}")
            walk(children.get(resource.urn, []), depth + 1)

    walk(roots, 0)
    return lines


def type_counts(recording: Recording) -> dict[str, int]:
    """How many resources of each type, by type token."""
    return dict(sorted(Counter(resource.type for resource in recording.resources).items()))


def summary_line(counts: Mapping[str, int]) -> str:
    """`N resources: 3 <type>, 1 <type>, ...` with types in alphabetical order."""
    total = sum(counts.values())
    parts = ", ".join(f"{count} {type_}" for type_, count in sorted(counts.items()))
    noun = "resource" if total == 1 else "resources"
    return f"{total} {noun}: {parts}" if parts else f"{total} {noun}"


def tree_text(recording: Recording) -> str:
    """`resources.txt`: the tree, a blank line and the summary line."""
    return "\n".join([*resource_tree(recording), "", summary_line(type_counts(recording))]) + "\n"
