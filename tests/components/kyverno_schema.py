"""Validate manifests against the shared Kyverno CRD schemas (openAPIV3Schema as JSON).

The files are `<group>_<kind lowercased>_<version>.json` in `<shared>/schemas/kyverno/`,
where `<shared>` is `$TENANTGUARD_SHARED_DIR` or the `shared/` directory beside the repo
(how CI lays out a fresh clone). A missing directory is an error, never a skip: these checks
are the only proof that rendered policies are accepted by Kyverno's CRDs.

The API server prunes fields a schema does not know, so every object that lists its
properties is closed here (nearly all already carry `additionalProperties: false`; the root
does not), and a misspelt field fails instead of silently vanishing. The Kubernetes
extensions are applied: `x-kubernetes-preserve-unknown-fields` lifts that
restriction, `x-kubernetes-list-type` `set`/`map` require unique items / unique map keys,
`x-kubernetes-int-or-string` takes either type, and `x-kubernetes-map-type` only governs
merging. Any other `x-kubernetes-*` keyword is refused, so a schema update cannot be
silently half-checked. `metadata` is only `type: object` in a CRD; `metadata_problems`
applies the API server's rules for names, labels and annotations.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft7Validator

SHARED_DIR_ENV = "TENANTGUARD_SHARED_DIR"
_HANDLED = {
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-int-or-string",
}


class SchemaDirectoryMissing(RuntimeError):
    """The shared Kyverno schemas cannot be found."""


def shared_dir() -> Path:
    """`$TENANTGUARD_SHARED_DIR`, else `<repo>/../shared` (a CI clone has shared/ beside it)."""
    configured = os.environ.get(SHARED_DIR_ENV)
    if configured:
        return Path(configured)
    return (Path(__file__).resolve().parents[2] / ".." / "shared").resolve()


def kyverno_schema_dir() -> Path:
    """Where the CRD schemas live (may not exist: see `schema_dir`)."""
    return shared_dir() / "schemas" / "kyverno"


def schema_dir() -> Path:
    """The schema directory; SchemaDirectoryMissing says how to provide it when absent."""
    directory = kyverno_schema_dir()
    if not directory.is_dir() or not any(directory.glob("*.json")):
        raise SchemaDirectoryMissing(
            f"Kyverno CRD schemas not found in {directory}: clone the repository next to "
            f"shared/ (so <clone>/../shared/schemas/kyverno exists) or set {SHARED_DIR_ENV} "
            "to the shared directory"
        )
    return directory


def _list_type(validator: Any, list_type: str, instance: Any, schema: dict[str, Any]) -> Iterator:
    if not validator.is_type(instance, "array") or list_type == "atomic":
        return
    if list_type == "set":
        seen: list[Any] = []
        for item in instance:
            if item in seen:
                yield jsonschema.ValidationError(f"duplicate item {item!r} in a list of type set")
            seen.append(item)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen_keys: set[str] = set()
        for item in instance:
            key = json.dumps([item.get(k) for k in keys] if isinstance(item, dict) else item)
            if key in seen_keys:
                yield jsonschema.ValidationError(f"duplicate map key {key} (keys {keys})")
            seen_keys.add(key)
    else:
        yield jsonschema.ValidationError(f"unknown x-kubernetes-list-type {list_type!r}")


def _int_or_string(
    validator: Any, enabled: bool, instance: Any, schema: dict[str, Any]
) -> Iterator:
    if enabled and not (
        validator.is_type(instance, "integer") or validator.is_type(instance, "string")
    ):
        yield jsonschema.ValidationError(f"{instance!r} is neither an integer nor a string")


CrdValidator = jsonschema.validators.extend(
    Draft7Validator,
    {"x-kubernetes-list-type": _list_type, "x-kubernetes-int-or-string": _int_or_string},
)


def _prepared(node: Any, path: str = "#") -> Any:
    """A copy of the schema with preserve-unknown-fields applied; unknown extensions refused."""
    if isinstance(node, list):
        return [_prepared(item, f"{path}/{i}") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") and key not in _HANDLED:
            raise ValueError(f"{path}: schema keyword {key} is not handled by this validator")
        out[key] = (
            _prepared(value, f"{path}/{key}")
            if key != "properties"
            else {name: _prepared(sub, f"{path}/properties/{name}") for name, sub in value.items()}
        )
    if out.get("x-kubernetes-preserve-unknown-fields") is True:
        out.pop("additionalProperties", None)
    elif "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False  # what the API server would prune, we refuse
    return out


class KyvernoSchemas:
    """The CRD schemas of one directory, looked up by a manifest's apiVersion and kind."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._validators: dict[str, Any] = {}

    def file_for(self, api_version: str, kind: str) -> Path:
        group, _, version = api_version.rpartition("/")
        return self.directory / f"{group}_{kind.lower()}_{version}.json"

    def validator(self, api_version: str, kind: str) -> Any:
        path = self.file_for(api_version, kind)
        key = str(path)
        if key not in self._validators:
            if not path.is_file():
                raise FileNotFoundError(f"no schema for {api_version} {kind}: {path} is missing")
            schema = _prepared(json.loads(path.read_text(encoding="utf-8")))
            CrdValidator.check_schema(schema)
            self._validators[key] = CrdValidator(schema)
        return self._validators[key]

    def problems(self, manifest: dict[str, Any]) -> list[str]:
        """Every schema violation of `manifest` plus its metadata problems, as readable lines."""
        validator = self.validator(manifest["apiVersion"], manifest["kind"])
        found = [
            f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
            for error in validator.iter_errors(manifest)
        ]
        return found + metadata_problems(manifest.get("metadata") or {})


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return f"key {key!r}: the name part is not a qualified name"
    if "/" in key and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return f"key {key!r}: the prefix is not a DNS subdomain"
    return None


