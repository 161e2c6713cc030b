"""A problem with the tenancy input (a spec path and what is allowed), the error that carries
every problem found, and the registry-allowlist rule the tenancy checks share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is and what is allowed instead."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class TenancyValidationError(ValueError):
    """Raised with every problem found, before any resource is registered."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the tenancy spec:\n{lines}")


def registry_allowed(registry: str, allowlist: Iterable[str]) -> bool:
    """Whether `registry` (a host, optionally with a path) lies within one allowlist entry."""
    candidate = registry.rstrip("/")
    for entry in allowlist:
        base = entry.rstrip("/")
        if candidate == base or candidate.startswith(base + "/"):
            return True
    return False
