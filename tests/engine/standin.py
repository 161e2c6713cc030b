"""An engine stand-in: run a Pulumi program in-process as `pulumi up/preview/refresh/destroy` would.

There is no Pulumi CLI here, so this plays the engine's part. The program runs under the
SDK's mock runtime with a custom monitor. Every custom resource whose type starts with
`pulumi-python:dynamic` goes to a real `python -m pulumi.dynamic` host over gRPC, the
way the engine drives it:

- new URN: Check(olds={}, news) then Create;
- known URN: Check(olds=old inputs, news) then Diff(id, olds=old outputs, news); no
  change keeps the old outputs (no further call), a change is an Update, and a Diff
  with `replaces` is Create-then-Delete (or Delete-then-Create with delete_before_replace);
- after the program, resources not registered this run are deleted in reverse
  dependency order;
- secrets: what the engine sends a provider that does not accept secrets is plain, and
  what comes back is re-marked secret where the input of the same name was secret and for
  `additional_secret_outputs`, both in the state and in what the program sees.

One provider host per operation, started on first use and configured with the stack
config, as each `pulumi up` starts its own. Kubernetes, Vault, Helm and component
resources just echo their inputs (they are not under test here); a
`kubernetes.io/service-account-token` Secret gets a fixed fake token so kubeconfigs build.

Not modelled: aliases, imports, `replace_on_changes` (refused), parallel deletes,
replacing dependents of a delete-before-replace resource.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop

from tenantguard.recording_mocks import RecordingMocks, collect_exports
from tests.engine.state import (
    STACK_TYPE,
    ResourceState,
    StackState,
    annotate_secrets,
    deletion_order,
    mark_secret,
)
from tests.providers.illumio.dynamic_host import (
    DynamicHost,
    HostCallError,
    from_struct,
    strip_secrets,
    to_struct,
)

SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
K8S_SECRET_TYPE = "kubernetes:core/v1:Secret"

Program = Callable[[], Any]
OutputsHook = Callable[[ResourceState], dict[str, Any] | None]


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ProviderCall:
    """One gRPC call the stand-in made to the dynamic provider host."""

    method: str
    type: str
    name: str


@dataclass(frozen=True)
class Step:
    """What happened to one resource in one operation.

    `op` is one of create, same, update, replace, delete, refresh.
    """

    op: str
    urn: str
    type: str
    name: str


@dataclass
class RunResult:
    """One operation: the provider calls made, the steps taken, the stack outputs."""

    operation: str
    calls: list[ProviderCall] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: set[str] = field(default_factory=set)

    def methods(self) -> list[str]:
        """The provider methods called, in order (Configure, Check, Diff, Create, ...)."""
        return [call.method for call in self.calls]

    def count(self, method: str) -> int:
        """How many calls of `method` were made."""
        return sum(1 for call in self.calls if call.method == method)

    def changed(self) -> list[Step]:
        """Every step that is not `same`."""
        return [step for step in self.steps if step.op != "same"]

    def ops(self, op: str) -> list[str]:
        """Names of the resources that got step `op`, sorted."""
        return sorted(step.name for step in self.steps if step.op == op)


class DeploymentError(Exception):
    """The operation failed; like the engine, the state keeps what was done before it failed."""

    def __init__(self, operation: str, errors: Sequence[str], result: RunResult) -> None:
        self.errors = list(errors)
        self.result = result
        super().__init__(f"{operation} failed: " + "; ".join(self.errors))


class CheckFailedError(Exception):
    """The provider's Check refused the inputs (the engine stops before Create/Update)."""


# ----------------------------------------------------------------------------- provider host


