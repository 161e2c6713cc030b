"""Which documents libyaml's YAML emitter writes byte for byte as PyYAML's pure-Python one.

libyaml (`yaml.CSafeDumper`) is many times faster, but the two differ on some texts: they
fold a long double-quoted text (one with a tab, a line break or, without `allow_unicode`,
any non-ASCII character) at different places; with `allow_unicode` libyaml escapes NEL and
non-ASCII characters that PyYAML writes as they are; they write an empty key or a long one
differently; and libyaml ends a document whose last text keeps trailing blank lines with
`...`. They agree on printable ASCII, quotes, indicators and long folded plain texts, at
the default width and at unlimited width. Multi-line texts agree only under a representer
that writes them as literal blocks, so a caller says whether it has one. The
render's manifests and the kubeconfigs both ask here, so the rule is written once. Pure.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

C_SAFE_DUMPER: Any = getattr(yaml, "CSafeDumper", None)
"""libyaml's safe dumper, or None when PyYAML was built without libyaml."""

MAX_KEY = 100
"""Keys up to this long are simple keys in both emitters (PyYAML's limit is 128)."""

_ONE_LINE = re.compile(r"[\x20-\x7e]*")
_LINES = re.compile(r"[\x20-\x7e\n]*")


def _same_text(text: str, *, key: bool, literal_blocks: bool) -> bool:
    if key:
        return 0 < len(text) <= MAX_KEY and _ONE_LINE.fullmatch(text) is not None
    if not literal_blocks or "\n" not in text:
        return _ONE_LINE.fullmatch(text) is not None
    return _LINES.fullmatch(text) is not None and text != "\n" and not text.endswith("\n\n")


def writes_the_same(value: Any, *, literal_blocks: bool) -> bool:
    """Whether libyaml writes `value` exactly as PyYAML does (see the module docstring).

    `literal_blocks`: the dumper writes multi-line texts as `|` blocks, so they may go to
    libyaml too; without it, any line break sends the document to PyYAML.
    """
    if C_SAFE_DUMPER is None:
        return False
    return _same(value, literal_blocks)


def _same(value: Any, literal_blocks: bool) -> bool:
    if isinstance(value, str):
        return _same_text(value, key=False, literal_blocks=literal_blocks)
    if isinstance(value, dict):
        return all(
            isinstance(key, str)
            and _same_text(key, key=True, literal_blocks=literal_blocks)
            and _same(item, literal_blocks)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return all(_same(item, literal_blocks) for item in value)
    return value is None or type(value) in (bool, int, float)