def metadata_problems(metadata: dict[str, Any]) -> list[str]:
    """The API server's checks on a policy's name, namespace, labels and annotations."""
    problems: list[str] = []
    name = metadata.get("name", "")
    if not (0 < len(name) <= 253 and _DNS_SUBDOMAIN.match(name)):
        problems.append(f"metadata.name {name!r} is not a DNS subdomain")
    namespace = metadata.get("namespace")
    if namespace is not None and not (len(namespace) <= 63 and _DNS_LABEL.match(namespace)):
        problems.append(f"metadata.namespace {namespace!r} is not a DNS label")
    for key, value in (metadata.get("labels") or {}).items():
        if problem := _key_problem(key):
            problems.append(f"metadata.labels {problem}")
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            problems.append(f"metadata.labels[{key!r}]: {value!r} is not a label value")
    annotations = metadata.get("annotations") or {}
    for key, value in annotations.items():
        if problem := _key_problem(key):
            problems.append(f"metadata.annotations {problem}")
        if not isinstance(value, str):
            problems.append(f"metadata.annotations[{key!r}] is not a string")
    if sum(len(k) + len(str(v)) for k, v in annotations.items()) > 256 * 1024:
        problems.append("metadata.annotations exceed 256 KiB")
    return problems


@functools.cache
def _schemas(directory: Path) -> KyvernoSchemas:
    return KyvernoSchemas(directory)


def validate_kyverno(obj: Mapping[str, Any]) -> None:
    """Raise AssertionError naming the object and every problem if `obj` breaks its CRD."""
    metadata = obj.get("metadata") or {}
    what = f"{obj.get('kind')}/{metadata.get('name')}"
    if not isinstance(obj.get("apiVersion"), str) or not isinstance(obj.get("kind"), str):
        raise AssertionError(f"{what}: apiVersion and kind are required strings")
    problems = _schemas(schema_dir()).problems(dict(obj))
    if problems:
        raise AssertionError(f"{what}: " + "; ".join(problems))
