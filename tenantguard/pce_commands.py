"""`tenantguard pce ...`: read-only looks at the PCE (clusters, profiles, labels, backends).

Connection settings come from `PceSettings.load`, exactly as the dynamic providers read
them: the plain values of `Pulumi.<stack>.yaml` when `--stack` is given, then the
`ILLUMIO_*` environment variables (the API secret is always `secure:` in a stack file,
so it comes from `ILLUMIO_API_SECRET`). Every failure is one readable message saying
what to do, never a traceback and never the secret.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from providers.illumio.client import PceClient
from providers.illumio.errors import IllumioManagerError, PceNotFoundError
from providers.illumio.models import (
    ClusterRecord,
    LabelRecord,
    ServiceBackend,
    WorkloadProfileRecord,
)
from providers.illumio.settings import PceSettings
from tenantguard.output import emit, format_fields, format_table, to_json
from tenantguard.redact import REDACTED
from tenantguard.stack_config import StackConfigError, load_stack_config

CLUSTER_HREF_PREFIX = "/orgs/"


class PceCommandError(Exception):
    """A user-facing failure of a pce command (exit status 1)."""


@dataclass(frozen=True)
class PceOptions:
    """What every pce command shares: where settings come from and how to print."""

    output: str = "table"
    stack: str | None = None
    project_dir: Path | None = None


def load_settings(options: PceOptions, env: Mapping[str, str] | None = None) -> PceSettings:
    """Settings from the stack's plain config (with --stack) and the environment."""
    config: dict[str, str] = {}
    if options.stack is not None:
        try:
            stack_config = load_stack_config(options.stack, options.project_dir)
        except StackConfigError as exc:
            raise PceCommandError(str(exc)) from None
        if stack_config.path is None:
            raise PceCommandError(
                f"no Pulumi.{options.stack}.yaml found for --stack {options.stack} "
                "(run from the Pulumi project directory or pass --project-dir)"
            )
        config = stack_config.values
    return PceSettings.load(config=config, env=env)


def run(options: PceOptions, command: Callable[[PceClient, PceOptions], None]) -> int:
    """Load settings, run `command` with a client, and turn every failure into one message."""
    secrets: tuple[str, ...] = ()
    try:
        settings = load_settings(options)
        secrets = _secret_texts(settings)
        with PceClient(settings) as client:
            command(client, options)
    except (PceCommandError, IllumioManagerError, ValueError) as exc:
        print(f"error: {_clean(str(exc), secrets)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {_clean(f'{type(exc).__name__}: {exc}', secrets)}", file=sys.stderr)
        return 1
    return 0


def _secret_texts(settings: PceSettings) -> tuple[str, ...]:
    secret = settings.api_secret.get_secret_value()
    token = base64.b64encode(f"{settings.api_key}:{secret}".encode()).decode("ascii")
    return (token, secret)


