"""Time `tenantguard render` and measure its peak memory for 10, 100 and 1,000 projects.

Each measurement runs in a fresh interpreter (this script, re-run as a child), so one size's
memory never shows up in another's. For each size the script:

1. writes a generated spec (`bench/spec_factory.py`) as `stacks/bench.yaml` in a temporary
   project with `Pulumi.yaml` and `Pulumi.bench.yaml`, and renders it with
   `tenantguard.render.render_stack`, the function behind `tenantguard render` (the
   program under the recording mocks, which loads and validates the spec; building the
   files; writing them);
2. runs the floor: the same mocks, under the same SDK settings
   (`tenantguard.render_engine.offline_engine`: no per-resource stack capture, rare full
   garbage collections), registering exactly as many plain Kubernetes ConfigMaps as the
   render registered for that size, and nothing else;
3. measures an idle interpreter with the same imports, whose peak RSS is subtracted from both.

Time is wall-clock (`time.perf_counter`) around the call, after the imports. Memory is the
child's peak RSS (`getrusage(RUSAGE_SELF).ru_maxrss`) minus the idle baseline.

    .venv/bin/python bench/render_bench.py [--sizes 10,100,1000] [--repeat K] [--json]
    .venv/bin/python bench/render_bench.py --profile 100     # cProfile of one render

A default run takes about 3 minutes on 2 cores, most of it the 1,000-project render, whose
time is mostly Pulumi's mock engine registering ~19,000 resources.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere: the project's packages first
    sys.path.insert(0, str(REPO))

from bench.replay_floor import (  # noqa: E402 - after the path setup above
    load_registrations,
    noting_aliases,
    replay_program,
    save_registrations,
)

STACK = "bench"
PROJECT = "tenantguard"
STACK_CONFIG = {
    "tenantguard:spec": STACK,
    "illumio:pceUrl": "https://pce.bench.invalid:8443",
    "kubernetes:context": "bench",
    "vault:address": "https://vault.bench.invalid:8200",
}
"""Plain connection settings, as a user's Pulumi.<stack>.yaml holds them (no secrets)."""

DEFAULT_SIZES = (10, 100, 1000)
DEFAULT_TIMEOUT = 1800.0
PHASES = ("spec_load", "program_under_mocks", "build_files", "write_files")
MIB = 1024 * 1024
MEASURED_IMPORTS = (
    "pulumi",
    "pulumi_kubernetes.core.v1",
    "pulumi_kubernetes.meta.v1",
    "stacks",
    "tenantguard.program",
    "tenantguard.recording_mocks",
    "tenantguard.render",
)
"""What every child imports before it measures anything (the idle child stops there)."""


# ------------------------------------------------------------------------ child side


def _peak_rss_bytes() -> int:
    """This process's peak resident set size in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _import_everything() -> None:
    """The imports every child makes before measuring, so the idle baseline matches."""
    for module in MEASURED_IMPORTS:
        importlib.import_module(module)


class PhaseClock:
    """Accumulates wall time per phase by wrapping module functions; behaviour unchanged."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self.calls: dict[str, int] = dict.fromkeys(PHASES, 0)
        self.results: dict[str, Any] = {}

    def wrap(self, module: Any, name: str, phase: str) -> None:
        original: Callable[..., Any] = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - start
                self.calls[phase] += 1
            self.results[name] = result
            return result

        setattr(module, name, timed)


def child_idle(_: argparse.Namespace) -> dict[str, Any]:
    """An interpreter that only imports: the baseline subtracted from every peak."""
    return {"peak_rss": _peak_rss_bytes()}


def child_render(args: argparse.Namespace) -> dict[str, Any]:
    """Render the generated stack as `tenantguard render bench --stacks-dir --project-dir` does."""
    import stacks
    import tenantguard.render as render

    workdir = Path(args.workdir)
    clock = PhaseClock()
    clock.wrap(stacks, "load", "spec_load")
    clock.wrap(render, "run_mocked", "program_under_mocks")
    clock.wrap(render, "collect_secrets", "build_files")
    clock.wrap(render, "render_files", "build_files")
    clock.wrap(render, "prepare_directory", "write_files")
    clock.wrap(render, "write_files", "write_files")

    profiler = None
    if args.profile_out:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    with contextlib.ExitStack() as stack:
        aliases = stack.enter_context(noting_aliases()) if args.registrations_out else {}
        start = time.perf_counter()
        result = render.render_stack(
            STACK, out_dir=workdir / "render", project_dir=workdir, stacks_dir=workdir / "stacks"
        )
        total = time.perf_counter() - start
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile_out)

    recording = clock.results["run_mocked"]
    if args.registrations_out:
        save_registrations(recording, aliases, Path(args.registrations_out))
    spec = clock.results["load"]
    return {
        "seconds": total,
        "phases": clock.seconds,
        "phase_calls": clock.calls,
        "peak_rss": _peak_rss_bytes(),
        "resources": len(recording.resources),
        "projects": sum(len(tenant.projects) for tenant in spec.tenants),
        "tenants": len(spec.tenants),
        "files": len(result.files),
        "counts": result.counts,
    }


