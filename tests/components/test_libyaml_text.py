"""libyaml is taken only where it writes PyYAML's bytes, and what it writes differently is
refused: a changed byte would update every stored kubeconfig and rendered file."""

from __future__ import annotations

import random
import string

import pytest
import yaml

from components.libyaml_text import C_SAFE_DUMPER, MAX_KEY, writes_the_same

pytestmark = pytest.mark.skipif(C_SAFE_DUMPER is None, reason="PyYAML built without libyaml")

ALPHABET = [*string.printable, "é", "\x85", "\u2028", "😀", "\t"]


ODD = ["\t", "\n", "é", "\x85", "\u2028"]
"""Characters that make a text double-quoted (or escaped) in PyYAML's default output."""


def _long(odd: str) -> str:
    """A text long enough to fold, with `odd` in it: where the emitters fold it differs."""
    return "word " * 20 + odd + " tail" * 20


def _both(document: object) -> tuple[str, str]:
    return (
        yaml.dump(document, Dumper=C_SAFE_DUMPER, sort_keys=False),
        yaml.safe_dump(document, sort_keys=False),
    )


@pytest.mark.parametrize("seed", range(3))
def test_what_it_accepts_without_literal_blocks_comes_out_the_same(seed: int) -> None:
    rng = random.Random(seed)
    accepted = 0
    for _ in range(2000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 120)))
        key = text[: rng.randint(1, MAX_KEY)] or "k"
        document = {"a": text, key: [text, {"b": None, "c": 1.5}], "t": True}
        if writes_the_same(document, literal_blocks=False):
            accepted += 1
            fast, reference = _both(document)
            assert fast == reference
    assert accepted > 100  # the accepting side is exercised, not only refusals


@pytest.mark.parametrize(
    "document",
    [*({"k": _long(odd)} for odd in ODD), {"": "x"}, {"k" * 101: 1}],
)
def test_what_libyaml_writes_differently_is_refused(document: dict) -> None:
    assert not writes_the_same(document, literal_blocks=False)


def test_a_line_break_is_accepted_only_with_literal_blocks() -> None:
    assert writes_the_same({"k": "a\nb\n"}, literal_blocks=True)
    assert not writes_the_same({"k": "a\nb\n"}, literal_blocks=False)
    assert not writes_the_same({"k": "a\n\n"}, literal_blocks=True)
    assert not writes_the_same({"a\nb": "x"}, literal_blocks=True), "keys stay on one line"


def test_the_refused_texts_do_differ_between_the_emitters() -> None:
    """The refusals above are needed: each of these comes out differently from libyaml."""
    for document in [*({"k": _long(odd)} for odd in ODD), {"": "x"}]:
        fast, reference = _both(document)
        assert fast != reference, document
