"""Credential shapes in free text: what a pasted token, key or kubeconfig looks like.

The loader runs every string value of a spec through `find_credential`, so a secret
pasted into a description or a Helm value is refused before it reaches a manifest. Each
shape is narrow enough to leave ordinary text and public CA certificates alone: base64
blobs count only when they decode to a private key, Basic credentials only when they
decode to `user:password`.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from components.formats import private_key_at

_TOKEN_CHARS = r"[A-Za-z0-9._~+/=-]"
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_KUBECONFIG_FIELD = re.compile(
    r"(?i)(?<![A-Za-z0-9_-])(token|client-key-data|id-token|refresh-token)[\"']?\s*:\s*[\"']?"
    rf"({_TOKEN_CHARS}{{16,}})"
)
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
_AWS_SECRET = re.compile(
    r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
)
_AZURE_KEY = re.compile(r"(?i)(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{40,}={0,2}")
_GOOGLE_API_KEY = re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])")
_AUTHORIZATION = re.compile(
    rf"(?i)authorization[\"']?\s*[:=]\s*[\"']?(?:basic|bearer)\s+{_TOKEN_CHARS}{{8,}}"
)
_BEARER = re.compile(rf"(?<![A-Za-z])Bearer\s+({_TOKEN_CHARS}{{20,}})")
_BASIC = re.compile(r"(?<![A-Za-z])Basic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])")
_VAULT_TOKEN = re.compile(
    r"(?<![A-Za-z0-9._-])(?:hv[sbr]\.[A-Za-z0-9_-]{20,}|[sbr]\.[A-Za-z0-9]{24})(?![A-Za-z0-9_-])"
)
_GITHUB_TOKEN = re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{60,})")

SHAPES_REFUSED: tuple[str, ...] = (
    "PEM private keys (-----BEGIN ... PRIVATE KEY-----), also base64-encoded",
    "JSON Web Tokens (eyJ....eyJ....signature), such as service-account tokens",
    "kubeconfig credentials: token:, client-key-data:, id-token:, refresh-token:",
    "cloud access keys: AWS key ids (AKIA...) and secret access keys, Azure AccountKey=, "
    "Google API keys (AIza...)",
    "Authorization headers and Basic/Bearer credentials",
    "Vault tokens (hvs., hvb., hvr., and legacy s./b./r. tokens)",
    "GitHub tokens (ghp_..., github_pat_...)",
)
"""The credential shapes the loader refuses in any value, as the README lists them."""


@dataclass(frozen=True)
class Finding:
    """A credential found in a text: what it looks like and where it starts (an offset)."""

    kind: str
    offset: int


def _decodes_to_user_password(encoded: str) -> bool:
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return ":" in text and text.isprintable()


def _looks_random(token: str) -> bool:
    """A credential-like token: letters and digits both, not a word or a setting."""
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def find_credential(text: str) -> Finding | None:
    """The first credential shape in `text`, or None; never returns the credential itself."""
    if len(text) < 8:
        return None
    offset = private_key_at(text)
    if offset is not None:
        return Finding("a PEM private key", offset)
    simple: tuple[tuple[re.Pattern[str], str], ...] = (
        (_JWT, "a JSON Web Token"),
        (_AWS_KEY_ID, "an AWS access key id"),
        (_AWS_SECRET, "an AWS secret access key"),
        (_AZURE_KEY, "an Azure account key"),
        (_GOOGLE_API_KEY, "a Google API key"),
        (_AUTHORIZATION, "an Authorization header"),
        (_VAULT_TOKEN, "a Vault token"),
        (_GITHUB_TOKEN, "a GitHub token"),
    )
    for pattern, kind in simple:
        match = pattern.search(text)
        if match:
            return Finding(kind, match.start())
    for match in _KUBECONFIG_FIELD.finditer(text):
        if _looks_random(match.group(2)):
            return Finding(f"a kubeconfig credential ({match.group(1).lower()}:)", match.start())
    for match in _BEARER.finditer(text):
        if _looks_random(match.group(1)):
            return Finding("a Bearer token", match.start())
    for match in _BASIC.finditer(text):
        if _decodes_to_user_password(match.group(1)):
            return Finding("Basic credentials", match.start())
    return None