def child_floor(args: argparse.Namespace) -> dict[str, Any]:
    """Register `--resources` plain ConfigMaps under the same mocks, config and hook."""
    import pulumi_kubernetes.core.v1 as core
    import pulumi_kubernetes.meta.v1 as meta

    from tenantguard.recording_mocks import run_mocked
    from tenantguard.render import placeholder_outputs
    from tenantguard.render_engine import offline_engine

    count: int = args.resources

    def program() -> None:
        for i in range(count):
            name = f"cm-{i:06d}"
            core.ConfigMap(
                name,
                metadata=meta.ObjectMetaArgs(name=name, namespace="bench"),
                data={"key": "value"},
            )

    start = time.perf_counter()
    with offline_engine():  # what `render_stack` runs the program under, so the same SDK work
        recording = run_mocked(
            program,
            outputs_hook=placeholder_outputs,
            config=dict(STACK_CONFIG),
            stack=STACK,
            project=PROJECT,
        )
    total = time.perf_counter() - start
    if len(recording.resources) != count:
        raise RuntimeError(f"floor registered {len(recording.resources)} resources, not {count}")
    return {"seconds": total, "peak_rss": _peak_rss_bytes(), "resources": count}


def child_replay(args: argparse.Namespace) -> dict[str, Any]:
    """Register the render's own registrations again, as plain resources (`replay_floor`)."""
    from tenantguard.recording_mocks import run_mocked
    from tenantguard.render import placeholder_outputs
    from tenantguard.render_engine import offline_engine

    rows = load_registrations(Path(args.registrations))
    start = time.perf_counter()
    with offline_engine():
        recording = run_mocked(
            lambda: replay_program(rows),
            outputs_hook=placeholder_outputs,
            config=dict(STACK_CONFIG),
            stack=STACK,
            project=PROJECT,
        )
    total = time.perf_counter() - start
    if len(recording.resources) != len(rows):
        raise RuntimeError(f"replay registered {len(recording.resources)}, not {len(rows)}")
    return {"seconds": total, "peak_rss": _peak_rss_bytes(), "resources": len(rows)}


CHILDREN: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "idle": child_idle,
    "render": child_render,
    "floor": child_floor,
    "replay": child_replay,
}


def run_child(args: argparse.Namespace) -> int:
    """Child entry: import, measure one thing, write the result as JSON to --result-file."""
    _import_everything()
    outcome = CHILDREN[args.child](args)
    Path(args.result_file).write_text(json.dumps(outcome), encoding="utf-8")
    return 0


# ----------------------------------------------------------------------- parent side


class ChildFailed(RuntimeError):
    """A measurement child exited non-zero or ran past the timeout."""


