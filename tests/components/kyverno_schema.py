"""Validate Kyverno objects against the CRD schemas in the shared schema directory.

The schemas live outside the repository: `$TENANTGUARD_SHARED_DIR/schemas/kyverno/`,
else `<repo>/../shared/schemas/kyverno/` (how CI lays out a fresh clone). A missing
directory is an error, never a skip: these checks are the only proof that rendered
policies are accepted by Kyverno's CRDs.

CRD schemas leave objects open, and the API server prunes fields it does not know;
here every object that lists its properties is closed (unless it preserves unknown
fields), so a misspelt field fails instead of silently vanishing.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "TENANTGUARD_SHARED_DIR"


class SchemaDirectoryMissing(RuntimeError):
    """The shared Kyverno schemas cannot be found."""


def schema_dir() -> Path:
    """The directory holding `<group>_<kind>_<version>.json` CRD schemas."""
    override = os.environ.get(ENV_VAR)
    base = Path(override) if override else REPO_ROOT.parent / "shared"
    directory = base / "schemas" / "kyverno"
    if not directory.is_dir():
        raise SchemaDirectoryMissing(
            f"Kyverno CRD schemas not found at {directory}; set {ENV_VAR} to the shared "
            "directory (the one holding schemas/kyverno/) or check it out beside the repo"
        )
    return directory


def _closed(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _closed(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@functools.cache
def _schema(filename: str) -> dict[str, Any]:
    path = schema_dir() / filename
    if not path.is_file():
        known = sorted(p.name for p in schema_dir().glob("*.json"))
        raise AssertionError(f"no Kyverno schema {filename}; known: {', '.join(known)}")
    return _closed(json.loads(path.read_text()))


def schema_filename(api_version: str, kind: str) -> str:
    """`kyverno.io/v1` + `ClusterPolicy` -> `kyverno.io_clusterpolicy_v1.json`."""
    group, _, version = api_version.rpartition("/")
    return f"{group}_{kind.lower()}_{version}.json"


def validate_kyverno(obj: Mapping[str, Any]) -> None:
    """Raise AssertionError naming the object and field if `obj` breaks its CRD schema."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    metadata = obj.get("metadata") or {}
    what = f"{kind}/{metadata.get('name')}"
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise AssertionError(f"{what}: apiVersion and kind are required strings")
    if not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise AssertionError(f"{what}: metadata.name is required")
    schema = _schema(schema_filename(api_version, kind))
    body = copy.deepcopy(dict(obj))
    try:
        jsonschema.validate(body, schema, cls=jsonschema.Draft7Validator)
    except jsonschema.ValidationError as exc:
        field = ".".join(str(p) for p in exc.absolute_path) or "<root>"
        raise AssertionError(
            f"{what} breaks {schema_filename(api_version, kind)}: {field}: {exc.message}"
        ) from exc
