"""Drive the real `python -m pulumi.dynamic` provider host over gRPC, as the engine does.

The host is started as a subprocess; Configure sends stack config (`illumio:*`);
every resource request carries a `__provider` property made by the SDK's own
`serialize_provider`. Like the engine, the driver keeps per-resource state
(inputs, outputs), strips secret markers from what it sends when the host said
`acceptSecrets: false`, and keeps the markers the host returns so tests can see
which outputs are secret.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[3]
UNKNOWN = rpc.UNKNOWN
"""Put this in inputs to send a value that is not known yet (preview)."""
PROJECT = "tenantguard"
STACK = "test"


class HostCallError(Exception):
    """The host answered an RPC with an error (a provider method raised)."""

    def __init__(self, method: str, error: grpc.RpcError) -> None:
        self.method = method
        self.code = error.code()
        self.details = error.details() or ""
        super().__init__(f"{method} failed ({self.code}): {self.details}")


@dataclass
class ResourceState:
    """What the engine keeps for one resource: id, checked inputs, outputs (with secret marks)."""

    type_token: str
    name: str
    provider_blob: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]

    @property
    def urn(self) -> str:
        return f"urn:pulumi:{STACK}::{PROJECT}::{self.type_token}::{self.name}"

    @property
    def plain_outputs(self) -> dict[str, Any]:
        """Outputs with secret markers removed, without `__provider`."""
        return {k: strip_secrets(v) for k, v in self.outputs.items() if k != "__provider"}

    def is_secret(self, key: str) -> bool:
        """Whether the host marked this output secret."""
        return rpc.is_rpc_secret(self.outputs.get(key))


@dataclass
class CheckOutcome:
    inputs: dict[str, Any]
    failures: list[tuple[str, str]] = field(default_factory=list)


def strip_secrets(value: Any) -> Any:
    """Remove every secret marker (what the engine does for a provider without secrets)."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def to_struct(props: dict[str, Any]) -> struct_pb2.Struct:
    """Serialize a property bag the way the SDK does (None dropped, UNKNOWN kept)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Deserialize a host response, keeping secret markers."""
    return rpc.deserialize_properties(struct, keep_unknowns=True)


def type_token(provider: ResourceProvider) -> str:
    """`pulumi-python:dynamic/illumio:<Name>` for a provider class named `<Name>Provider`."""
    name = type(provider).__name__.removesuffix("Provider")
    return f"pulumi-python:dynamic/illumio:{name}"


