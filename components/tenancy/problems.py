"""A problem with the tenancy input (a spec path and what is allowed), the error that carries
every problem found, and the registry-allowlist rule the tenancy checks share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from components.policies.images import check_registry_prefix, prefix_allowed


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
    """Whether `registry` (a host, optionally with a path) lies within one allowlist entry.

    Both sides are normalised as Docker does (`index.docker.io` is `docker.io`), by the same
    function the rendered registry policy's CEL is checked against, so validate and
    admission agree. A malformed side is not allowed (it is reported where it is written).
    """
    entries = [entry for entry in allowlist if _is_registry_prefix(entry)]
    return _is_registry_prefix(registry) and prefix_allowed(registry, entries)


def _is_registry_prefix(value: str) -> bool:
    try:
        check_registry_prefix(value)
    except ValueError:
        return False
    return True
