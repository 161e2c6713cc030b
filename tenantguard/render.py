"""Offline render: run the Pulumi program under mocks and write what it would create as files.

The render is split along its steps, and this module is the entry that ties them together
(and re-exports their public names, so `from tenantguard.render import ...` keeps working):

- `tenantguard.render_mocks`: the offline config and what the mocks answer (placeholders);
- `tenantguard.render_engine`: the SDK's per-resource work a render does without
  (source positions, frequent full garbage collections);
- `tenantguard.render_layout`: which resource becomes which file, and its document;
- `tenantguard.render_secrets`: which fields are secret, and every secret text to scrub;
- `tenantguard.kubeconfig_outline`: a kubeconfig shown without its credentials;
- `tenantguard.render_summary`: the resource tree and the per-type counts;
- `tenantguard.render_output`: the output directory, swapped in whole once written.

Secrets never reach a file: each document's secret fields are redacted as `[secret]`, and
every known secret text (marked values, secret outputs, secret-looking config) is scrubbed
from the rest. A failed render leaves the previous output as it was.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenantguard import kubeconfig_outline
from tenantguard.recording_mocks import OutputsHook, run_mocked
from tenantguard.redact import scrub
from tenantguard.render_engine import offline_engine
from tenantguard.render_flows import flow_files
from tenantguard.render_layout import (
    MAX_SEGMENT,
    _segment,
    illumio_payload,
    normalise,
    render_files,
)
from tenantguard.render_mocks import (
    OFFLINE_DEFAULTS,
    PLACEHOLDER_TOKEN,
    SPEC_KEY,
    offline_config,
    placeholder_outputs,
)
from tenantguard.render_output import (
    MARKER_NAME,
    RenderedFile,
    RenderError,
    check_target,
    replace_directory,
)
from tenantguard.render_secrets import collect_secrets, config_secrets
from tenantguard.render_summary import resource_tree, summary_line, type_counts
from tenantguard.stack_config import find_project_dir, load_stack_config, project_name

DEFAULT_PROJECT = "tenantguard"
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


def default_program(stacks_dir: Path | None = None) -> Callable[[], Any]:
    """tenantguard's Pulumi program (`tenantguard.program.main`), reading specs from
    `stacks_dir` when given."""
    from tenantguard.program import main

    if stacks_dir is None:
        return main
    return functools.partial(main, spec_directory=stacks_dir)


def prepare_directory(directory: Path) -> None:
    """Refuse an output directory a render may not replace (see `render_output.check_target`)."""
    check_target(directory)


def write_files(directory: Path, files: Iterable[RenderedFile]) -> list[str]:
    """Write `files` as the whole new content of `directory`, atomically; the paths written."""
    return replace_directory(directory, files)


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
    target = out_dir if out_dir is not None else Path("render") / stack
    # Everything up to the summary stays under the engine: restoring CPython's collector
    # while the mocks' objects are alive makes its next full collection walk all of them
    # (4 s at 1,000 projects, in the resource tree, before this did).
    with offline_engine():
        recording = run_mocked(
            program or default_program(stacks_dir),
            outputs_hook=outputs_hook or placeholder_outputs,
            config=config,
            stack=stack,
            project=project,
        )
        try:
            secrets = collect_secrets(recording, config)
            files = [*render_files(recording, secrets), *flow_files(recording)]
        finally:
            kubeconfig_outline.clear_cache()
        prepare_directory(target)
        written = write_files(target, files)
        tree = scrub("\n".join(resource_tree(recording)), secrets)
        counts = type_counts(recording)
    return RenderResult(
        stack=stack,
        out_dir=target,
        files=tuple(written),
        tree=tree,
        counts=counts,
    )


__all__ = [
    "MARKER_NAME",
    "MAX_SEGMENT",
    "OFFLINE_DEFAULTS",
    "PLACEHOLDER_TOKEN",
    "SPEC_KEY",
    "RenderError",
    "RenderResult",
    "RenderedFile",
    "_segment",
    "collect_secrets",
    "config_secrets",
    "illumio_payload",
    "normalise",
    "offline_config",
    "placeholder_outputs",
    "prepare_directory",
    "render_files",
    "render_stack",
    "resource_tree",
    "summary_line",
    "type_counts",
]
