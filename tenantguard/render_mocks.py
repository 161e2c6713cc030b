"""Running the program offline: the config it sees and what the mocks answer in a cloud's place.

No credentials, no network: config comes from the plain values of `Pulumi.<stack>.yaml`
(when present) over safe offline defaults, and the mocks answer for the PCE, Kubernetes,
Helm and Vault with readable placeholders (`<ContainerCluster cluster.href>`), so a file
that references another resource says which one.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from tenantguard.render_layout import HELM_RELEASE, ILLUMIO_PREFIX

SPEC_KEY = "tenantguard:spec"
OFFLINE_DEFAULTS: dict[str, str] = {
    "illumio:pceUrl": "https://pce.offline.invalid:8443",
    "kubernetes:context": "tenantguard-offline-render",
    "vault:address": "https://vault.offline.invalid:8200",
}
"""Config used when the stack file does not set it: valid, but pointing nowhere."""

PLACEHOLDER_TOKEN = "<service-account token>"
"""What a token Secret's data.token decodes to in a render (the real one exists only later)."""


def offline_config(
    stack: str,
    stack_values: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Offline defaults, then the stack file's plain values, then explicit overrides."""
    config = {SPEC_KEY: stack, **OFFLINE_DEFAULTS}
    config.update(stack_values)
    config.update(overrides or {})
    return config


def _reference(kind: str, name: str, output: str) -> str:
    return f"<{kind} {name}.{output}>"


def placeholder_outputs(args: MockResourceArgs) -> dict[str, Any] | None:
    """Readable outputs for what only a real cloud would fill in (hrefs, tokens, status)."""
    if args.typ.startswith(ILLUMIO_PREFIX):
        kind = args.typ[len(ILLUMIO_PREFIX) :]
        outputs: dict[str, Any] = {"href": _reference(kind, args.name, "href")}
        if kind == "ContainerCluster":
            outputs["cluster_id"] = _reference(kind, args.name, "cluster_id")
            outputs["container_cluster_token"] = _reference(
                kind, args.name, "container_cluster_token"
            )
            outputs["online"] = False
        elif kind == "PairingKey":
            outputs["activation_code"] = _reference(kind, args.name, "activation_code")
        elif kind == "ContainerWorkloadProfile":
            outputs["linked"] = False
        return outputs
    if args.typ == "kubernetes:core/v1:Secret":
        secret_type = args.inputs.get("type")
        if secret_type == "kubernetes.io/service-account-token":
            token = base64.b64encode(PLACEHOLDER_TOKEN.encode()).decode("ascii")
            return {"data": {"token": token}}
        return None
    if args.typ == HELM_RELEASE:
        return {
            "status": {
                "name": args.inputs.get("name") or args.name,
                "namespace": args.inputs.get("namespace") or "default",
                "chart": args.inputs.get("chart"),
                "version": args.inputs.get("version"),
                "appVersion": "",
                "revision": 1,
                "status": "rendered-offline",
            }
        }
    return None
