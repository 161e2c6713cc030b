"""Secret-marker aware redaction of recorded Pulumi values, for everything tenantguard writes.

Pulumi marks a secret value on the wire as `{SECRET_SIG_KEY: SECRET_SIG, "value": ...}`.
`redact` replaces every marked value with `REDACTED` while keeping the shape of secret
mappings and lists (their keys are not secret, and a diff should show a key appear), and
`scrub` is the second line of defence: it removes known secret texts wherever they
surface unmarked (a token copied into a kubeconfig, a secret output echoed elsewhere).
Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
"""The key that marks a special value on Pulumi's wire (`pulumi.runtime.rpc._special_sig_key`)."""

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""The signature of a secret value (`pulumi.runtime.rpc._special_secret_sig`)."""

REDACTED = "[secret]"
"""What a secret value is replaced with."""

MIN_SCRUB_LENGTH = 6
"""Shorter secret texts are only redacted where marked: scrubbing them as substrings would
mangle ordinary words (a secret `true` or `dev` must not erase every `true` and `dev`)."""


def is_secret(value: Any) -> bool:
    """Whether `value` is a Pulumi secret marker dict."""
    return isinstance(value, Mapping) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def unwrap(value: Any) -> Any:
    """The plain value inside a secret marker (recursively), or `value` itself."""
    while is_secret(value):
        value = value.get("value")
    return value


def blank(value: Any) -> Any:
    """`value` with every non-null scalar replaced by REDACTED; mapping keys and nulls kept."""
    value = unwrap(value)
    if isinstance(value, Mapping):
        return {str(key): blank(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [blank(item) for item in value]
    return None if value is None else REDACTED


def redact(value: Any) -> Any:
    """`value` with every secret-marked part blanked (see `blank`); the rest unchanged."""
    if is_secret(value):
        return blank(value)
    if isinstance(value, Mapping):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


SECRET_KEY = re.compile(
    r"token|secret|passw|kubeconfig|credential|activation|cluster_code|pairing_key|private",
    re.IGNORECASE,
)
"""Keys whose text values are secret when they sit inside a secret mapping."""


def secret_texts(value: Any, *, marked: bool = False) -> set[str]:
    """The secret texts inside `value`, to `scrub` from anything written or printed.

    A secret-marked text counts whole (with its base64-decoded form). A secret-marked
    mapping is not taken apart wholesale: it often bundles public settings with the secret
    ones (Helm values holding a token next to `networkType`), and scrubbing those public
    words everywhere would corrupt the output; only its texts under keys that name a
    secret (`token`, `cluster_code`, `kubeconfig`, ...) count. `marked=True` treats
    `value` as if it were marked (an output listed in `additional_secret_outputs`).
    """
    if is_secret(value):
        return secret_texts(unwrap(value), marked=True)
    found: set[str] = set()
    if isinstance(value, str):
        if marked and value:
            found.add(value)
            decoded = _base64_text(value)
            if decoded:
                found.add(decoded)
        return found
    if isinstance(value, Mapping):
        for key, item in value.items():
            if is_secret(item) or not marked:
                found |= secret_texts(item)
            elif isinstance(item, str):
                if SECRET_KEY.search(str(key)):
                    found |= secret_texts(item, marked=True)
            else:
                found |= _under_secret_key(item, SECRET_KEY.search(str(key)) is not None)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= secret_texts(item) if not marked else _under_secret_key(item, False)
    return found


def _under_secret_key(value: Any, secret_key: bool) -> set[str]:
    """Texts of a container nested in a secret one: all of them under a secret-named key."""
    if secret_key:
        found: set[str] = set()
        for text in _texts(value):
            found |= secret_texts(text, marked=True)
        return found
    if isinstance(value, Mapping | list | tuple):
        return secret_texts(value, marked=True)
    return set()


def _texts(value: Any) -> list[str]:
    value = unwrap(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    return []


class Scrubber:
    """Removes known secret texts from strings; built once, applied to many values.

    The secrets are ordered once (longest first, so a secret containing another is
    replaced whole) and indexed by length, so a string is only searched for secrets that
    could fit in it. A render with thousands of secrets and strings stays near-linear.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        usable = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SCRUB_LENGTH}
        self._ordered = sorted(usable, key=lambda s: (-len(s), s))
        self._negative_lengths = [-len(secret) for secret in self._ordered]  # ascending

    def text(self, text: str) -> str:
        """`text` with every occurrence of a secret (at least MIN_SCRUB_LENGTH long) replaced."""
        first_that_fits = bisect.bisect_left(self._negative_lengths, -len(text))
        for secret in self._ordered[first_that_fits:]:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __call__(self, value: Any) -> Any:
        """`value` with known secret texts removed from every string in it, keys included."""
        if not self._ordered:
            return value
        return self._walk(value)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self._walk(key): self._walk(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._walk(item) for item in value]
        return value


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """`value` with known secret texts removed from every string in it, keys included."""
    return Scrubber(secrets)(value)


def _base64_text(value: str) -> str | None:
    if len(value) < 8 or len(value) % 4:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text if text.isprintable() or "\n" in text else None
