"""`offline_engine`: a render registers without stack captures and with rare full
collections, restores both afterwards, and fails loudly if the SDK renamed what it patches."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import resource as sdk_resource

from tenantguard import render_engine
from tenantguard.recording_mocks import RecordingMonitor, run_mocked
from tenantguard.render_engine import (
    FULL_COLLECTION_EVERY,
    STACK_TRACE_HOOK,
    EngineSetupError,
    offline_engine,
)


def test_the_sdk_still_captures_stacks_where_the_render_patches_it():
    """An SDK upgrade that renames or drops the capture fails here, not silently slower."""
    assert callable(getattr(sdk_resource, STACK_TRACE_HOOK))
    assert render_engine.stack_trace_hook() is getattr(sdk_resource, STACK_TRACE_HOOK)


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


def test_the_engine_restores_the_capture_and_the_collector():
    original = getattr(sdk_resource, STACK_TRACE_HOOK)
    thresholds = gc.get_threshold()
    with offline_engine():
        assert getattr(sdk_resource, STACK_TRACE_HOOK) is not original
        assert getattr(sdk_resource, STACK_TRACE_HOOK)().frames == []
        assert gc.get_threshold()[:2] == thresholds[:2]
        assert gc.get_threshold()[2] >= FULL_COLLECTION_EVERY
    assert getattr(sdk_resource, STACK_TRACE_HOOK) is original
    assert gc.get_threshold() == thresholds


def test_the_engine_restores_both_when_the_program_fails():
    original = getattr(sdk_resource, STACK_TRACE_HOOK)
    thresholds = gc.get_threshold()

    def failing() -> None:
        raise pulumi.RunError("bad spec")

    with pytest.raises(pulumi.RunError), offline_engine():
        run_mocked(failing)
    assert getattr(sdk_resource, STACK_TRACE_HOOK) is original
    assert gc.get_threshold() == thresholds


def test_nested_engines_restore_the_original():
    original = getattr(sdk_resource, STACK_TRACE_HOOK)
    with offline_engine(), offline_engine():
        pass
    assert getattr(sdk_resource, STACK_TRACE_HOOK) is original


def test_a_renamed_capture_fails_loudly(monkeypatch):
    monkeypatch.delattr(sdk_resource, STACK_TRACE_HOOK)
    with pytest.raises(EngineSetupError, match=STACK_TRACE_HOOK), offline_engine():
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
