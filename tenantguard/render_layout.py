"""The render's files: which resource becomes which file, and what the file says. Pure.

    kubernetes/<namespace or _cluster>/<Kind>-<name>.yaml   manifests, Kyverno policies too
    illumio/<Type>-<logical name>.json                      PCE objects (inputs, PCE body)
    vault/<mount>/<path>.json                               Vault KV paths, secret fields redacted
    helm/<release>.yaml                                     Helm releases, secret values redacted
    stack-outputs.json                                      stack exports, secrets redacted
    resources.txt                                           the resource tree and a summary

Every document is deterministic (sorted keys, stable paths, no timestamps), so CI can diff
two branches. Which fields are secret is `tenantguard.render_secrets`'s business; every
file is also scrubbed of every known secret text. File names are bounded in length
whatever the spec says.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from tenantguard.output import to_json
from tenantguard.recording_mocks import Recording, Registered
from tenantguard.redact import REDACTED, Scrubber, blank, is_secret, redact, unwrap
from tenantguard.render_output import RenderedFile, RenderError
from tenantguard.render_secrets import (
    HELM_RELEASE,
    VAULT_DATA_KEYS,
    VAULT_PREFIX,
    helm_values,
    secret_export,
    vault_data,
)
from tenantguard.render_summary import sort_key, tree_text
from tenantguard.render_yaml import render_yaml

ILLUMIO_PREFIX = "pulumi-python:dynamic/illumio:"
KUBERNETES_PREFIX = "kubernetes:"
PROVIDER_PREFIX = "pulumi:providers:"
SECRET_KINDS = frozenset({"Secret"})
SECRET_DATA_KEYS = ("data", "stringData")

MAX_SEGMENT = 96
"""The longest file-name segment a render writes; longer names keep a prefix and a hash."""
_UNSAFE_SEGMENT = re.compile(r"[^A-Za-z0-9._@=+-]")


def normalise(value: Any) -> Any:
    """Plain JSON data: integral floats as ints (Pulumi's wire has only doubles), markers
    kept for `redact`, SDK objects (assets, unknowns) as short readable text."""
    if is_secret(value):
        return {**value, "value": normalise(value.get("value"))}
    if isinstance(value, Mapping):
        return {str(key): normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    path = getattr(value, "path", None)
    if isinstance(path, str):
        return f"<{type(value).__name__} {path}>"
    return f"<{type(value).__name__}>"


def _clean_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {key: normalise(item) for key, item in inputs.items() if not key.startswith("__")}


def _segment(text: str) -> str:
    """`text` as one safe file-name segment: bounded, so no user text makes it too long."""
    cleaned = _UNSAFE_SEGMENT.sub("_", text).strip(".") or "_"
    if len(cleaned) <= MAX_SEGMENT:
        return cleaned
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{cleaned[: MAX_SEGMENT - 17]}-{digest}"


def _kubernetes_file(resource: Registered) -> tuple[str, dict[str, Any]] | None:
    manifest = _clean_inputs(resource.inputs)
    kind = unwrap(manifest.get("kind"))
    if not isinstance(kind, str) or not unwrap(manifest.get("apiVersion")):
        return None
    metadata = unwrap(manifest.get("metadata"))
    metadata = metadata if isinstance(metadata, Mapping) else {}
    name = unwrap(metadata.get("name")) or resource.name
    namespace = unwrap(metadata.get("namespace")) or "_cluster"
    if kind in SECRET_KINDS:
        for key in SECRET_DATA_KEYS:
            if key in manifest:
                manifest[key] = blank(manifest[key])
    path = f"kubernetes/{_segment(str(namespace))}/{_segment(kind)}-{_segment(str(name))}.yaml"
    return path, redact(manifest)


def _helm_file(resource: Registered) -> tuple[str, dict[str, Any]]:
    inputs = _clean_inputs(resource.inputs)
    inputs.pop("compat", None)
    repository = unwrap(inputs.get("repositoryOpts"))
    if isinstance(repository, Mapping) and "password" in repository:
        inputs["repositoryOpts"] = {**repository, "password": REDACTED}
    if "values" in inputs:
        inputs["values"] = helm_values(resource, inputs["values"])
    name = unwrap(inputs.get("name")) or resource.name
    return f"helm/{_segment(str(name))}.yaml", redact(inputs)


def _vault_file(resource: Registered) -> tuple[str, dict[str, Any]] | None:
    inputs = _clean_inputs(resource.inputs)
    mount, name, path = (unwrap(inputs.get(k)) for k in ("mount", "name", "path"))
    if isinstance(mount, str) and isinstance(name, str):
        full = f"{mount}/{name}"
    elif isinstance(path, str):
        full = path
    else:
        return None
    parts = [part for part in PurePosixPath(full).parts if part not in ("/", "")]
    if not parts or any(part in (".", "..") for part in parts):
        raise RenderError(f"Vault path {full!r} of {resource.name!r} is not a relative path")
    document: dict[str, Any] = {}
    for key, item in inputs.items():
        if key in VAULT_DATA_KEYS:
            document["data"] = vault_data(resource, item)
        else:
            document[key] = item
    segments = [_segment(part) for part in parts]
    return "vault/" + "/".join(segments) + ".json", redact(document)


def illumio_payload(kind: str, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The exact PCE request body, where `providers.illumio` builds it in a pure function."""
    if kind == "ContainerWorkloadProfile":
        from providers.illumio.workload_profile import normal_inputs, profile_body

        return profile_body(normal_inputs(inputs))
    if kind == "PairingProfile":
        from providers.illumio.pairing import pairing_profile_body, pairing_profile_inputs

        return pairing_profile_body(pairing_profile_inputs(inputs))
    return None


def _illumio_file(resource: Registered) -> tuple[str, dict[str, Any]]:
    kind = resource.type[len(ILLUMIO_PREFIX) :]
    inputs = redact(_clean_inputs(resource.inputs))
    document: dict[str, Any] = {"type": kind, "name": resource.name, "inputs": inputs}
    body = illumio_payload(kind, inputs)
    if body is not None:
        document["pce_body"] = body
    return f"illumio/{_segment(kind)}-{_segment(resource.name)}.json", document


def _file_for(resource: Registered) -> tuple[str, dict[str, Any], str] | None:
    """(path, document, format) for a resource that has a file; None for the rest."""
    if not resource.custom or resource.type.startswith(PROVIDER_PREFIX):
        return None
    if resource.type.startswith(ILLUMIO_PREFIX):
        return (*_illumio_file(resource), "json")
    if resource.type == HELM_RELEASE:
        return (*_helm_file(resource), "yaml")
    if resource.type.startswith(KUBERNETES_PREFIX):
        found = _kubernetes_file(resource)
        return (*found, "yaml") if found else None
    if resource.type.startswith(VAULT_PREFIX):
        found = _vault_file(resource)
        return (*found, "json") if found else None
    return None


def stack_outputs(recording: Recording) -> dict[str, Any]:
    """The exports: plain ones as they are, secret ones blanked (kubeconfigs outlined)."""
    return {
        key: secret_export(value) if key in recording.secret_exports else redact(normalise(value))
        for key, value in recording.exports.items()
    }


def render_files(recording: Recording, secrets: Iterable[str] = ()) -> list[RenderedFile]:
    """Every output file's path and text, sorted by path, secrets removed. Pure."""
    scrub_secrets = Scrubber(secrets)
    owners: dict[str, str] = {}
    files: list[RenderedFile] = []
    for resource in sorted(recording.resources, key=sort_key):
        found = _file_for(resource)
        if found is None:
            continue
        path, document, fmt = found
        if path in owners:
            raise RenderError(
                f"{resource.type} {resource.name!r} and {owners[path]!r} would both be written "
                f"to {path}; give them different names"
            )
        owners[path] = resource.name
        document = scrub_secrets(document)
        text = to_json(document) if fmt == "json" else render_yaml(document)
        files.append(RenderedFile(path, text))
    files.append(
        RenderedFile("stack-outputs.json", to_json(scrub_secrets(stack_outputs(recording))))
    )
    files.append(RenderedFile("resources.txt", scrub_secrets(tree_text(recording))))
    return sorted(files, key=lambda f: f.path)