class ProviderSession:
    """The dynamic provider host for one operation, started and configured on first use.

    Sends what the engine sends (secrets stripped unless the host accepts them) and
    records every call.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        host_factory: Callable[[], DynamicHost],
        record: Callable[[ProviderCall], None],
    ) -> None:
        self._config = dict(config)
        self._factory = host_factory
        self._record = record
        self._lock = threading.Lock()
        self._host: DynamicHost | None = None

    def _ready_host(self) -> DynamicHost:
        with self._lock:
            if self._host is None:
                host = self._factory()
                try:
                    host.configure(self._config)
                except BaseException:
                    host.close()
                    raise
                self._record(ProviderCall("Configure", "pulumi-python:dynamic", ""))
                self._host = host
            return self._host

    def close(self) -> None:
        with self._lock:
            if self._host is not None:
                self._host.close()
                self._host = None

    def _call(self, method: str, resource: ResourceState, request: Any) -> Any:
        """Record the call, then make it through the host (HostCallError if it fails)."""
        host = self._ready_host()
        self._record(ProviderCall(method, resource.type, resource.name))
        return host.call(method, request)

    def _send(self, props: Mapping[str, Any]) -> Any:
        """What the engine sends: the host strips secrets unless it accepts them."""
        return self._ready_host().send(dict(props))

    def check(
        self, resource: ResourceState, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The checked inputs; CheckFailedError naming each refused property."""
        request = provider_pb2.CheckRequest(
            urn=resource.urn,
            name=resource.name,
            type=resource.type,
            olds=self._send(olds),
            news=self._send(news),
        )
        response = self._call("Check", resource, request)
        if response.failures:
            reasons = "; ".join(
                f.reason if f.reason.startswith(f.property) else f"{f.property}: {f.reason}"
                for f in response.failures
            )
            raise CheckFailedError(f"check failed: {reasons}")
        return from_struct(response.inputs)

    def diff(
        self, old: ResourceState, resource: ResourceState, news: Mapping[str, Any]
    ) -> provider_pb2.DiffResponse:
        request = provider_pb2.DiffRequest(
            id=old.id,
            urn=resource.urn,
            name=resource.name,
            type=resource.type,
            olds=self._send(old.outputs),
            news=self._send(news),
            old_inputs=self._send(old.inputs),
        )
        return self._call("Diff", resource, request)

    def create(self, resource: ResourceState, inputs: Mapping[str, Any]) -> tuple[str, dict]:
        request = provider_pb2.CreateRequest(
            urn=resource.urn,
            name=resource.name,
            type=resource.type,
            properties=self._send(inputs),
        )
        response = self._call("Create", resource, request)
        return response.id, from_struct(response.properties)

    def update(
        self, old: ResourceState, resource: ResourceState, inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(
            id=old.id,
            urn=resource.urn,
            name=resource.name,
            type=resource.type,
            olds=self._send(old.outputs),
            news=self._send(inputs),
            old_inputs=self._send(old.inputs),
        )
        return from_struct(self._call("Update", resource, request).properties)

    def read(self, resource: ResourceState) -> tuple[str, dict, dict | None]:
        """(id, outputs, inputs or None); an empty id means the object is gone."""
        request = provider_pb2.ReadRequest(
            id=resource.id,
            urn=resource.urn,
            name=resource.name,
            type=resource.type,
            properties=self._send(resource.outputs),
            inputs=self._send(resource.inputs),
        )
        response = self._call("Read", resource, request)
        inputs = None
        if response.HasField("inputs") and len(response.inputs.fields):
            inputs = from_struct(response.inputs)
        return response.id, from_struct(response.properties), inputs

    def delete(self, resource: ResourceState) -> None:
        request = provider_pb2.DeleteRequest(
            id=resource.id,
            urn=resource.urn,
            name=resource.name,
            type=resource.type,
            properties=self._send(resource.outputs),
            old_inputs=self._send(resource.inputs),
        )
        self._call("Delete", resource, request)


# ----------------------------------------------------------------------------- one operation


def fake_provider_outputs(resource: ResourceState) -> dict[str, Any] | None:
    """What real non-dynamic providers add to their echoed inputs that the program reads.

    A service-account-token Secret gets `data.token` (secret, like the Kubernetes
    provider's `data`), fixed per namespace and account so reruns change nothing.
    """
    inputs = strip_secrets(resource.inputs)
    if resource.type == K8S_SECRET_TYPE and inputs.get("type") == SERVICE_ACCOUNT_TOKEN:
        metadata = inputs.get("metadata") or {}
        account = (metadata.get("annotations") or {}).get("kubernetes.io/service-account.name")
        token = f"fake-token-{metadata.get('namespace')}-{account}"
        data = {"token": base64.b64encode(token.encode()).decode()}
        return {"data": rpc.wrap_rpc_secret(data)}
    return None


def summary(error: BaseException) -> str:
    """One line for an error: a provider's traceback shortened to its last line, as the
    engine shows it."""
    if isinstance(error, HostCallError):
        lines = [line for line in error.details.strip().splitlines() if line.strip()]
        return f"{error.method} failed: {lines[-1] if lines else error.code}"
    return str(error)


def _known(value: Any) -> Any:
    """Unknown() placeholders as the wire's UNKNOWN sentinel (what the engine sends in preview)."""
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {k: _known(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known(v) for v in value]
    return value


class _Deployment:
    """The engine's side of one `up` or `preview`: steps, provider calls, the new state."""

    def __init__(self, engine: EngineStandIn, operation: str, preview: bool) -> None:
        self.engine = engine
        self.operation = operation
        self.preview = preview
        self.old = engine.state.copy()
        self.state = engine.state.copy()
        self.result = RunResult(operation)
        self.errors: list[str] = []
        self.registered: list[str] = []
        self.replaced: list[ResourceState] = []
        self.lock = threading.Lock()
        self.providers = ProviderSession(engine.config, engine.host_factory, self._record_call)

    # ------------------------------------------------------------------ bookkeeping
    def _record_call(self, call: ProviderCall) -> None:
        with self.lock:
            self.result.calls.append(call)

    def _step(self, op: str, resource: ResourceState) -> None:
        with self.lock:
            self.result.steps.append(Step(op, resource.urn, resource.type, resource.name))

    def fail(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)

    def urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: the parent's type chain (the stack excluded) + `$` + type."""
        qualified = type_
        if parent and type_ != STACK_TYPE:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                qualified = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.engine.stack}::{self.engine.project}::{qualified}::{name}"

    # ------------------------------------------------------------------ registration
    def register(self, request: Any) -> Any:
        urn = self.urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        news = _known(rpc.deserialize_properties(request.object, keep_unknowns=True))
        resource = ResourceState(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            dependencies=self._dependencies(request),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            delete_before_replace=bool(request.deleteBeforeReplace),
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            deleted_with=str(request.deletedWith or ""),
        )
        try:
            with self.lock:
                if urn in self.registered:
                    raise ValueError(f"duplicate resource URN {urn!r}")
                self.registered.append(urn)
            if request.replaceOnChanges:
                raise NotImplementedError("the stand-in does not model replace_on_changes")
            if resource.dynamic:
                self._register_dynamic(resource, news, list(request.ignoreChanges))
            else:
                self._register_echo(resource, news)
        except Exception as error:
            self.fail(f"{urn}: {summary(error)}")
            error.reported_by_standin = True  # type: ignore[attr-defined]
            raise
        if not self.preview:
            with self.lock:
                self.state.resources.pop(urn, None)
                self.state.resources[urn] = resource
        program_view = mark_secret(resource.outputs, resource.additional_secret_outputs)
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=resource.id, object=to_struct(program_view)
        )

    def _dependencies(self, request: Any) -> list[str]:
        found: list[str] = []
        if request.parent and request.parent.split("::")[2] != STACK_TYPE:
            found.append(request.parent)
        found.extend(request.dependencies)
        for deps in request.propertyDependencies.values():
            found.extend(deps.urns)
        if request.provider:
            found.append(request.provider.rsplit("::", 1)[0])
        return sorted(set(found))

    def _finish_outputs(self, resource: ResourceState, outputs: Mapping[str, Any]) -> dict:
        """Provider outputs as the engine stores them: secrets re-marked."""
        marked = annotate_secrets(outputs, resource.inputs)
        return mark_secret(marked, resource.additional_secret_outputs)

    def _register_dynamic(
        self, resource: ResourceState, news: dict[str, Any], ignore_changes: list[str]
    ) -> None:
        old = self.old.get(resource.urn)
        if old is not None:
            for key in ignore_changes:
                if key in old.inputs:
                    news[key] = old.inputs[key]
        olds = old.inputs if old is not None else {}
        resource.inputs = annotate_secrets(self.providers.check(resource, olds, news), news)

        if old is None:
            self._create(resource)
            self._step("create", resource)
            return

        diff = self.providers.diff(old, resource, resource.inputs)
        kind = self._classify(diff, old, resource)
        if kind == "same":
            resource.id = old.id
            resource.outputs = mark_secret(old.outputs, resource.additional_secret_outputs)
        elif kind == "update":
            resource.id = old.id
            if self.preview:
                resource.outputs = dict(resource.inputs)
            else:
                outputs = self.providers.update(old, resource, resource.inputs)
                resource.outputs = self._finish_outputs(resource, outputs)
        else:
            before = diff.deleteBeforeReplace or resource.delete_before_replace
            if before and not self.preview:
                self._delete(old)
            self._create(resource)
            if not before:
                with self.lock:
                    self.replaced.append(old)
        self._step(kind, resource)

    def _classify(self, diff: Any, old: ResourceState, resource: ResourceState) -> str:
        """same, update or replace from a DiffResponse (DIFF_UNKNOWN: compare inputs)."""
        if diff.changes == provider_pb2.DiffResponse.DIFF_NONE:
            return "same"
        if diff.changes == provider_pb2.DiffResponse.DIFF_UNKNOWN and strip_secrets(
            old.inputs
        ) == strip_secrets(resource.inputs):
            return "same"
        return "replace" if list(diff.replaces) else "update"

    def _create(self, resource: ResourceState) -> None:
        if self.preview:
            resource.id = ""
            resource.outputs = dict(resource.inputs)
            return
        resource.id, outputs = self.providers.create(resource, resource.inputs)
        resource.outputs = self._finish_outputs(resource, outputs)

    def _register_echo(self, resource: ResourceState, news: dict[str, Any]) -> None:
        """Non-dynamic resources: outputs are the inputs (plus a few provider-made values)."""
        old = self.old.get(resource.urn)
        resource.inputs = news
        if old is not None and old.inputs == news:
            resource.id, resource.outputs = old.id, old.outputs
            self._step("same", resource)
            return
        resource.id = (
            old.id if old is not None else (f"{resource.name}-id" if resource.custom else "")
        )
        extra = self.engine.outputs_hook(resource) or {}
        resource.outputs = {**news, **extra}
        self._step("create" if old is None else "update", resource)

    # ------------------------------------------------------------------ deletes
    def _delete(self, resource: ResourceState, deleting: frozenset[str] = frozenset()) -> None:
        """Delete one resource (a provider call for dynamic ones), then forget it.

        As the engine does, no Delete is sent for a resource `deleted_with` one of the
        resources this operation deletes (`deleting`): that one's Delete takes it along.
        """
        if resource.protect:
            raise RuntimeError(f"{resource.urn} is protected and cannot be deleted")
        taken_along = bool(resource.deleted_with) and resource.deleted_with in deleting
        if resource.dynamic and not resource.retain_on_delete and not taken_along:
            self.providers.delete(resource)
        with self.lock:
            current = self.state.resources.get(resource.urn)
            if current is not None and current.id == resource.id:
                del self.state.resources[resource.urn]
        self._step("delete", resource)

    def delete_unregistered(self) -> None:
        """After a successful program: delete what it no longer declares, and replaced objects."""
        registered = set(self.registered)
        removed = [r for urn, r in self.state.resources.items() if urn not in registered]
        deleting = frozenset(r.urn for r in removed)
        for resource in deletion_order([*removed, *self.replaced]):
            self._delete(resource, deleting)
        ordered = {urn: self.state.resources[urn] for urn in self.registered}
        self.state.resources = ordered

    def delete_all(self) -> None:
        """Destroy: every resource, dependents first."""
        deleting = frozenset(self.state.resources)
        for resource in deletion_order(list(self.state.resources.values())):
            self._delete(resource, deleting)

    def refresh_all(self) -> None:
        """Refresh: Read every dynamic resource; drop those the provider reports gone."""
        for resource in list(self.state.dynamic()):
            new_id, outputs, inputs = self.providers.read(resource)
            if not new_id:
                with self.lock:
                    del self.state.resources[resource.urn]
                self._step("delete", resource)
                continue
            if inputs is not None:
                resource.inputs = annotate_secrets(inputs, resource.inputs)
            resource.id = new_id
            resource.outputs = self._finish_outputs(resource, outputs)
            self._step("refresh", resource)