class DynamicHost:
    """One `python -m pulumi.dynamic` process and a gRPC stub talking to it."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("ILLUMIO_")}
        base.update(env or {})
        base["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), base.get("PYTHONPATH", "")) if p
        )
        base["PULUMI_PROJECT"] = PROJECT
        self._env = base
        self._config: dict[str, Any] | None = None
        self._start()

    def _start(self) -> None:
        base = self._env
        self._stderr = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the host
            prefix="dynamic-host-", suffix=".log"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pulumi.dynamic"],
            cwd=REPO_ROOT,
            env=base,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"dynamic provider host did not start: {line!r} {self.stderr()}")
        self.port = int(line)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=10)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.accept_secrets = True

    # ----------------------------------------------------------------- process
    def stop(self) -> None:
        """Close the channel and end the host process (only ours, by its handle)."""
        channel = getattr(self, "channel", None)
        if channel is not None:
            channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def stderr(self) -> str:
        """Everything the host wrote to stderr (the engine shows these lines to the user)."""
        return Path(self._stderr.name).read_text(errors="replace")

    def close(self) -> None:
        self.stop()
        self._stderr.close()

    def next_operation(self) -> None:
        """What the engine does for its next operation: a new provider process, configured
        with the same stack config, so nothing one operation cached reaches the next."""
        self.close()
        self._start()
        if self._config is not None:
            self.configure(self._config)

    # ----------------------------------------------------------------- engine calls
    def call(self, method: str, request: Any) -> Any:
        """One gRPC call to the host; a failure becomes HostCallError naming the method."""
        try:
            # The engine sets no deadline on provider calls; this one only keeps a hung host
            # from hanging the tests (a teardown of 1,000 objects takes minutes).
            return getattr(self.stub, method)(request, timeout=900)
        except grpc.RpcError as error:
            raise HostCallError(method, error) from None

    def send(self, props: dict[str, Any]) -> struct_pb2.Struct:
        """What the engine sends: secrets unwrapped unless the host accepts them."""
        return to_struct(props if self.accept_secrets else strip_secrets(props))

    def configure(self, config: dict[str, Any]) -> provider_pb2.ConfigureResponse:
        """Configure with stack config ({"illumio:pceUrl": ...}), secrets marked as such."""
        args = dict(config)
        request = provider_pb2.ConfigureRequest(
            variables={k: str(strip_secrets(v)) for k, v in config.items()},
            args=to_struct(args),
            acceptSecrets=True,
            acceptResources=True,
        )
        response = self.call("Configure", request)
        self._config = dict(config)
        self.accept_secrets = response.acceptSecrets
        return response

    @staticmethod
    def provider_blob(provider: ResourceProvider) -> str:
        """The `__provider` value exactly as `pulumi.dynamic.Resource` computes it."""
        return serialize_provider(provider)

    def check(
        self,
        provider: ResourceProvider,
        news: dict[str, Any],
        olds: dict[str, Any] | None = None,
        name: str = "res",
    ) -> CheckOutcome:
        blob = self.provider_blob(provider)
        state_urn = f"urn:pulumi:{STACK}::{PROJECT}::{type_token(provider)}::{name}"
        request = provider_pb2.CheckRequest(
            urn=state_urn,
            name=name,
            type=type_token(provider),
            olds=self.send(dict(olds or {})),
            news=self.send({**news, "__provider": blob}),
        )
        response = self.call("Check", request)
        failures = [(f.property, f.reason) for f in response.failures]
        return CheckOutcome(from_struct(response.inputs), failures)

    def create(
        self, provider: ResourceProvider, inputs: dict[str, Any], name: str = "res"
    ) -> ResourceState:
        """Check then Create, as `pulumi up` does for a new resource."""
        checked = self.check(provider, inputs, name=name)
        if checked.failures:
            raise AssertionError(f"check failed: {checked.failures}")
        request = provider_pb2.CreateRequest(
            urn=f"urn:pulumi:{STACK}::{PROJECT}::{type_token(provider)}::{name}",
            name=name,
            type=type_token(provider),
            properties=self.send(checked.inputs),
        )
        response = self.call("Create", request)
        return ResourceState(
            type_token=type_token(provider),
            name=name,
            provider_blob=checked.inputs["__provider"],
            id=response.id,
            inputs=checked.inputs,
            outputs=from_struct(response.properties),
        )

    def diff(self, state: ResourceState, news: dict[str, Any]) -> provider_pb2.DiffResponse:
        """Diff old outputs against new inputs (after Check), as `pulumi preview/up` does."""
        request = provider_pb2.DiffRequest(
            id=state.id,
            urn=state.urn,
            name=state.name,
            type=state.type_token,
            olds=self.send(state.outputs),
            news=self.send({**news, "__provider": state.provider_blob}),
            old_inputs=self.send(state.inputs),
        )
        return self.call("Diff", request)

    def check_and_diff(
        self, provider: ResourceProvider, state: ResourceState, news: dict[str, Any]
    ) -> provider_pb2.DiffResponse:
        checked = self.check(provider, news, olds=state.inputs, name=state.name)
        if checked.failures:
            raise AssertionError(f"check failed: {checked.failures}")
        news_checked = {k: v for k, v in checked.inputs.items() if k != "__provider"}
        return self.diff(state, news_checked)

    def update(
        self, provider: ResourceProvider, state: ResourceState, news: dict[str, Any]
    ) -> ResourceState:
        """Check then Update in place; returns the new state."""
        checked = self.check(provider, news, olds=state.inputs, name=state.name)
        if checked.failures:
            raise AssertionError(f"check failed: {checked.failures}")
        request = provider_pb2.UpdateRequest(
            id=state.id,
            urn=state.urn,
            name=state.name,
            type=state.type_token,
            olds=self.send(state.outputs),
            news=self.send(checked.inputs),
            old_inputs=self.send(state.inputs),
        )
        response = self.call("Update", request)
        return ResourceState(
            type_token=state.type_token,
            name=state.name,
            provider_blob=checked.inputs["__provider"],
            id=state.id,
            inputs=checked.inputs,
            outputs=from_struct(response.properties),
        )

    def read(self, state: ResourceState) -> ResourceState | None:
        """Refresh: None when the host reports the object gone (empty id)."""
        request = provider_pb2.ReadRequest(
            id=state.id,
            urn=state.urn,
            name=state.name,
            type=state.type_token,
            properties=self.send(state.outputs),
            inputs=self.send(state.inputs),
        )
        response = self.call("Read", request)
        if not response.id:
            return None
        inputs = state.inputs
        if response.HasField("inputs") and len(response.inputs.fields):
            inputs = from_struct(response.inputs)
        return ResourceState(
            type_token=state.type_token,
            name=state.name,
            provider_blob=state.provider_blob,
            id=response.id,
            inputs=inputs,
            outputs=from_struct(response.properties),
        )

    def delete(self, state: ResourceState) -> None:
        request = provider_pb2.DeleteRequest(
            id=state.id,
            urn=state.urn,
            name=state.name,
            type=state.type_token,
            properties=self.send(state.outputs),
            old_inputs=self.send(state.inputs),
        )
        self.call("Delete", request)


def changes(response: provider_pb2.DiffResponse) -> str:
    """'none', 'some' or 'unknown' for a DiffResponse."""
    return {
        provider_pb2.DiffResponse.DIFF_NONE: "none",
        provider_pb2.DiffResponse.DIFF_SOME: "some",
        provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
    }[response.changes]


def stack_config(url: str, org_id: int, api_key: str, api_secret: str) -> dict[str, Any]:
    """Stack config as the engine passes it to Configure (the secret marked secret)."""
    return {
        "illumio:pceUrl": url,
        "illumio:orgId": str(org_id),
        "illumio:apiKey": api_key,
        "illumio:apiSecret": rpc.wrap_rpc_secret(api_secret),
        "illumio:maxRetries": "6",
        "illumio:requestTimeout": "10",
    }
