"""`offline_engine`: a render registers without stack captures, without alias URNs nobody
reads and with rare full collections, sends the same requests, restores the SDK afterwards,
and fails loudly if the SDK renamed what it patches."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pulumi
import pulumi.resource as sdk_constructor
import pulumi_kubernetes as k8s
import pytest
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import resource_pb2

from tenantguard import render_engine
from tenantguard.recording_mocks import RecordingMonitor, run_mocked
from tenantguard.render_engine import (
    ALIAS_HOOK,
    FULL_COLLECTION_EVERY,
    STACK_TRACE_HOOK,
    EngineSetupError,
    offline_engine,
)


def test_the_sdk_still_captures_stacks_where_the_render_patches_it():
    """An SDK upgrade that renames or drops the capture fails here, not silently slower."""
    assert callable(getattr(sdk_resource, STACK_TRACE_HOOK))
    assert render_engine.stack_trace_hook() is getattr(sdk_resource, STACK_TRACE_HOOK)


def test_the_sdk_still_collapses_aliases_where_the_render_patches_it():
    """The constructor looks the collapse up in `pulumi.resource` at each call: patching
    that name reaches it. An SDK that moved the call would make the patch a silent no-op."""
    assert callable(getattr(sdk_constructor, ALIAS_HOOK))
    assert ALIAS_HOOK in pulumi.Resource.__init__.__code__.co_names
    assert render_engine.alias_hook() is getattr(sdk_constructor, ALIAS_HOOK)


def _stack_frames_per_request(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Patch the recording monitor to note each request's stack frames and source position."""
    seen: list[tuple[int, bool]] = []
    original = RecordingMonitor.RegisterResource

    def noting(self: RecordingMonitor, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            seen.append((len(request.stackTrace.frames), request.HasField("sourcePosition")))
        return original(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", noting)
    return seen


def _one_config_map() -> None:
    k8s.core.v1.ConfigMap("cm", metadata={"name": "cm", "namespace": "ns"}, data={"k": "v"})


def test_without_the_engine_the_sdk_sends_a_stack_and_with_it_none(monkeypatch):
    """The patch reaches the request: the capture is the SDK's only source of positions."""
    seen = _stack_frames_per_request(monkeypatch)
    run_mocked(_one_config_map)
    with offline_engine():
        run_mocked(_one_config_map)
    (frames_before, position_before), (frames_during, position_during) = seen
    assert frames_before > 0 and position_before
    assert (frames_during, position_during) == (0, False)


def test_the_same_inputs_and_options_are_registered_either_way():
    plain = run_mocked(_one_config_map).resources
    with offline_engine():
        offline = run_mocked(_one_config_map).resources
    assert offline == plain


class _Old(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Old", name, None, opts)


def _aliased_children() -> None:
    """A renamed component and, under it, a Role (pulumi_kubernetes adds three type aliases)
    with an alias of its own: the parent's alias is inherited by the child."""
    parent = _Old("team", pulumi.ResourceOptions(aliases=[pulumi.Alias(name="crew")]))
    k8s.rbac.v1.Role(
        "reader",
        metadata={"name": "reader", "namespace": "ns"},
        rules=[{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
        opts=pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(name="viewer")]),
    )


def _aliases_per_request(monkeypatch: pytest.MonkeyPatch, *, specs: bool) -> list[list[Any]]:
    """Note each request's aliases; `specs=False` makes the monitor refuse alias specs."""
    seen: list[list[Any]] = []
    register = RecordingMonitor.RegisterResource
    deployment_info = RecordingMonitor.GetDeploymentInfo

    def noting(self: RecordingMonitor, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            specs = [str(MessageToDict(alias)) for alias in request.aliases]
            seen.append(sorted([*specs, *request.aliasURNs]))
        return register(self, request)

    def without_specs(self: RecordingMonitor, request: Any) -> Any:
        info = deployment_info(self, request)
        features = [
            feature
            for feature in info.supportedFeatures
            if feature != resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS
        ]
        return resource_pb2.DeploymentInfo(supportedFeatures=features)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", noting)
    if not specs:
        monkeypatch.setattr(RecordingMonitor, "GetDeploymentInfo", without_specs)
    return seen


@pytest.mark.parametrize("specs", [True, False], ids=["alias-specs", "alias-urns"])
def test_the_same_aliases_are_sent_either_way(monkeypatch, specs):
    """With alias specs the SDK sends them from the options; without, it computes every URN
    (the child's own and those inherited from its renamed parent) the unpatched way."""
    seen = _aliases_per_request(monkeypatch, specs=specs)
    run_mocked(_aliased_children)
    plain = list(seen)
    seen.clear()
    with offline_engine():
        run_mocked(_aliased_children)
    assert seen == plain
    parent_aliases, role_aliases = plain
    assert len(parent_aliases) == 1
    # specs: the Role's own alias and pulumi_kubernetes's two; URNs: those three, the Role
    # under the parent's old name, and each of the three under the old parent too.
    assert len(role_aliases) == (3 if specs else 7)


def test_the_engine_restores_the_capture_and_the_collector():
    original = getattr(sdk_resource, STACK_TRACE_HOOK)
    original_alias = getattr(sdk_constructor, ALIAS_HOOK)
    thresholds = gc.get_threshold()
    with offline_engine():
        assert getattr(sdk_constructor, ALIAS_HOOK) is not original_alias
        assert getattr(sdk_resource, STACK_TRACE_HOOK) is not original
        assert getattr(sdk_resource, STACK_TRACE_HOOK)().frames == []
        assert gc.get_threshold()[:2] == thresholds[:2]
        assert gc.get_threshold()[2] >= FULL_COLLECTION_EVERY
    assert getattr(sdk_resource, STACK_TRACE_HOOK) is original
    assert getattr(sdk_constructor, ALIAS_HOOK) is original_alias
    assert gc.get_threshold() == thresholds


def test_the_engine_restores_everything_when_the_program_fails():
    original = getattr(sdk_resource, STACK_TRACE_HOOK)
    original_alias = getattr(sdk_constructor, ALIAS_HOOK)
    thresholds = gc.get_threshold()

    def failing() -> None:
        raise pulumi.RunError("bad spec")

    with pytest.raises(pulumi.RunError), offline_engine():
        run_mocked(failing)
    assert getattr(sdk_resource, STACK_TRACE_HOOK) is original
    assert getattr(sdk_constructor, ALIAS_HOOK) is original_alias
    assert gc.get_threshold() == thresholds


def test_nested_engines_restore_the_original():
    original = getattr(sdk_resource, STACK_TRACE_HOOK)
    original_alias = getattr(sdk_constructor, ALIAS_HOOK)
    with offline_engine(), offline_engine():
        pass
    assert getattr(sdk_resource, STACK_TRACE_HOOK) is original
    assert getattr(sdk_constructor, ALIAS_HOOK) is original_alias


def test_a_renamed_capture_fails_loudly(monkeypatch):
    monkeypatch.delattr(sdk_resource, STACK_TRACE_HOOK)
    with pytest.raises(EngineSetupError, match=STACK_TRACE_HOOK), offline_engine():
        pass


def test_a_renamed_alias_collapse_fails_loudly(monkeypatch):
    monkeypatch.delattr(sdk_constructor, ALIAS_HOOK)
    with pytest.raises(EngineSetupError, match=ALIAS_HOOK), offline_engine():
        pass


def test_render_runs_the_program_under_the_engine(tmp_path, platform_program):
    from tenantguard.render import render_stack

    seen: dict[str, Any] = {}

    def program() -> Any:
        seen["hook"] = getattr(sdk_resource, STACK_TRACE_HOOK)
        seen["threshold"] = gc.get_threshold()[2]
        return platform_program()

    original = getattr(sdk_resource, STACK_TRACE_HOOK)
    repo = Path(__file__).resolve().parents[2]
    render_stack("dev", out_dir=tmp_path / "out", project_dir=repo, program=program)
    assert seen["hook"] is not original
    assert seen["threshold"] >= FULL_COLLECTION_EVERY
    assert getattr(sdk_resource, STACK_TRACE_HOOK) is original
