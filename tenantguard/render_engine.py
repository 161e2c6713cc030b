"""How the SDK runs during an offline render: three costs that buy nothing offline, switched off.

An offline render registers every resource under Pulumi's mock engine, and the SDK does
per-resource work there that only a real deployment uses:

- **Source positions.** For every resource the SDK captures the Python stack
  (`pulumi.runtime.resource._get_stack_trace`: `traceback.extract_stack()`, a source-line
  lookup and a `Path.as_uri()` per frame) so the engine can say which line created it. The
  mocks never read it, and the program creates its resources about 20 calls deep, so it is
  a good part of each registration. During a render the capture returns an empty stack
  trace: the request carries no source position, and nothing else changes.
- **Alias URNs nobody reads.** Every resource with aliases (pulumi_kubernetes gives its
  RBAC, networking and apps types up to three each) collapses each alias to a URN in its
  constructor (`pulumi.resource.collapse_alias_to_urn`: four or five Outputs and two
  applies per alias) and keeps them in `Resource._aliases`. The SDK reads that list only
  to compute a child's inherited aliases for an engine without alias specs; the mock
  monitor, like the real engine, supports them, and then the request carries the alias
  specs built from the options instead. So while the monitor supports alias specs, the
  constructor keeps the alias as given and computes nothing; without them, the SDK's own
  function runs. The requests are the same either way.
- **Full garbage collections.** The render keeps every resource, Output and request alive
  until it ends, and CPython's full collection walks all of them each time it runs: the
  more projects, the longer each walk, so the render grew faster than linearly. Almost
  nothing a full collection finds is garbage (the young collections free the cycles
  asyncio leaves behind), so during a render a full collection runs only after
  `FULL_COLLECTION_EVERY` young-generation ones instead of CPython's 10.

`offline_engine()` applies all three and restores the SDK and the collector afterwards,
also when the program fails. It patches two private SDK functions, so it checks they are
still there first and fails loudly (`EngineSetupError`) if an SDK upgrade renamed one,
rather than render slowly without saying why. `tenantguard render` and the render
benchmark's floor both run under it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import Any

import pulumi.resource as sdk_constructor
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime.proto import resource_pb2, source_pb2

STACK_TRACE_HOOK = "_get_stack_trace"
"""The SDK function (in `pulumi.runtime.resource`) that captures a resource's stack."""

ALIAS_HOOK = "collapse_alias_to_urn"
"""The SDK function (as `pulumi.resource` imports it) a constructor collapses aliases with."""

FULL_COLLECTION_EVERY = 1000
"""Young-generation (gen 1) collections between two full ones during a render."""


class EngineSetupError(RuntimeError):
    """The installed Pulumi SDK no longer has what `offline_engine` patches."""


def _no_stack_trace() -> source_pb2.StackTrace:
    """What the SDK sends when it finds no user frame: an empty stack, no source position."""
    return source_pb2.StackTrace()


def stack_trace_hook() -> Callable[[], source_pb2.StackTrace]:
    """The SDK's stack capture, as installed; `EngineSetupError` if it is gone or changed."""
    original = getattr(sdk_resource, STACK_TRACE_HOOK, None)
    if not callable(original):
        raise EngineSetupError(
            f"pulumi.runtime.resource.{STACK_TRACE_HOOK} is not there any more (Pulumi SDK "
            "upgrade?): update tenantguard.render_engine to the SDK's new stack capture"
        )
    return original


def alias_hook() -> Callable[..., Any]:
    """The constructor's alias collapse, as installed; `EngineSetupError` if it is gone."""
    original = getattr(sdk_constructor, ALIAS_HOOK, None)
    if not callable(original):
        raise EngineSetupError(
            f"pulumi.resource.{ALIAS_HOOK} is not there any more (Pulumi SDK upgrade?): "
            "update tenantguard.render_engine to the SDK's new alias handling"
        )
    return original


def _lazy_aliases(original: Callable[..., Any]) -> Callable[..., Any]:
    """`original`, skipped while the monitor takes alias specs (then its result is unread)."""

    def collapse(alias: Any, name: str, type_: str, parent: Any) -> Any:
        if sdk_settings.monitor_supports_feature(resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS):
            return alias
        return original(alias, name, type_, parent)

    return collapse


@contextlib.contextmanager
def offline_engine() -> Iterator[None]:
    """Run the block with no stack capture, no unread alias URNs and rare full collections."""
    original = stack_trace_hook()
    original_alias = alias_hook()
    thresholds = gc.get_threshold()
    setattr(sdk_resource, STACK_TRACE_HOOK, _no_stack_trace)
    setattr(sdk_constructor, ALIAS_HOOK, _lazy_aliases(original_alias))
    gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], FULL_COLLECTION_EVERY))
    try:
        yield
    finally:
        setattr(sdk_resource, STACK_TRACE_HOOK, original)
        setattr(sdk_constructor, ALIAS_HOOK, original_alias)
        gc.set_threshold(*thresholds)