def spawn(kind: str, extra: Sequence[str], *, timeout: float) -> dict[str, Any]:
    """Run this script as a fresh child measuring `kind`; its JSON result."""
    with tempfile.TemporaryDirectory(prefix="tg-bench-result-") as tmp:
        result_file = Path(tmp) / "result.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            kind,
            "--result-file",
            str(result_file),
            *extra,
        ]
        try:
            done = subprocess.run(
                command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise ChildFailed(f"{kind} did not finish within {timeout:.0f} s") from None
        if done.returncode != 0 or not result_file.is_file():
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise ChildFailed(f"{kind} failed (exit {done.returncode}):\n{tail}")
        return json.loads(result_file.read_text(encoding="utf-8"))


def write_project(workdir: Path, projects: int) -> None:
    """A Pulumi project with the `bench` stack's plain config and its generated spec."""
    import yaml

    from bench.spec_factory import spec_yaml

    (workdir / "stacks").mkdir(parents=True, exist_ok=True)
    (workdir / "stacks" / f"{STACK}.yaml").write_text(spec_yaml(projects), encoding="utf-8")
    (workdir / "Pulumi.yaml").write_text(
        yaml.safe_dump({"name": PROJECT, "runtime": "python"}), encoding="utf-8"
    )
    (workdir / f"Pulumi.{STACK}.yaml").write_text(
        yaml.safe_dump({"config": STACK_CONFIG}), encoding="utf-8"
    )


@dataclass
class SizeResult:
    """The medians for one size, and every repeat's raw figures."""

    projects: int
    tenants: int = 0
    resources: int = 0
    files: int = 0
    render_s: float = 0.0
    mocks_s: float = 0.0
    phases_s: dict[str, float] = field(default_factory=dict)
    floor_s: float = 0.0
    replay_s: float = 0.0
    render_peak_mib: float = 0.0
    floor_peak_mib: float = 0.0
    error: str | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def time_ratio(self) -> float:
        return self.render_s / self.floor_s if self.floor_s else float("nan")

    @property
    def mocks_ratio(self) -> float:
        return self.mocks_s / self.floor_s if self.floor_s else float("nan")

    @property
    def replay_ratio(self) -> float:
        return self.mocks_s / self.replay_s if self.replay_s else float("nan")

    @property
    def memory_ratio(self) -> float:
        return self.render_peak_mib / self.floor_peak_mib if self.floor_peak_mib else float("nan")

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        ratios = {
            "time_ratio": self.time_ratio,
            "mocks_ratio": self.mocks_ratio,
            "replay_ratio": self.replay_ratio,
            "memory_ratio": self.memory_ratio,
        }
        data.update({key: None if math.isnan(value) else value for key, value in ratios.items()})
        return data


def measure_size(
    projects: int, repeat: int, baseline: int, timeout: float, log: Callable[[str], None]
) -> SizeResult:
    """Render and floor `repeat` times each for `projects` projects; medians of each."""
    outcome = SizeResult(projects=projects)
    with tempfile.TemporaryDirectory(prefix=f"tg-bench-{projects}-") as tmp:
        workdir = Path(tmp)
        write_project(workdir, projects)
        for attempt in range(1, repeat + 1):
            log(f"{projects} projects, run {attempt}/{repeat}: render ...")
            try:
                registrations = str(workdir / "registrations.pickle")
                rendered = spawn(
                    "render",
                    ["--workdir", str(workdir), "--registrations-out", registrations],
                    timeout=timeout,
                )
                log(
                    f"  render {rendered['seconds']:.2f} s, {rendered['resources']} resources; "
                    "floor ..."
                )
                floor = spawn("floor", ["--resources", str(rendered["resources"])], timeout=timeout)
                log(f"  floor {floor['seconds']:.2f} s; replay ...")
                replayed = spawn("replay", ["--registrations", registrations], timeout=timeout)
                log(f"  replay {replayed['seconds']:.2f} s")
            except ChildFailed as exc:
                outcome.error = str(exc)
                log(f"  {exc}")
                break
            outcome.runs.append({"render": rendered, "floor": floor, "replay": replayed})
    if not outcome.runs:
        return outcome
    renders = [run["render"] for run in outcome.runs]
    floors = [run["floor"] for run in outcome.runs]
    first = renders[0]
    outcome.tenants, outcome.resources, outcome.files = (
        first["tenants"],
        first["resources"],
        first["files"],
    )
    outcome.render_s = statistics.median(r["seconds"] for r in renders)
    outcome.mocks_s = statistics.median(r["phases"]["program_under_mocks"] for r in renders)
    outcome.phases_s = {p: statistics.median(r["phases"][p] for r in renders) for p in PHASES}
    outcome.floor_s = statistics.median(f["seconds"] for f in floors)
    outcome.replay_s = statistics.median(run["replay"]["seconds"] for run in outcome.runs)
    outcome.render_peak_mib = statistics.median(r["peak_rss"] - baseline for r in renders) / MIB
    outcome.floor_peak_mib = statistics.median(f["peak_rss"] - baseline for f in floors) / MIB
    return outcome


def environment() -> dict[str, Any]:
    """What the figures were measured on."""
    from importlib.metadata import version

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "pulumi": version("pulumi"),
        "pulumi_kubernetes": version("pulumi-kubernetes"),
    }


