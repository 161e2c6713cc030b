"""Recording Pulumi mocks: run a program under the SDK's mock engine and keep what it registered.

Used by the offline `render` command and by the tests. The stock MockMonitor drops
parents, dependencies and resource options; this monitor records the whole request.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc


@dataclass
class Registered:
    """One resource as the engine saw it."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str
    custom: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    additional_secret_outputs: list[str]
    provider: str
    delete_before_replace: bool
    protect: bool


@dataclass
class Recording:
    """Everything registered during one mocked program run."""

    resources: list[Registered] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: set[str] = field(default_factory=set)

    def of_type(self, type_: str) -> list[Registered]:
        """All resources whose type token equals `type_`."""
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str, type_: str | None = None) -> Registered:
        """The single resource with this logical name (and type, when given)."""
        found = [r for r in self.resources if r.name == name and (type_ is None or r.type == type_)]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> Registered:
        """The resource with this URN."""
        for r in self.resources:
            if r.urn == urn:
                return r
        raise AssertionError(f"no resource with urn {urn!r}")

    def types(self) -> list[str]:
        """The type tokens of all resources, in registration order."""
        return [r.type for r in self.resources]


OutputsHook = Callable[[pulumi_mocks.MockResourceArgs], dict[str, Any] | None]


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that echo inputs as outputs, give stable ids, and let a test add outputs per type."""

    def __init__(self, outputs_hook: OutputsHook | None = None) -> None:
        self._ids = itertools.count(1)
        self._hook = outputs_hook
        self._last = threading.local()

    def forget_inputs(self) -> None:
        """Drop the inputs `new_resource` last saw on this thread."""
        self._last.inputs = None

    def last_inputs(self) -> dict[str, Any] | None:
        """The inputs `new_resource` last saw on this thread (the monitor's deserialized
        request, which each registration's monitor thread makes exactly once), if any."""
        return getattr(self._last, "inputs", None)

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self._last.inputs = args.inputs
        outputs = dict(args.inputs)
        if self._hook is not None:
            extra = self._hook(args)
            if extra:
                outputs.update(extra)
        return f"{args.name}-id-{next(self._ids)}", outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list]:
        return {}, []


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that also records options the stock one throws away."""

    def __init__(self, mocks: pulumi.runtime.Mocks, recording: Recording) -> None:
        super().__init__(mocks)
        self.recording = recording
        self._urns: dict[str, str] = {}

    def _urn(self, urn: str) -> str:
        """One shared str per distinct URN: a program whose resources each depend on many
        others (a rule set on every workload profile) repeats the same URNs a great many
        times, and protobuf hands out a new str for each."""
        return self._urns.setdefault(urn, urn)

    def RegisterResource(self, request: Any) -> Any:
        recording_mocks = self.mocks if isinstance(self.mocks, RecordingMocks) else None
        if recording_mocks is not None:
            recording_mocks.forget_inputs()
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        # The stock monitor has deserialized the request for the mocks already: record that
        # (the same values), rather than deserialize every resource's inputs a second time.
        inputs = recording_mocks.last_inputs() if recording_mocks is not None else None
        if inputs is None:
            inputs = rpc.deserialize_properties(request.object)
        registration = self.resources.get(response.urn)
        self.recording.resources.append(
            Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=inputs,
                outputs=dict(registration.state) if registration else {},
                parent=self._urn(request.parent),
                custom=request.custom,
                dependencies=[self._urn(urn) for urn in request.dependencies],
                property_dependencies={
                    k: [self._urn(urn) for urn in v.urns]
                    for k, v in request.propertyDependencies.items()
                },
                additional_secret_outputs=list(request.additionalSecretOutputs),
                provider=request.provider,
                delete_before_replace=request.deleteBeforeReplace,
                protect=request.protect,
            )
        )
        return response


async def collect_exports(
    exported: dict[str, Any], values: dict[str, Any], secret_keys: set[str]
) -> None:
    """Resolve a stack's exports into `values`, adding the names of secret ones to `secret_keys`."""
    for key, value in exported.items():
        out = pulumi.Output.from_input(value)
        values[key] = await out.future()
        if await out.is_secret():
            secret_keys.add(key)


def run_mocked(
    program: Callable[[], Any],
    *,
    outputs_hook: OutputsHook | None = None,
    project: str = "tenantguard",
    stack: str = "test",
    preview: bool = False,
    config: dict[str, str] | None = None,
) -> Recording:
    """Run `program` under recording mocks and return what it registered.

    Waits for every registration and output to settle, so assertions can read the
    recording directly. Exceptions raised by the program propagate.
    """
    recording = Recording()
    mocks = RecordingMocks(outputs_hook)
    monitor = RecordingMonitor(mocks, recording)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(config or {})

    root = pulumi.runtime.get_root_resource()
    if root is not None and isinstance(getattr(root, "outputs", None), dict):
        root.outputs.clear()  # the mock root stack outlives one run

    @pulumi.runtime.test
    def _run() -> Any:
        result = program()
        exported = dict(getattr(pulumi.runtime.get_root_resource(), "outputs", {}) or {})

        collected = collect_exports(exported, recording.exports, recording.secret_exports)
        return pulumi.Output.all(result, pulumi.Output.from_input(collected))

    try:
        _run()
    finally:
        pulumi.runtime.set_all_config({})  # config is process-global: don't leak it to the next run
    return recording
