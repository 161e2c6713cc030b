"""The render's YAML text: libyaml's emitter where it writes exactly what PyYAML's would.

`tenantguard.output.to_yaml` (PyYAML's pure-Python emitter) is the reference, and a render
spends most of its file-building time in it. libyaml's emitter (`yaml.CSafeDumper`) is
many times faster and writes the same bytes for the documents a render holds, but not for
every possible string: it escapes non-ASCII characters and NEL that PyYAML writes as they
are, writes an empty key or a long one differently, and ends a document whose last text
keeps trailing blank lines with `...`. So a document goes to libyaml only when every text
in it is printable ASCII or newlines, without trailing blank lines, and every key is a
non-empty one-line text of at most MAX_FAST_KEY characters; anything else takes the
reference emitter. Same options, same representers. Pure.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from tenantguard.output import _text, to_yaml

MAX_FAST_KEY = 100
"""Keys up to this long are simple keys in both emitters (PyYAML's limit is 128)."""

_FAST_TEXT = re.compile(r"[\x20-\x7e\n]*")


class _FastBlockDumper(yaml.CSafeDumper):
    """`output._BlockDumper` on libyaml's emitter: multi-line text as literal blocks."""


_FastBlockDumper.add_representer(str, _text)


def _fast_text(text: str, *, key: bool) -> bool:
    if not _FAST_TEXT.fullmatch(text) or text == "\n" or text.endswith("\n\n"):
        return False
    return not key or (0 < len(text) <= MAX_FAST_KEY and "\n" not in text)


def fast_safe(value: Any) -> bool:
    """Whether libyaml writes `value` exactly as `output.to_yaml` does (see the docstring)."""
    if isinstance(value, str):
        return _fast_text(value, key=False)
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and _fast_text(key, key=True) and fast_safe(item)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return all(fast_safe(item) for item in value)
    return value is None or type(value) in (bool, int, float)


def render_yaml(data: Any) -> str:
    """`output.to_yaml(data, sort_keys=True)`, byte for byte, fast where that is proven."""
    if not fast_safe(data):
        return to_yaml(data, sort_keys=True)
    return yaml.dump(
        data,
        Dumper=_FastBlockDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=2**31 - 1,
    )
