"""The recording monitor keeps the inputs the stock monitor deserialized for the mocks: the
same values a fresh deserialization of each request gives, for every resource of the program."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from tenantguard.recording_mocks import Recording, RecordingMocks, RecordingMonitor, run_mocked
from tenantguard.render import offline_config, placeholder_outputs
from tenantguard.stack_config import load_stack_config

REPO = Path(__file__).resolve().parents[2]


def test_recorded_inputs_are_each_requests_own_values(monkeypatch, platform_program):
    fresh: dict[str, dict[str, Any]] = {}
    original = RecordingMonitor.RegisterResource

    def noting(self: RecordingMonitor, request: Any) -> Any:
        response = original(self, request)
        if request.type != "pulumi:pulumi:Stack":
            fresh[response.urn] = rpc.deserialize_properties(request.object)
        return response

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", noting)
    config = offline_config("dev", load_stack_config("dev", REPO).values)
    recording = run_mocked(
        platform_program, outputs_hook=placeholder_outputs, config=config, stack="dev"
    )
    assert len(recording.resources) == len(fresh) > 100
    assert {r.urn: r.inputs for r in recording.resources} == fresh


class _PlainMocks(pulumi.runtime.Mocks):
    """Mocks that are not RecordingMocks: the monitor deserializes the request itself."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list]:
        return {}, []


def test_other_mocks_still_get_their_inputs_recorded():
    recording = Recording()
    mocks = _PlainMocks()
    pulumi.runtime.set_mocks(mocks, preview=False, monitor=RecordingMonitor(mocks, recording))

    @pulumi.runtime.test
    def program() -> Any:
        return k8s.core.v1.ConfigMap("cm", data={"k": "v"}).id

    program()
    (config_map,) = recording.resources
    assert config_map.inputs["data"] == {"k": "v"}


def test_a_failed_registration_leaves_no_inputs_for_the_next():
    mocks = RecordingMocks()
    mocks.new_resource(
        pulumi_mocks.MockResourceArgs(typ="t:m:T", name="a", inputs={"x": 1}, provider="")
    )
    assert mocks.last_inputs() == {"x": 1}
    mocks.forget_inputs()
    assert mocks.last_inputs() is None
    assert run_mocked(lambda: None).resources == []
