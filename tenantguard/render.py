"""Offline render: run the Pulumi program under mocks and write what it would create as files.

No credentials, no network: config comes from the plain values of `Pulumi.<stack>.yaml`
(when present) over safe offline defaults, and the mocks answer for the PCE, Kubernetes,
Helm and Vault with readable placeholders (`<ContainerCluster cluster.href>`). The files
are deterministic (sorted keys, stable paths, no timestamps), so CI can diff two branches:

    kubernetes/<namespace or _cluster>/<Kind>-<name>.yaml   manifests, Kyverno policies too
    illumio/<Type>-<logical name>.json                      PCE objects (inputs, PCE body)
    vault/<mount>/<path>.json                               Vault KV paths, values redacted
    helm/<release>.yaml                                     Helm releases, secrets redacted
    stack-outputs.json                                      stack exports, secrets redacted
    resources.txt                                           the resource tree and a summary

Secrets never reach a file: Pulumi's secret markers are redacted, and every known secret
text (marked values, secret outputs, secret-looking config) is scrubbed from the rest.
The files are written into a temporary sibling that replaces the output directory only
once all of them are written (`tenantguard.render_output`), so a failed render leaves
the previous output as it was. File names are bounded in length whatever the spec says.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from tenantguard.output import to_json, to_yaml
from tenantguard.recording_mocks import OutputsHook, Recording, Registered, run_mocked
from tenantguard.redact import (
    REDACTED,
    Scrubber,
    blank,
    is_secret,
    redact,
    scrub,
    secret_texts,
    unwrap,
)
from tenantguard.render_output import (
    MARKER_NAME,
    RenderedFile,
    RenderError,
    check_target,
    replace_directory,
)
from tenantguard.stack_config import find_project_dir, load_stack_config, project_name

DEFAULT_PROJECT = "tenantguard"
SPEC_KEY = "tenantguard:spec"
OFFLINE_DEFAULTS: dict[str, str] = {
    "illumio:pceUrl": "https://pce.offline.invalid:8443",
    "kubernetes:context": "tenantguard-offline-render",
    "vault:address": "https://vault.offline.invalid:8200",
}
"""Config used when the stack file does not set it: valid, but pointing nowhere."""

ILLUMIO_PREFIX = "pulumi-python:dynamic/illumio:"
KUBERNETES_PREFIX = "kubernetes:"
VAULT_PREFIX = "vault:"
PROVIDER_PREFIX = "pulumi:providers:"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET_KINDS = frozenset({"Secret"})
SECRET_DATA_KEYS = ("data", "stringData")
VAULT_DATA_KEYS = ("dataJson", "data", "data_json")
SECRET_CONFIG_KEY = re.compile(r"secret|token|passw|kubeconfig|credential|private", re.I)

PLACEHOLDER_TOKEN = "<service-account token>"
"""What a token Secret's data.token decodes to in a render (the real one exists only later)."""

MAX_SEGMENT = 96
"""The longest file-name segment a render writes; longer names keep a prefix and a hash."""
_UNSAFE_SEGMENT = re.compile(r"[^A-Za-z0-9._@=+-]")
STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class RenderResult:
    """What a render produced: where, which files, the tree and the per-type counts."""

    stack: str
    out_dir: Path
    files: tuple[str, ...]
    tree: str
    counts: dict[str, int]

    @property
    def summary(self) -> str:
        """One line: total resources and the count of each type."""
        return summary_line(self.counts)


# ----------------------------------------------------------------------------- config


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


def config_secrets(config: Mapping[str, str]) -> set[str]:
    """Config values whose key names a secret (a plaintext apiSecret in a stack file)."""
    return {
        value
        for key, value in config.items()
        if SECRET_CONFIG_KEY.search(key.rsplit(":", 1)[-1]) and isinstance(value, str)
    }


# ------------------------------------------------------------------------------ mocks


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


def default_program(stacks_dir: Path | None = None) -> Callable[[], Any]:
    """tenantguard's Pulumi program (`tenantguard.program.main`), reading specs from
    `stacks_dir` when given."""
    from tenantguard.program import main

    if stacks_dir is None:
        return main
    return functools.partial(main, spec_directory=stacks_dir)


# --------------------------------------------------------------------- pure rendering


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
    name = unwrap(inputs.get("name")) or resource.name
    return f"helm/{_segment(str(name))}.yaml", redact(inputs)


def _vault_data(value: Any) -> Any:
    """A Vault secret's data with every value redacted (the key names stay)."""
    inner = unwrap(value)
    if isinstance(inner, str):
        try:
            inner = json.loads(inner)
        except ValueError:
            return REDACTED
    return blank(inner)


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
            document["data"] = _vault_data(item)
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


def collect_secrets(recording: Recording, config: Mapping[str, str] | None = None) -> set[str]:
    """Every secret text the run saw: marked values, secret outputs, exports and config."""
    found = config_secrets(config or {})
    for resource in recording.resources:
        found |= secret_texts(resource.inputs) | secret_texts(resource.outputs)
        for name in resource.additional_secret_outputs:
            if name in resource.outputs:
                found |= secret_texts(resource.outputs[name], marked=True)
    for key in recording.secret_exports:
        found |= secret_texts(recording.exports.get(key), marked=True)
    return found


