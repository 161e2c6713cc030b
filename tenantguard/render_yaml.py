"""The render's YAML text: libyaml's emitter where it writes exactly what PyYAML's would.

`tenantguard.output.to_yaml` (PyYAML's pure-Python emitter) is the reference, and a render
spends most of its file-building time in it. libyaml's emitter is many times faster and
writes the same bytes for the documents a render holds, but not for every possible string
(`components.libyaml_text` says which). A document goes to libyaml only when
`writes_the_same` says so, with literal blocks, since both dumpers here write multi-line
texts as `|` blocks; anything else takes the reference emitter. Same options, same
representers. Pure.
"""

from __future__ import annotations

from typing import Any

import yaml

from components.libyaml_text import C_SAFE_DUMPER, writes_the_same
from tenantguard.output import _text, to_yaml


class _FastBlockDumper(C_SAFE_DUMPER or yaml.SafeDumper):  # type: ignore[misc]
    """`output._BlockDumper` on libyaml's emitter: multi-line text as literal blocks.

    Without libyaml it is never used (`writes_the_same` is then always false); the
    fallback base only keeps the import working."""


_FastBlockDumper.add_representer(str, _text)


def fast_safe(value: Any) -> bool:
    """Whether libyaml writes `value` exactly as `output.to_yaml` does."""
    return writes_the_same(value, literal_blocks=True)


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
