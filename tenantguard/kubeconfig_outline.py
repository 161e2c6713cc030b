"""A kubeconfig's outline: what a reviewer checks in one, with every credential redacted.

A kubeconfig is secret as a whole only because of its users' credentials. The outline is an
allowlist read from the kubeconfig format itself, not from a list of secret keys: per
cluster its name, `server`, `insecure-skip-tls-verify` and the SHA-256 fingerprint of each
CA certificate (of its DER bytes, as `openssl x509 -noout -fingerprint -sha256` prints it);
every context (name, cluster, user, namespace) and `current-context`; per user only its
name, with every field of its `user` entry (token, client key, password, exec, ...)
redacted. Anything the format may add later is left out until it is named here, so a new
credential field cannot slip into a render. Pure functions, no I/O.

A render meets each kubeconfig several times (its Vault document, the secret scan, the
stack exports), so each text is parsed once (libyaml's parser, PyYAML's constructor) and
the parsed config is shared read-only; `clear_cache` drops what a render parsed.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import ssl
from collections.abc import Mapping
from typing import Any

import yaml

from tenantguard.redact import blank, secret_texts

UNREADABLE = "[unreadable]"
"""The fingerprint shown for CA data that is not base64 PEM."""

_PEM_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----"
)
CLUSTER_FIELDS = ("server", "insecure-skip-tls-verify")
CONTEXT_FIELDS = ("cluster", "user", "namespace")


def parse_kubeconfig(value: Any) -> Mapping[str, Any] | None:
    """The kubeconfig `value` holds (YAML text of `kind: Config`), or None for anything else.

    The result is shared between callers (see the module docstring): read it, never change it.
    """
    if not isinstance(value, str) or "kind" not in value or "clusters" not in value:
        return None
    return _parse_text(value)


@functools.lru_cache(maxsize=1 << 16)
def _parse_text(text: str) -> Mapping[str, Any] | None:
    try:
        config = yaml.load(text, Loader=yaml.CSafeLoader)  # the C parser, the safe constructor
    except yaml.YAMLError:
        return None
    if isinstance(config, Mapping) and config.get("kind") == "Config":
        return config
    return None


def clear_cache() -> None:
    """Forget every parsed kubeconfig (a render calls this when it is done)."""
    _parse_text.cache_clear()
    _fingerprints.cache_clear()


def ca_fingerprints(ca_data: Any) -> list[str]:
    """`SHA256:AB:CD:...` per certificate in `certificate-authority-data` (base64 PEM)."""
    return list(_fingerprints(str(ca_data)))


@functools.lru_cache(maxsize=1 << 10)
def _fingerprints(ca_data: str) -> tuple[str, ...]:
    try:
        pem = base64.b64decode(ca_data, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return (UNREADABLE,)
    found = []
    for block in _PEM_BLOCK.findall(pem):
        try:
            der = ssl.PEM_cert_to_DER_cert(block)
        except ValueError:
            found.append(UNREADABLE)
            continue
        digest = hashlib.sha256(der).hexdigest().upper()
        found.append("SHA256:" + ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)))
    return tuple(found) or (UNREADABLE,)


def _entries(config: Mapping[str, Any], key: str, inner: str) -> list[tuple[Any, Mapping]]:
    entries = config.get(key)
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping):
            body = entry.get(inner)
            found.append((entry.get("name"), body if isinstance(body, Mapping) else {}))
    return found


def _cluster(name: Any, cluster: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"name": name}
    shown.update({key: cluster[key] for key in CLUSTER_FIELDS if key in cluster})
    if "certificate-authority-data" in cluster:
        shown["certificate-authority-sha256"] = ca_fingerprints(
            cluster["certificate-authority-data"]
        )
    if "certificate-authority" in cluster:
        shown["certificate-authority"] = cluster["certificate-authority"]
    return shown


def outline(config: Mapping[str, Any]) -> dict[str, Any]:
    """The outline of a parsed kubeconfig (see the module docstring): credentials redacted."""
    return {
        "clusters": [
            _cluster(name, body) for name, body in _entries(config, "clusters", "cluster")
        ],
        "contexts": [
            {"name": name, **{key: body[key] for key in CONTEXT_FIELDS if key in body}}
            for name, body in _entries(config, "contexts", "context")
        ],
        "current-context": config.get("current-context"),
        "users": [
            {"name": name, "user": blank(body) if body else {}}  # {}: no credential at all
            for name, body in _entries(config, "users", "user")
        ],
    }


def outline_text(value: Any) -> dict[str, Any] | None:
    """The outline of the kubeconfig `value` holds, or None when it holds none."""
    config = parse_kubeconfig(value)
    return None if config is None else outline(config)


def credential_texts(value: Any) -> set[str]:
    """The credential texts of the kubeconfig `value` holds (what its outline redacts)."""
    config = parse_kubeconfig(value)
    if config is None:
        return set()
    found: set[str] = set()
    for _name, body in _entries(config, "users", "user"):
        found |= _all_texts(body)
    return found


def _all_texts(value: Any) -> set[str]:
    if isinstance(value, str):
        return secret_texts(value, marked=True)
    if isinstance(value, Mapping):
        return {text for item in value.values() for text in _all_texts(item)}
    if isinstance(value, list | tuple):
        return {text for item in value for text in _all_texts(item)}
    return set()