def _clean(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


# ------------------------------------------------------------------------------ clusters


def _cluster_dict(record: ClusterRecord) -> dict[str, Any]:
    data = record.model_dump(mode="json", exclude={"container_cluster_token"})
    data["cluster_id"] = record.cluster_id
    return data


def _cluster_names(client: PceClient) -> str:
    names = sorted({record.name for record in client.list_container_clusters()})
    return ", ".join(repr(name) for name in names) if names else "none"


def resolve_cluster(client: PceClient, name_or_href: str) -> ClusterRecord:
    """The one cluster with exactly this name, or with this href; PceCommandError otherwise."""
    if name_or_href.startswith(CLUSTER_HREF_PREFIX):
        try:
            return client.get_container_cluster(name_or_href)
        except PceNotFoundError:
            raise PceCommandError(
                f"cluster {name_or_href!r} not found; known clusters: {_cluster_names(client)}"
            ) from None
    matches = client.list_container_clusters(name=name_or_href)
    if not matches:
        raise PceCommandError(
            f"cluster {name_or_href!r} not found; known clusters: {_cluster_names(client)}"
        )
    if len(matches) > 1:
        hrefs = ", ".join(sorted(record.href for record in matches))
        raise PceCommandError(
            f"{len(matches)} clusters are named {name_or_href!r} ({hrefs}); "
            "give the href of the one you mean instead of the name"
        )
    return matches[0]


def clusters_list(client: PceClient, options: PceOptions) -> None:
    records = sorted(client.list_container_clusters(), key=lambda r: (r.name, r.href))
    if options.output == "json":
        emit(to_json([_cluster_dict(record) for record in records]))
        return
    if not records:
        emit("No container clusters.\n")
        return
    rows = [
        (r.name, r.online, r.kubelink_version, r.manager_type, r.last_connected, r.href)
        for r in records
    ]
    headers = ("NAME", "ONLINE", "KUBELINK", "MANAGER", "LAST CONNECTED", "HREF")
    emit(format_table(headers, rows))


def clusters_get(name: str) -> Callable[[PceClient, PceOptions], None]:
    def command(client: PceClient, options: PceOptions) -> None:
        record = resolve_cluster(client, name)
        if options.output == "json":
            emit(to_json(_cluster_dict(record)))
            return
        emit(
            format_fields(
                [
                    ("name", record.name),
                    ("href", record.href),
                    ("cluster id", record.cluster_id),
                    ("description", record.description),
                    ("online", record.online),
                    ("kubelink version", record.kubelink_version),
                    ("manager type", record.manager_type),
                    ("network type", record.network_type),
                    ("container runtime", record.container_runtime),
                    ("last connected", record.last_connected),
                    ("pce fqdn", record.pce_fqdn),
                    ("nodes", [node.name for node in record.nodes]),
                    ("errors", [entry.error_type or "unknown" for entry in record.errors]),
                ]
            )
        )

    return command


# ------------------------------------------------------------------------------ profiles


def _label_text(ref_value: str | None, href: str) -> str:
    return ref_value if ref_value else href


def _profile_labels(record: WorkloadProfileRecord) -> str:
    parts: list[str] = []
    for entry in sorted(record.labels, key=lambda e: e.key):
        if entry.restriction is not None:
            allowed = [_label_text(ref.value, ref.href) for ref in entry.restriction]
            parts.append(f"{entry.key} in [{', '.join(allowed) or 'any'}]")
        elif entry.assignment is not None:
            parts.append(
                f"{entry.key}={_label_text(entry.assignment.value, entry.assignment.href)}"
            )
        else:
            parts.append(f"{entry.key}=(none)")
    return "; ".join(parts)


def profiles(cluster: str) -> Callable[[PceClient, PceOptions], None]:
    def command(client: PceClient, options: PceOptions) -> None:
        record = resolve_cluster(client, cluster)
        found = client.list_workload_profiles(record.href)
        ordered = sorted(found, key=lambda p: (p.namespace or "", p.name or "", p.href))
        if options.output == "json":
            emit(to_json([p.model_dump(mode="json") for p in ordered]))
            return
        if not ordered:
            emit(f"No container workload profiles in cluster {record.name!r}.\n")
            return
        rows = [
            (
                p.namespace or "(cluster default)",
                p.name,
                p.managed,
                p.linked,
                p.enforcement_mode,
                p.visibility_level,
                _profile_labels(p),
            )
            for p in ordered
        ]
        headers = ("NAMESPACE", "NAME", "MANAGED", "LINKED", "ENFORCEMENT", "VISIBILITY", "LABELS")
        emit(format_table(headers, rows))

    return command


# -------------------------------------------------------------------------------- labels


def labels(key: str | None) -> Callable[[PceClient, PceOptions], None]:
    def command(client: PceClient, options: PceOptions) -> None:
        if key is not None:
            records = client.find_labels(key)
        else:
            href = f"{client.org_href}/labels"
            records = [LabelRecord.model_validate(item) for item in client.get_collection(href)]
        ordered = sorted(records, key=lambda r: (r.key, r.value, r.href))
        if options.output == "json":
            emit(to_json([r.model_dump(mode="json") for r in ordered]))
            return
        if not ordered:
            emit(f"No labels with key {key!r}.\n" if key is not None else "No labels.\n")
            return
        emit(format_table(("KEY", "VALUE", "HREF"), [(r.key, r.value, r.href) for r in ordered]))

    return command


# ------------------------------------------------------------------------------ backends


def _backend_dict(backend: ServiceBackend) -> dict[str, Any]:
    return backend.model_dump(mode="json")


def backends(cluster: str) -> Callable[[PceClient, PceOptions], None]:
    def command(client: PceClient, options: PceOptions) -> None:
        record = resolve_cluster(client, cluster)
        found = client.list_service_backends(record.href)
        ordered = sorted(found, key=lambda b: (b.namespace or "", b.kind, b.name))
        if options.output == "json":
            emit(to_json([_backend_dict(b) for b in ordered]))
            return
        if not ordered:
            emit(f"No service backends in cluster {record.name!r}.\n")
            return
        rows = [
            (
                b.namespace,
                b.kind,
                b.name,
                (b.virtual_service.name or b.virtual_service.href) if b.virtual_service else None,
            )
            for b in ordered
        ]
        emit(format_table(("NAMESPACE", "KIND", "NAME", "VIRTUAL SERVICE"), rows))

    return command
