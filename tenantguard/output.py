"""How the CLI prints: aligned text tables, JSON and YAML, all deterministic.

Table cells have control characters replaced, so text that comes from a PCE cannot
move the cursor or recolour the terminal. JSON and YAML sort or keep keys as asked and
never carry timestamps of their own.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import yaml

EMPTY_CELL = "-"


def cell(value: Any) -> str:
    """One table cell: None and empty as '-', booleans as yes/no, control characters as '?'."""
    if value is None or value == "" or value == []:
        return EMPTY_CELL
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return "".join(ch if ch.isprintable() else ("?" if ch not in "\n\t" else " ") for ch in text)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell, two spaces apart, no trailing spaces."""
    cells = [[cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, text in enumerate(row):
            widths[index] = max(widths[index], len(text))
    lines = []
    for row in [list(headers), *cells]:
        padded = [text.ljust(widths[index]) for index, text in enumerate(row)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines) + "\n"


def format_fields(pairs: Sequence[tuple[str, Any]]) -> str:
    """A record as `label: value` lines, labels aligned."""
    width = max((len(label) for label, _ in pairs), default=0)
    return "".join(f"{(label + ':').ljust(width + 1)} {cell(value)}\n" for label, value in pairs)


def to_json(data: Any) -> str:
    """Indented JSON with sorted keys and a final newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line text as literal blocks, so PEM and CEL stay readable."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _text)


def to_yaml(data: Any, *, sort_keys: bool = False) -> str:
    """Block YAML without line folding; `sort_keys` for output that must diff stably."""
    return yaml.dump(
        data,
        Dumper=_BlockDumper,
        sort_keys=sort_keys,
        default_flow_style=False,
        allow_unicode=True,
        width=2**31 - 1,
    )


def emit(text: str, stream: TextIO | None = None) -> None:
    """Write `text` to `stream` (default: the current sys.stdout)."""
    (stream or sys.stdout).write(text)
