"""Plumbing shared by the Illumio dynamic providers: settings, the lazy client, value helpers.

A dynamic provider object is pickled (dill) into every resource's state, so the
provider classes keep no instance attributes at all. Settings come from
`configure(req)` (stack config such as `illumio:pceUrl`) or from the `ILLUMIO_*`
environment, and the PCE client is built on first use inside the provider
process and cached at module level. `check`, `diff` and `configure` never touch
the network.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import ConfigureRequest, DiffResult, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime import rpc

from providers.illumio import snapshots
from providers.illumio.settings import CONFIG_NAMESPACE, SOURCES, PceSettings

if TYPE_CHECKING:
    from providers.illumio.client import PceClient

_lock = threading.Lock()
_config: dict[str, str] = {}
_clients: dict[tuple[tuple[str, str], ...], PceClient] = {}


def _config_text(value: Any) -> str:
    """Stack config arrives as strings, booleans or numbers: give PceSettings strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def set_provider_config(values: Mapping[str, Any]) -> None:
    """Remember the `illumio:*` stack config for this provider process (no HTTP)."""
    cleaned = {
        key: _config_text(rpc.unwrap_rpc_secret(value))
        for key, value in values.items()
        if value is not None and key.startswith(f"{CONFIG_NAMESPACE}:")
    }
    with _lock:
        _config.clear()
        _config.update(cleaned)


def provider_client() -> PceClient:
    """The PCE client for the current settings, built once per provider process."""
    from providers.illumio.client import PceClient

    with _lock:
        env_items = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("ILLUMIO_")))
        cache_key = tuple(sorted(_config.items())) + env_items
        client = _clients.get(cache_key)
        if client is None:
            settings = PceSettings.load(config=dict(_config), env=dict(os.environ))
            client = PceClient(settings)
            _clients.clear()
            _clients[cache_key] = client
        return client


def create_attempts() -> int:
    """How often a create whose response is lost is tried: once plus `illumio:maxRetries`,
    the one retry budget every request follows."""
    return provider_client().settings.max_retries + 1


def reset_provider_state() -> None:
    """Forget config, clients and snapshots (tests that call providers in-process use this)."""
    with _lock:
        _config.clear()
        _clients.clear()
    snapshots.end_operation()


class IllumioProvider(ResourceProvider):
    """Base of every Illumio dynamic provider: configure() records settings (no HTTP)."""

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the `illumio:*` stack config; the client is built on first real operation.

        The provider host calls this the first time it uses each provider class, in a
        process the engine starts for one operation; it also opens that operation's
        collection snapshots (`providers.illumio.snapshots`). The same config again (the
        next class) keeps them; other config starts a new epoch.
        """
        values: dict[str, Any] = {}
        for source in SOURCES:
            value = req.config.get(source.config_key)
            if value is not None:
                values[source.config_key] = value
        set_provider_config(values)
        with _lock:
            fingerprint = hash(tuple(sorted(_config.items())))
        snapshots.begin_operation(fingerprint)


def warn(message: str) -> None:
    """Show a warning to the user: the engine prints what a provider writes to stderr."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def plain(value: Any) -> Any:
    """Strip Pulumi secret wrappers (a host that accepts secrets sends them wrapped)."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def plain_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """A resource's properties without secret wrappers and without `__provider`."""
    return {k: plain(v) for k, v in props.items() if k != "__provider"}


def secret(value: Any) -> Any:
    """Mark an output secret in the provider's gRPC response (the engine keeps the marker)."""
    return None if value is None else rpc.wrap_rpc_secret(value)


def is_unknown(value: Any) -> bool:
    """Whether a preview value is not known yet (anywhere inside it)."""
    if isinstance(value, Unknown) or value == rpc.UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return False


def changed_keys(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    keys: tuple[str, ...],
    normalise: Mapping[str, Any] | None = None,
) -> tuple[list[str], list[str]]:
    """Keys whose new input differs from the old output, and those not known yet.

    `normalise` maps a key to a function applied to both sides before comparing
    (None vs. defaults, order-insensitive lists).
    """
    normalise = normalise or {}
    changed: list[str] = []
    unknown: list[str] = []
    for key in keys:
        new = news.get(key)
        if is_unknown(new):
            unknown.append(key)
            continue
        fn = normalise.get(key, lambda v: v)
        if fn(olds.get(key)) != fn(new):
            changed.append(key)
    return changed, unknown


def in_place_diff(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    normal: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    keys: tuple[str, ...],
) -> DiffResult:
    """The diff of an object whose every change is an update in place (it keeps its href):
    a change when any of `keys` differs after `normal`, or is not known yet."""
    changed, unknown = changed_keys(normal(plain_props(olds)), normal(plain_props(news)), keys)
    return DiffResult(changes=bool(changed or unknown), replaces=[])
