"""The value formats tenantguard accepts, each rule written once: https URLs, PEM CA
certificates, base64 CA data and pinned chart versions, and the private keys it never
accepts. The spec, the components' argument models and the kubeconfig builder all call
these, so a value one of them accepts is never refused by another.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from urllib.parse import urlsplit

PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_BASE64_PEM = re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=\s]*")
PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----"
)
EXACT_VERSION = re.compile(
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)

PINNED_VERSION_RULE = "an exact chart version such as 5.3.0 (no ranges such as ^5 or 5.x)"
HTTPS_URL_RULE = "an https URL with a host and optional port, such as https://k8s-api.example:6443"
PEM_RULE = (
    "PEM text holding at least one CA certificate "
    "(-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)"
)
CA_DATA_RULE = (
    "the base64 of the cluster CA certificate in PEM, as in a kubeconfig's "
    "certificate-authority-data"
)


def private_key_at(text: str) -> int | None:
    """Where a PEM private key starts in `text`, in the clear or base64-encoded, or None."""
    match = PRIVATE_KEY.search(text)
    if match:
        return match.start()
    for blob in _BASE64_PEM.finditer(text):
        compact = "".join(blob.group().split())
        compact = compact[: len(compact) - len(compact) % 4]
        try:
            decoded = base64.b64decode(compact, validate=False).decode("ascii", "replace")
        except (binascii.Error, ValueError):
            continue
        if PRIVATE_KEY.search(decoded):
            return blob.start()
    return None


def holds_private_key(text: str) -> bool:
    """Whether a text carries a PEM private key, in the clear or base64-encoded."""
    return private_key_at(text) is not None


def check_pinned_version(value: str | None) -> str | None:
    """`value` if it is an exact chart version (or None); raises ValueError otherwise."""
    if value is not None and not EXACT_VERSION.match(value):
        raise ValueError(f"{value!r} is not pinned; allowed: {PINNED_VERSION_RULE}")
    return value


def https_url_problem(value: str, *, shown: str | None = None) -> str | None:
    """What is wrong with `value` as an https URL with a host, or None.

    The message names the value as `shown` (default: the value itself, quoted); a URL
    carrying credentials is refused without echoing it.
    """
    shown = repr(value) if shown is None else shown
    parts = urlsplit(value)
    if parts.username or parts.password:
        return (
            "must not carry credentials (user:password@): give the URL only and keep "
            "credentials in Pulumi config set with --secret"
        )
    if parts.scheme != "https" or not parts.hostname:
        return f"{shown} is not an https URL with a host"
    if parts.query or parts.fragment:
        return f"{shown} must not have a query or fragment; allowed: {HTTPS_URL_RULE}"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"{shown} has an invalid port; allowed: {HTTPS_URL_RULE}"
    return None


def check_https_url(value: str) -> str:
    """`value` if it is an https URL with a host; raises ValueError otherwise."""
    problem = https_url_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def pem_certificates_problem(value: str) -> str | None:
    """What is wrong with `value` as PEM CA certificates (public only), or None."""
    if holds_private_key(value):
        return (
            "holds a private key; a CA bundle is public certificates only: remove the key "
            "from this file and rotate it"
        )
    blocks = PEM_CERTIFICATE.findall(value)
    if not blocks:
        return f"is not {PEM_RULE}"
    for block in blocks:
        try:
            base64.b64decode("".join(block.split()), validate=True)
        except binascii.Error:
            return f"has a certificate whose body is not base64; allowed: {PEM_RULE}"
    return None


def check_pem_certificates(value: str | None) -> str | None:
    """`value` if it is PEM CA certificates (or None); raises ValueError otherwise."""
    problem = None if value is None else pem_certificates_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def ca_data_problem(value: str) -> str | None:
    """What is wrong with `value` as base64 of a PEM CA certificate, or None."""
    try:
        decoded = base64.b64decode("".join(value.split()), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return f"is not base64 text; allowed: {CA_DATA_RULE}"
    if holds_private_key(decoded):
        return (
            "decodes to a private key; caData is the public CA certificate only: remove the "
            "key from this file and rotate it"
        )
    if not PEM_CERTIFICATE.search(decoded):
        return f"does not decode to a PEM certificate; allowed: {CA_DATA_RULE}"
    return None


def check_ca_data(value: str | None) -> str | None:
    """`value` if it is base64 of a PEM CA certificate (or None); raises ValueError otherwise."""
    problem = None if value is None else ca_data_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def ca_certificate_problem(value: str) -> str | None:
    """What is wrong with `value` as a cluster CA given either as PEM or as base64 PEM."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return pem_certificates_problem(text)
    return ca_data_problem(text)


def check_cidr(value: str) -> str | None:
    """None if `value` is a network in CIDR form (address/prefix), else the reason it is not.

    A bare address is refused rather than read as /32: in an egress baseline that is
    more often a forgotten prefix than a single host.
    """
    if "/" not in value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return f"{value!r} is not a CIDR network; use a form such as 10.0.0.0/8"
        return f"{value!r} has no prefix length; write {value}/32 for one host, or its network"
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        return f"{value!r} is not a valid CIDR network ({exc}); use a form such as 10.0.0.0/8"
    return None
