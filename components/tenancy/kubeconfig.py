"""Kubeconfig for one service account: cluster endpoint + CA + bearer token, one namespace.

Pure functions, no Pulumi. Error messages never contain the token.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import yaml

from components.formats import ca_certificate_problem, https_url_problem
from components.libyaml_text import C_SAFE_DUMPER, writes_the_same


def _dump(config: dict[str, Any]) -> str:
    """`yaml.safe_dump(config, sort_keys=False)`, byte for byte; through libyaml when it
    writes the same (a render writes two kubeconfigs per project, and PyYAML is slow)."""
    if writes_the_same(config, literal_blocks=False):
        return yaml.dump(config, Dumper=C_SAFE_DUMPER, sort_keys=False)
    return yaml.safe_dump(config, sort_keys=False)


class KubeconfigError(ValueError):
    """An input that cannot make a working kubeconfig (never echoes the token)."""


def certificate_authority_data(ca: str) -> str:
    """The kubeconfig `certificate-authority-data`: base64 of the PEM bundle.

    Accepts the PEM itself or its base64 form (what kubeconfigs and cloud APIs hand out).
    """
    text = ca.strip()
    problem = ca_certificate_problem(text)
    if problem is not None:
        raise KubeconfigError(f"cluster CA {problem}")
    if text.startswith("-----BEGIN"):
        return base64.b64encode(text.encode() + b"\n").decode()
    return text


def token_from_secret_data(data: Mapping[str, str] | None) -> str:
    """The bearer token from a service-account-token Secret's `data` (base64-encoded)."""
    encoded = (data or {}).get("token")
    if not encoded:
        raise KubeconfigError(
            "the token Secret has no data.token yet: the service-account token controller "
            "fills it in once the ServiceAccount exists"
        )
    try:
        return base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise KubeconfigError("the token Secret's data.token is not valid base64") from exc


def server_problem(server: str) -> str | None:
    """None if `server` is an https URL with a host, else what is wrong (without the URL:
    component arguments are never echoed)."""
    return https_url_problem(server, shown="the server URL")


def build_kubeconfig(
    *,
    cluster_name: str,
    server: str,
    certificate_authority: str,
    namespace: str,
    user: str,
    token: str,
) -> str:
    """A kubeconfig (YAML) with one cluster, one user (bearer token) and one current context.

    `certificate_authority` is PEM or base64 PEM; `server` must be an https URL.
    """
    if not token:
        raise KubeconfigError(f"service account {user!r}: the token is empty")
    return _kubeconfig(
        cluster_name, server, certificate_authority, namespace, user, {"token": token}
    )


def build_tokenless_kubeconfig(
    *,
    cluster_name: str,
    server: str,
    certificate_authority: str,
    namespace: str,
    user: str,
) -> str:
    """A kubeconfig like `build_kubeconfig`'s whose user has no credential at all.

    For a service account whose tokens expire: the token is minted when needed (Vault's
    `<mount>/creds/<role>`) and handed to kubectl with `--token`.
    """
    return _kubeconfig(cluster_name, server, certificate_authority, namespace, user, {})


def _kubeconfig(
    cluster_name: str,
    server: str,
    certificate_authority: str,
    namespace: str,
    user: str,
    credential: dict[str, str],
) -> str:
    problem = server_problem(server)
    if problem is not None:
        raise KubeconfigError(f"cluster server {server!r} {problem}")
    context = f"{user}@{cluster_name}/{namespace}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {
                    "server": server,
                    "certificate-authority-data": certificate_authority_data(certificate_authority),
                },
            }
        ],
        "users": [{"name": user, "user": credential}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": cluster_name, "user": user, "namespace": namespace},
            }
        ],
        "current-context": context,
        "preferences": {},
    }
    return _dump(config)
