"""Kubernetes resource quantities ("500m", "4Gi", "1.5") parsed to exact decimals for comparison."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_PATTERN = re.compile(r"^\+?(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?P<suffix>[a-zA-Z]*)$")
ALLOWED_FORM = "a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi"


def parse_quantity(text: str | int | float) -> Decimal:
    """The exact value of a quantity; raises ValueError saying what form is allowed."""
    raw = str(text).strip()
    match = _PATTERN.match(raw)
    if match is None or match.group("suffix") not in _SUFFIXES:
        raise ValueError(f"{raw!r} is not {ALLOWED_FORM}")
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"{raw!r} is not {ALLOWED_FORM}") from exc
    return number * _SUFFIXES[match.group("suffix")]
