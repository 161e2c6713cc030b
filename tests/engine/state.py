"""What the engine stand-in keeps between runs: one entry per resource, like a Pulumi checkpoint.

Values keep Pulumi's secret markers (`rpc.wrap_rpc_secret`), exactly as the engine keeps
them in its state file, so tests can ask whether a stored value is secret and search
what a plaintext checkpoint would reveal.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc

from tests.providers.illumio.dynamic_host import strip_secrets

DYNAMIC_PREFIX = "pulumi-python:dynamic"
PROVIDER_KEY = "__provider"
SECRET_PLACEHOLDER = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"


def redact_secrets(value: Any) -> Any:
    """The value as a plaintext checkpoint shows it: each secret replaced by a placeholder."""
    if rpc.is_rpc_secret(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: redact_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    return value


def annotate_secrets(values: Mapping[str, Any], like: Mapping[str, Any]) -> dict[str, Any]:
    """Re-mark as secret what was secret in `like` (the engine does this to provider replies).

    A provider that does not accept secrets gets plain values back and returns plain
    values; the engine marks a returned property secret when the property of the same
    name (recursively, for maps) was secret in what it sent.
    """
    out: dict[str, Any] = {}
    for key, value in values.items():
        before = like.get(key)
        if rpc.is_rpc_secret(before) and not rpc.is_rpc_secret(value):
            out[key] = rpc.wrap_rpc_secret(value)
        elif isinstance(value, dict) and isinstance(before, dict):
            out[key] = annotate_secrets(value, before)
        else:
            out[key] = value
    return out


def mark_secret(values: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """`additional_secret_outputs`: the named top-level properties wrapped as secrets."""
    wanted = set(keys)
    return {
        k: rpc.wrap_rpc_secret(v) if k in wanted and not rpc.is_rpc_secret(v) else v
        for k, v in values.items()
    }


@dataclass
class ResourceState:
    """One resource in the checkpoint: identity, inputs, outputs and what it depends on."""

    urn: str
    type: str
    name: str
    custom: bool
    id: str = ""
    parent: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    """URNs this resource needs (parent, depends_on, property dependencies, its provider)."""
    additional_secret_outputs: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    protect: bool = False
    retain_on_delete: bool = False
    deleted_with: str = ""
    """The URN whose deletion in the same operation makes this one's Delete unnecessary."""

    @property
    def dynamic(self) -> bool:
        """Managed by a Python dynamic provider (these go through the provider host)."""
        return self.custom and self.type.startswith(DYNAMIC_PREFIX)

    @property
    def plain_outputs(self) -> dict[str, Any]:
        """Outputs without secret markers and without `__provider`."""
        return {k: strip_secrets(v) for k, v in self.outputs.items() if k != PROVIDER_KEY}

    def is_secret(self, key: str) -> bool:
        """Whether output `key` is stored as a secret."""
        return rpc.is_rpc_secret(self.outputs.get(key))

    def provider_pickles(self) -> list[bytes]:
        """The decoded `__provider` blobs stored in inputs and outputs (dill bytes)."""
        blobs = []
        for bag in (self.inputs, self.outputs):
            blob = strip_secrets(bag.get(PROVIDER_KEY))
            if isinstance(blob, str) and blob:
                blobs.append(base64.b64decode(blob))
        return blobs


@dataclass
class StackState:
    """The checkpoint: resources by URN, in the order the engine last wrote them."""

    resources: dict[str, ResourceState] = field(default_factory=dict)

    def copy(self) -> StackState:
        return copy.deepcopy(self)

    def __len__(self) -> int:
        return len(self.resources)

    def get(self, urn: str) -> ResourceState | None:
        return self.resources.get(urn)

    def of_type(self, type_: str) -> list[ResourceState]:
        """Every resource whose type token is `type_` or ends with it (`illumio:Label`)."""
        suffixes = ("/" + type_, ":" + type_)
        return [r for r in self.resources.values() if r.type == type_ or r.type.endswith(suffixes)]

    def named(self, name: str) -> ResourceState:
        """The one resource with this logical name."""
        found = [r for r in self.resources.values() if r.name == name]
        if len(found) != 1:
            raise KeyError(f"expected one resource named {name!r} in the state, found {len(found)}")
        return found[0]

    def dynamic(self) -> list[ResourceState]:
        """Resources managed by dynamic providers, in state order."""
        return [r for r in self.resources.values() if r.dynamic]

    def plaintext(self) -> str:
        """The checkpoint as JSON with every secret redacted: what anyone reading it sees.

        `__provider` blobs are decoded too, so a credential pickled into a provider shows up.
        """
        documents = []
        for resource in self.resources.values():
            documents.append(
                {
                    "urn": resource.urn,
                    "id": resource.id,
                    "inputs": redact_secrets(resource.inputs),
                    "outputs": redact_secrets(resource.outputs),
                    "pickles": [b.decode("latin-1") for b in resource.provider_pickles()],
                }
            )
        return json.dumps(documents, sort_keys=True, default=str)


def deletion_order(resources: Iterable[ResourceState]) -> list[ResourceState]:
    """The order to delete `resources` in: nothing is deleted while another one needs it.

    Ties keep reverse state order, which is how the engine deletes independent resources.
    """
    remaining = list(resources)
    order: list[ResourceState] = []
    while remaining:
        needed = {dep for r in remaining for dep in r.dependencies}
        ready = [r for r in reversed(remaining) if r.urn not in needed]
        if not ready:
            cycle = ", ".join(r.urn for r in remaining)
            raise ValueError(f"dependency cycle among {cycle}")
        order.extend(ready)
        taken = {id(r) for r in ready}
        remaining = [r for r in remaining if id(r) not in taken]
    return order
