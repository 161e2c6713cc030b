"""The render's fast YAML path writes exactly what `output.to_yaml` writes, or is not taken."""

from __future__ import annotations

import random
import string

import pytest

from tenantguard.output import to_yaml
from tenantguard.render_yaml import fast_safe, render_yaml

TRICKY = ["yes", "null", "1e3", "0x1F", "-", "---", "...", "~", "", " a", "a ", "12:30", "*a"]
ALPHABET = [*"ab: -#'\"\n\n {}[],&*!|>%@`?~=\\.09yYnN", *string.printable, "é", "\x85", "😀"]


def _document(rng: random.Random) -> dict:
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))
    other = rng.choice(TRICKY) + text[: rng.randint(0, 5)]
    return {
        "k": text,
        text or "e": [text, {"x": text, "y": other}, [text, other], []],
        other: {},
        "n": 1.5,
        "b": True,
        "z": None,
        "i": -3,
        "last": rng.choice([text, other, 1, [text], {"q": text}]),
    }


@pytest.mark.parametrize("seed", range(4))
def test_render_yaml_is_to_yaml_byte_for_byte(seed: int) -> None:
    rng = random.Random(seed)
    fast = 0
    for _ in range(1500):
        document = _document(rng)
        fast += fast_safe(document)
        assert render_yaml(document) == to_yaml(document, sort_keys=True)
    assert fast > 100  # the fast path is exercised, not only the fallback


@pytest.mark.parametrize(
    "document",
    [{"": "x"}, {"k": "😀"}, {"k": "a\x85b"}, {"k": "\n"}, {"k": "a\n\n"}, {"k" * 101: 1}],
)
def test_what_libyaml_writes_differently_takes_the_reference_emitter(document: dict) -> None:
    assert not fast_safe(document)
    assert render_yaml(document) == to_yaml(document, sort_keys=True)
