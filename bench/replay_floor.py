"""The replay floor: the render's own registrations, sent again with none of the program.

The plain floor (`render_bench.child_floor`) registers as many small ConfigMaps as the
render did; the render's resources are larger (nested manifests, policies, secrets), have
parents and dependencies, and pulumi_kubernetes gives many of them aliases. The replay
floor separates what the registrations themselves cost from what the program adds: it
registers every resource the render registered, in the same order, with the same type,
name, inputs, parent, dependencies and aliases, as plain `CustomResource`s and
`ComponentResource`s with plain values: no Outputs passed between resources, no applies,
no component code. What is left between the render's time under the mocks and this one is
the program's own work.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from tenantguard.recording_mocks import Recording, RecordingMonitor


@dataclass(frozen=True)
class Replayed:
    """What one registration carried, as plain values."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: tuple[str, ...]
    aliases: tuple[str, ...]
    inputs: dict[str, Any]


@contextlib.contextmanager
def noting_aliases() -> Iterator[dict[str, tuple[str, ...]]]:
    """While open, note each registration's alias types by URN (the recording keeps none)."""
    aliases: dict[str, tuple[str, ...]] = {}
    register = RecordingMonitor.RegisterResource

    def noting(self: RecordingMonitor, request: Any) -> Any:
        response = register(self, request)
        types = tuple(alias.spec.type for alias in request.aliases if alias.spec.type)
        if types:
            aliases[response.urn] = types
        return response

    RecordingMonitor.RegisterResource = noting  # type: ignore[method-assign]
    try:
        yield aliases
    finally:
        RecordingMonitor.RegisterResource = register  # type: ignore[method-assign]


def save_registrations(
    recording: Recording, aliases: dict[str, tuple[str, ...]], path: Path
) -> None:
    """Write the render's registrations (order kept) for `replay` to read in another process."""
    rows = [
        Replayed(
            urn=item.urn,
            type=item.type,
            name=item.name,
            custom=item.custom,
            parent=item.parent,
            dependencies=tuple(item.dependencies),
            aliases=aliases.get(item.urn, ()),
            inputs=item.inputs,
        )
        for item in recording.resources
    ]
    path.write_bytes(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))


def load_registrations(path: Path) -> list[Replayed]:
    """The registrations `save_registrations` wrote."""
    rows = pickle.loads(path.read_bytes())  # a file this benchmark wrote itself, this run
    return list(rows)


class _Component(pulumi.ComponentResource):
    """A component with the recorded type and name, and nothing inside it."""

    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__(type_, name, None, opts)


def replay_program(rows: list[Replayed]) -> None:
    """Register `rows` in order, each with its recorded parent and dependencies."""
    by_urn: dict[str, pulumi.Resource] = {}
    for row in rows:
        opts = pulumi.ResourceOptions(
            parent=by_urn.get(row.parent),
            depends_on=[by_urn[urn] for urn in row.dependencies if urn in by_urn],
            aliases=[pulumi.Alias(type_=alias) for alias in row.aliases] or None,
        )
        if row.custom:
            resource: pulumi.Resource = pulumi.CustomResource(
                row.type, row.name, dict(row.inputs), opts
            )
        else:
            resource = _Component(row.type, row.name, opts)
        by_urn[row.urn] = resource