def _stack_outputs(recording: Recording) -> dict[str, Any]:
    return {
        key: blank(value) if key in recording.secret_exports else redact(normalise(value))
        for key, value in recording.exports.items()
    }


def _sort_key(resource: Registered) -> tuple[str, str, str]:
    return (resource.type, resource.name, resource.urn)


def resource_tree(recording: Recording) -> list[str]:
    """`type name` per resource, children indented under their parent, siblings sorted."""
    known = {resource.urn for resource in recording.resources}
    children: dict[str, list[Registered]] = {}
    roots: list[Registered] = []
    for resource in recording.resources:
        if resource.parent in known:
            children.setdefault(resource.parent, []).append(resource)
        else:
            roots.append(resource)
    lines: list[str] = []

    def walk(items: list[Registered], depth: int) -> None:
        for resource in sorted(items, key=_sort_key):
            lines.append(f"{'  ' * depth}{resource.type} {resource.name}")
            walk(children.get(resource.urn, []), depth + 1)

    walk(roots, 0)
    return lines


def type_counts(recording: Recording) -> dict[str, int]:
    """How many resources of each type, by type token."""
    return dict(sorted(Counter(resource.type for resource in recording.resources).items()))


def summary_line(counts: Mapping[str, int]) -> str:
    """`N resources: 3 <type>, 1 <type>, ...` with types in alphabetical order."""
    total = sum(counts.values())
    parts = ", ".join(f"{count} {type_}" for type_, count in sorted(counts.items()))
    noun = "resource" if total == 1 else "resources"
    return f"{total} {noun}: {parts}" if parts else f"{total} {noun}"


def render_files(recording: Recording, secrets: Iterable[str] = ()) -> list[RenderedFile]:
    """Every output file's path and text, sorted by path, secrets removed. Pure."""
    scrub_secrets = Scrubber(secrets)
    owners: dict[str, str] = {}
    files: list[RenderedFile] = []
    for resource in sorted(recording.resources, key=_sort_key):
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
        text = to_json(document) if fmt == "json" else to_yaml(document, sort_keys=True)
        files.append(RenderedFile(path, text))
    files.append(
        RenderedFile("stack-outputs.json", to_json(scrub_secrets(_stack_outputs(recording))))
    )
    tree = [*resource_tree(recording), "", summary_line(type_counts(recording))]
    files.append(RenderedFile("resources.txt", scrub_secrets("\n".join(tree) + "\n")))
    return sorted(files, key=lambda f: f.path)


# ------------------------------------------------------------------- output directory


def prepare_directory(directory: Path) -> None:
    """Refuse an output directory a render may not replace (see `render_output.check_target`)."""
    check_target(directory)


def write_files(directory: Path, files: Iterable[RenderedFile]) -> list[str]:
    """Write `files` as the whole new content of `directory`, atomically; the paths written."""
    return replace_directory(directory, files)


# ----------------------------------------------------------------------------- entry


def render_stack(
    stack: str,
    *,
    out_dir: Path | None = None,
    project_dir: Path | None = None,
    stacks_dir: Path | None = None,
    program: Callable[[], Any] | None = None,
    config_overrides: Mapping[str, str] | None = None,
    outputs_hook: OutputsHook | None = None,
) -> RenderResult:
    """Render `stack` offline into `out_dir` (default `./render/<stack>`).

    `stacks_dir` is where the spec is read from (default: the `stacks` package);
    `program`, `config_overrides` and `outputs_hook` let tests swap what runs and answers.

    The program loads and validates the spec before it registers anything (a bad one
    ends as `pulumi.RunError` listing every problem), every file is built in memory, and
    the directory is replaced whole only once every file is written.
    """
    if not STACK_NAME.fullmatch(stack):
        raise RenderError(
            f"stack name {stack!r} is not allowed; allowed: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    directory = project_dir if project_dir is not None else find_project_dir()
    stack_config = load_stack_config(stack, directory)
    project = (project_name(directory) if directory is not None else None) or DEFAULT_PROJECT
    config = offline_config(stack, stack_config.values, config_overrides)
    recording = run_mocked(
        program or default_program(stacks_dir),
        outputs_hook=outputs_hook or placeholder_outputs,
        config=config,
        stack=stack,
        project=project,
    )
    secrets = collect_secrets(recording, config)
    files = render_files(recording, secrets)
    target = out_dir if out_dir is not None else Path("render") / stack
    prepare_directory(target)
    written = write_files(target, files)
    tree = "\n".join(resource_tree(recording))
    return RenderResult(
        stack=stack,
        out_dir=target,
        files=tuple(written),
        tree=scrub(tree, secrets),
        counts=type_counts(recording),
    )


__all__ = [
    "MARKER_NAME",
    "OFFLINE_DEFAULTS",
    "RenderError",
    "RenderResult",
    "RenderedFile",
    "collect_secrets",
    "offline_config",
    "placeholder_outputs",
    "prepare_directory",
    "render_files",
    "render_stack",
    "resource_tree",
]
