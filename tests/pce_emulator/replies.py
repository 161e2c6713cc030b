"""What a route hands back to the HTTP layer: status, JSON body (or none), headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_BODY = object()


@dataclass
class Reply:
    """One HTTP answer; `body is NO_BODY` means an empty body (204)."""

    status: int
    body: Any = NO_BODY
    headers: dict[str, str] = field(default_factory=dict)


def no_content() -> Reply:
    """204, the PCE's answer to PUT and DELETE."""
    return Reply(204)
