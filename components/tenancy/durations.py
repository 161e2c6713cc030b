"""Token durations: Go-style duration text (24h, 90m, 1h30m) as seconds, and the bounds a
service account's `tokenDuration` must keep.

Pure functions, no Pulumi. Vault's Kubernetes secrets engine takes TTLs in whole seconds,
and Kubernetes' TokenRequest refuses an expiration under 10 minutes.
"""

from __future__ import annotations

import re
from decimal import Decimal

GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$")
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": Decimal(3600), "m": Decimal(60), "s": Decimal(1), "ms": Decimal("0.001")}

MIN_TOKEN_SECONDS = 600
"""Kubernetes' minimum TokenRequest `expirationSeconds` (10 minutes)."""
MIN_TOKEN_DURATION = "10m"
DEFAULT_MAX_TOKEN_DURATION = "8760h"
"""The default `platformPolicy.maxTokenDuration`: one year, the longest of the seed's
examples (24h, 168h, 8760h); its 10-year default (87600h) needs a higher ceiling."""


def duration_seconds(text: str) -> Decimal:
    """The length of a Go duration such as `24h` or `1h30m`, in seconds."""
    if not GO_DURATION.match(text):
        raise ValueError(f"{text!r} is not a duration such as 24h, 168h or 8760h")
    return sum(
        (Decimal(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(text)),
        Decimal(0),
    )


def ttl_seconds(text: str) -> int:
    """`text` as the whole seconds a Vault TTL takes (validation refuses fractions)."""
    return int(duration_seconds(text))


def token_duration_problem(text: str, ceiling: str) -> str | None:
    """None if `text` is a token duration Kubernetes and the platform allow, else why not."""
    allowed = f"allowed: {MIN_TOKEN_DURATION} to {ceiling} (platformPolicy.maxTokenDuration)"
    seconds = duration_seconds(text)
    if seconds != seconds.to_integral_value():
        return f"tokenDuration {text} is not a whole number of seconds; {allowed}"
    if seconds < MIN_TOKEN_SECONDS:
        return (
            f"tokenDuration {text} is below Kubernetes' 10-minute minimum for TokenRequest; "
            f"{allowed}"
        )
    if seconds > duration_seconds(ceiling):
        return f"tokenDuration {text} is above the platform ceiling {ceiling}; {allowed}"
    return None


def check_max_token_duration(text: str) -> str:
    """Return `text` if it can be the platform's token ceiling, else raise ValueError."""
    seconds = duration_seconds(text)
    if seconds != seconds.to_integral_value() or seconds < MIN_TOKEN_SECONDS:
        raise ValueError(
            f"{text!r} cannot be the token ceiling: it must be a whole number of seconds and "
            f"at least {MIN_TOKEN_DURATION} (Kubernetes' TokenRequest minimum), such as 8760h"
        )
    return text