def table(results: Sequence[SizeResult]) -> str:
    """The main table and the render's phase breakdown, as aligned text."""
    header = (
        f"{'projects':>8} | {'resources':>9} | {'render s':>8} | {'floor s':>7} | "
        f"{'time ratio':>10} | {'render peak MiB':>15} | {'floor peak MiB':>14} | "
        f"{'memory ratio':>12}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        if not r.runs:
            lines.append(f"{r.projects:>8} | {r.error}")
            continue
        lines.append(
            f"{r.projects:>8} | {r.resources:>9} | {r.render_s:>8.2f} | {r.floor_s:>7.2f} | "
            f"{r.time_ratio:>10.1f} | {r.render_peak_mib:>15.1f} | {r.floor_peak_mib:>14.1f} | "
            f"{r.memory_ratio:>12.1f}"
        )
    lines.append("")
    phase_header = (
        f"{'projects':>8} | {'spec load s':>11} | {'under mocks s':>13} | "
        f"{'mocks/floor':>11} | {'replay s':>8} | {'mocks/replay':>12} | "
        f"{'build files s':>13} | {'write files s':>13} | {'files':>6}"
    )
    lines += [
        "render phases (the program loads the spec, so 'spec load' is part of 'under mocks')",
        phase_header,
        "-" * len(phase_header),
    ]
    for r in results:
        if not r.runs:
            continue
        p = r.phases_s
        lines.append(
            f"{r.projects:>8} | {p['spec_load']:>11.2f} | {p['program_under_mocks']:>13.2f} | "
            f"{r.mocks_ratio:>11.1f} | {r.replay_s:>8.2f} | {r.replay_ratio:>12.2f} | "
            f"{p['build_files']:>13.2f} | {p['write_files']:>13.2f} | {r.files:>6}"
        )
    return "\n".join(lines)


def profile(projects: int, top: int, timeout: float) -> int:
    """Render once under cProfile and print the top functions by own and cumulative time."""
    import pstats

    with tempfile.TemporaryDirectory(prefix=f"tg-bench-profile-{projects}-") as tmp:
        workdir = Path(tmp)
        write_project(workdir, projects)
        stats_file = workdir / "render.pstats"
        outcome = spawn(
            "render",
            ["--workdir", str(workdir), "--profile-out", str(stats_file)],
            timeout=timeout,
        )
        print(
            f"{projects} projects: {outcome['resources']} resources, "
            f"{outcome['seconds']:.2f} s under cProfile"
        )
        stats = pstats.Stats(str(stats_file))
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
    return 0


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of project counts; allowed: e.g. 10,100,1000"
        ) from None
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: every size must be a whole number >= 1")
    return sizes


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Time tenantguard's offline render and its peak memory against the floor "
        "of registering as many plain Kubernetes resources under the same mocks."
    )
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated project counts (default 10,100,1000)",
    )
    p.add_argument(
        "--repeat", type=positive_int, default=1, help="runs per size; medians are reported"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document instead")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds one child may take (default {DEFAULT_TIMEOUT:.0f})",
    )
    p.add_argument(
        "--profile", type=positive_int, metavar="PROJECTS", help="cProfile one render instead"
    )
    p.add_argument("--top", type=positive_int, default=25, help="rows of profile output")
    # Child-only options: this script re-runs itself for each isolated measurement.
    p.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    p.add_argument("--result-file", help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    p.add_argument("--resources", type=int, help=argparse.SUPPRESS)
    p.add_argument("--profile-out", help=argparse.SUPPRESS)
    p.add_argument("--registrations-out", help=argparse.SUPPRESS)
    p.add_argument("--registrations", help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.child:
        return run_child(args)
    if args.profile:
        return profile(args.profile, args.top, args.timeout)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    baselines = [spawn("idle", [], timeout=args.timeout)["peak_rss"] for _ in range(3)]
    baseline = int(statistics.median(baselines))
    log(f"idle interpreter with the same imports: {baseline / MIB:.1f} MiB peak RSS")
    results = [measure_size(size, args.repeat, baseline, args.timeout, log) for size in args.sizes]
    elapsed = time.perf_counter() - started
    env = environment()
    if args.json:
        document = {
            "environment": env,
            "baseline_peak_rss_mib": baseline / MIB,
            "repeat": args.repeat,
            "wall_seconds": elapsed,
            "sizes": [r.as_json() for r in results],
        }
        print(json.dumps(document, indent=2))
    else:
        print(
            f"{env['cpus']} CPUs, {env['implementation']} {env['python']}, pulumi "
            f"{env['pulumi']}, pulumi-kubernetes {env['pulumi_kubernetes']}; median of "
            f"{args.repeat} run(s); peak RSS minus an idle interpreter with the same imports "
            f"({baseline / MIB:.1f} MiB)"
        )
        print(table(results))
        print(f"\nbenchmark wall time {elapsed:.0f} s")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