def _quiet_reported_failures(loop: asyncio.AbstractEventLoop) -> None:
    """Keep asyncio from printing "exception was never retrieved" for a failed registration.

    The SDK leaves the failed resource's output futures unawaited; the stand-in already
    reports that failure in DeploymentError. Every other message reaches the old handler.
    """
    previous = loop.get_exception_handler()
    if getattr(previous, "standin_filter", False):
        return

    def handler(the_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if getattr(context.get("exception"), "reported_by_standin", False):
            return
        if previous is not None:
            previous(the_loop, context)
        else:
            the_loop.default_exception_handler(context)

    handler.standin_filter = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)


class _StandInMonitor(pulumi_mocks.MockMonitor):
    """The resource monitor the program talks to: registrations go to the deployment.

    Its mocks only answer invokes (none are expected) for MockMonitor's own helpers.
    """

    def __init__(self, deployment: _Deployment) -> None:
        super().__init__(RecordingMocks())
        self.deployment = deployment

    def RegisterResource(self, request: Any) -> Any:
        return self.deployment.register(request)

    def ReadResource(self, request: Any) -> Any:
        raise NotImplementedError("the engine stand-in does not model Resource.get (ReadResource)")


# ----------------------------------------------------------------------------- the engine


class EngineStandIn:
    """`pulumi up/preview/refresh/destroy` for one stack, with state kept across calls.

    `config` is the stack config (`{"illumio:pceUrl": ..., "tenantguard:spec": ...}`);
    secret values are wrapped with `rpc.wrap_rpc_secret`. The program sees it through
    `pulumi.Config`, the provider host through Configure.
    """

    def __init__(
        self,
        *,
        config: Mapping[str, Any] | None = None,
        stack: str = "e2e",
        project: str = "tenantguard",
        host_factory: Callable[[], DynamicHost] = DynamicHost,
        outputs_hook: OutputsHook = fake_provider_outputs,
    ) -> None:
        self.config = dict(config or {})
        self.stack = stack
        self.project = project
        self.host_factory = host_factory
        self.outputs_hook = outputs_hook
        self.state = StackState()

    # ------------------------------------------------------------------ operations
    def up(self, program: Program) -> RunResult:
        """Run the program, apply its changes, delete what it dropped."""
        return self._program_operation("up", program, preview=False)

    def preview(self, program: Program) -> RunResult:
        """Run the program as a dry run: Check and Diff only, the state untouched."""
        return self._program_operation("preview", program, preview=True)

    def refresh(self) -> RunResult:
        """Read every dynamic resource back from its provider."""
        return self._state_operation("refresh", lambda d: d.refresh_all())

    def destroy(self) -> RunResult:
        """Delete every resource, dependents first."""
        return self._state_operation("destroy", lambda d: d.delete_all())

    # ------------------------------------------------------------------ plumbing
    def _program_operation(self, operation: str, program: Program, *, preview: bool) -> RunResult:
        deployment = _Deployment(self, operation, preview)
        try:
            program_error = self._run_program(program, deployment, preview)
            if program_error is not None and not deployment.errors:
                deployment.fail(f"the program failed: {program_error!r}")
            if not deployment.errors and not preview:
                self._guard(deployment, deployment.delete_unregistered)
        finally:
            deployment.providers.close()
        return self._finish(deployment, keep_state=not preview)

    def _state_operation(self, operation: str, work: Callable[[_Deployment], None]) -> RunResult:
        deployment = _Deployment(self, operation, preview=False)
        try:
            self._guard(deployment, lambda: work(deployment))
        finally:
            deployment.providers.close()
        return self._finish(deployment, keep_state=True)

    @staticmethod
    def _guard(deployment: _Deployment, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as error:
            deployment.fail(summary(error))

    def _finish(self, deployment: _Deployment, *, keep_state: bool) -> RunResult:
        result = deployment.result
        if keep_state:
            self.state = deployment.state
        if deployment.errors:
            raise DeploymentError(deployment.operation, deployment.errors, result)
        return result

    def _run_program(
        self, program: Program, deployment: _Deployment, preview: bool
    ) -> BaseException | None:
        """Run `program` under the mock runtime wired to `deployment`; its error, if any."""
        monitor = _StandInMonitor(deployment)
        _quiet_reported_failures(_ensure_event_loop())
        pulumi_settings.ROOT.set(None)  # a fresh root stack for this run's project/stack
        pulumi.runtime.set_mocks(
            monitor.mocks, project=self.project, stack=self.stack, preview=preview, monitor=monitor
        )
        secret_keys = [k for k, v in self.config.items() if rpc.is_rpc_secret(v)]
        plain_config = {k: str(strip_secrets(v)) for k, v in self.config.items()}
        pulumi.runtime.set_all_config(plain_config, secret_keys)
        result = deployment.result

        @pulumi.runtime.test
        def run() -> Any:
            returned = program()
            root = pulumi.runtime.get_root_resource()
            exported = dict(getattr(root, "outputs", {}) or {})

            collected = collect_exports(exported, result.exports, result.secret_exports)
            return pulumi.Output.all(returned, pulumi.Output.from_input(collected))

        try:
            run()
        except Exception as error:
            return error
        finally:
            pulumi.runtime.set_all_config({}, [])
        return None
