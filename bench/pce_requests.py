"""Count the PCE requests of first up, no-op up, refresh and destroy at 10, 100 and 1,000 projects.

Runs `bench/pce_program.py` (the PCE side of a tenantguard stack with N projects) through
the engine stand-in (`tests/engine/`) and, when TENANTGUARD_ENGINE_DIR names a Pulumi CLI
directory (`scripts/pulumi-engine --no-build | tail -1`), through the real engine, against
the PCE emulator (`tests/pce_emulator/`), which enforces the PCE's 500 requests per minute.
For each operation it prints the requests by method, the 429s, the wall seconds, the
requests divided by the client's throttle rate (`illumio:maxRequestsPerMinute`, 450), and
the ratio to the floor:

- first up: one write per object made (each rule is an object; the policy provision is one
  write), plus one collection read per 500 objects;
- no-op up: 0;
- refresh: one read per 500 objects of each collection (1 each at these sizes), a rule
  read with its rule set, the pending changes once for the PolicyProvision;
- destroy: one DELETE per object the stack made (a pairing key has no DELETE, rules go
  with their rule set). The policy objects are deleted with their PolicyTeardown, which
  adds a constant 5 above this floor: a read of each collection to find them by name, and
  one provision of every deletion (pending GET, dependencies, provision).

`--no-policy` leaves the policy objects (IP list, rule sets, PolicyProvision) out, as the
program was before they existed.

`--drop-tenant` adds an up that drops the last tenant's projects (5) before the destroy:
its floor is one DELETE per object they alone used (profiles, rule sets, labels); the
deleted rule sets' provisions add 3 per policy version, and the `versions` column counts
those versions (`providers.illumio.deletion_batches` shares one among the deletions the
engine runs at the same time). The destroy then starts from 5 projects fewer.

`--skip-checkpoints` runs the real engine with `PULUMI_SKIP_CHECKPOINTS=true`: it saves the
state once at the end of an operation instead of rewriting it after every step, which
shows how much of a large up's wall time is the engine's own bookkeeping.

    .venv/bin/python bench/pce_requests.py [--sizes 10,100,1000] [--engines standin,real]
        [--rate 450] [--no-policy] [--drop-tenant] [--skip-checkpoints] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.pce_program import declare, object_counts  # noqa: E402
from bench.spec_factory import PROJECTS_PER_TENANT  # noqa: E402
from tests.pce_emulator import PceEmulator  # noqa: E402

OPERATIONS = ("first up", "no-op up", "refresh", "destroy")
DROP = "drop a tenant"
MAIN = """\
import pulumi
from bench.pce_program import declare
config = pulumi.Config("bench")
declare(int(config.require("projects")), policy=config.get_bool("policy") is not False)
"""
READ_WITH_PARENT = ("pairing_key", "rule")
"""Read through another collection: a pairing key through its profile, a rule in its set."""


def _deletable(projects: int, policy: bool) -> int:
    """How many objects of an N-project stack have a DELETE of their own."""
    counts = object_counts(projects, policy=policy)
    kept = ("pairing_key", "rule", "provision")  # no DELETE of their own
    return sum(counts.values()) - sum(counts.get(kind, 0) for kind in kept)


def floors(projects: int, *, policy: bool = True, drop: bool = False) -> dict[str, int]:
    """The physical floor of each operation, in requests."""
    counts = object_counts(projects, policy=policy)
    written = sum(counts.values())
    reads = sum(math.ceil(n / 500) for kind, n in counts.items() if kind not in READ_WITH_PARENT)
    deleted = _deletable(projects, policy)
    result = {"first up": written + math.ceil(written / 500), "no-op up": 0, "refresh": reads,
              "destroy": deleted}  # fmt: skip
    if drop:
        left = _deletable(projects - PROJECTS_PER_TENANT, policy)
        result[DROP] = deleted - left
        result["destroy"] = left
    return result


def operations(drop: bool) -> tuple[str, ...]:
    """The operations measured, in order."""
    return (*OPERATIONS[:-1], DROP, OPERATIONS[-1]) if drop else OPERATIONS


def config(emu: PceEmulator, rate: int) -> dict[str, str]:
    return {
        "illumio:pceUrl": emu.url,
        "illumio:orgId": str(emu.org_id),
        "illumio:apiKey": emu.api_key,
        "illumio:apiSecret": emu.api_secret,
        "illumio:maxRequestsPerMinute": str(rate),
        "illumio:requestTimeout": "30",
    }


def standin_runner(
    emu: PceEmulator, projects: int, rate: int, policy: bool
) -> dict[str, Callable[[], Any]]:
    from pulumi.runtime import rpc

    from tests.engine.standin import EngineStandIn

    settings = config(emu, rate)
    settings["illumio:apiSecret"] = rpc.wrap_rpc_secret(settings["illumio:apiSecret"])
    engine = EngineStandIn(config=settings, stack="bench")
    program = lambda: declare(projects, policy=policy)  # noqa: E731
    fewer = lambda: declare(projects - PROJECTS_PER_TENANT, policy=policy)  # noqa: E731
    return {
        "first up": lambda: engine.up(program),
        "no-op up": lambda: engine.up(program),
        "refresh": engine.refresh,
        DROP: lambda: engine.up(fewer),
        "destroy": engine.destroy,
    }


def real_runner(
    emu: PceEmulator,
    projects: int,
    rate: int,
    policy: bool,
    workdir: Path,
    skip_checkpoints: bool = False,
) -> dict[str, Callable[[], Any]]:
    from pulumi import automation as auto

    from tests.real_engine.conftest import engine_env, write_project

    engine = Path(os.environ["TENANTGUARD_ENGINE_DIR"])
    os.environ["PATH"] = os.pathsep.join([str(engine), str(Path(sys.executable).parent),
                                          os.environ.get("PATH", "")])  # fmt: skip
    project = write_project(workdir / f"project-{projects}", "tenantguard-bench", MAIN)
    backend = workdir / f"backend-{projects}"
    backend.mkdir()
    home = workdir / "pulumi-home"
    home.mkdir(exist_ok=True)
    env = engine_env(home, backend)
    if skip_checkpoints:  # the engine saves the state once, at the end, not after each step
        env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    workspace = auto.LocalWorkspace(
        work_dir=str(project),
        pulumi_home=str(home),
        env_vars=env,
        pulumi_command=auto.PulumiCommand(),
    )
    stack = auto.Stack.create("bench", workspace)
    values = {k: auto.ConfigValue(v, secret=k.endswith("apiSecret"))
              for k, v in config(emu, rate).items()}  # fmt: skip
    values["bench:projects"] = auto.ConfigValue(str(projects))
    values["bench:policy"] = auto.ConfigValue("true" if policy else "false")
    stack.set_all_config(values)

    def drop() -> Any:
        stack.set_config("bench:projects", auto.ConfigValue(str(projects - PROJECTS_PER_TENANT)))
        return stack.up()

    return {
        "first up": stack.up,
        "no-op up": stack.up,
        "refresh": stack.refresh,
        DROP: drop,
        "destroy": stack.destroy,
    }


def measure(
    engine: str,
    projects: int,
    rate: int,
    workdir: Path,
    policy: bool = True,
    drop: bool = False,
    skip_checkpoints: bool = False,
) -> list[dict[str, Any]]:
    emu = PceEmulator(org_id=1, api_key="api_1f2e3d4c5b6a7980").start()
    try:
        emu.enforce_rate_limit(500)  # the PCE's own limit: a 429 past it
        emu.define_label_key("bu")  # a label type the org defined (PCE 22.5+)
        if engine == "real":
            runner = real_runner(emu, projects, rate, policy, workdir, skip_checkpoints)
            engine = "real, final checkpoint only" if skip_checkpoints else engine
        else:
            runner = standin_runner(emu, projects, rate, policy)
        floor = floors(projects, policy=policy, drop=drop)
        rows = []
        for operation in operations(drop):
            emu.reset_counts()
            versions = len(emu.policy.versions)
            started = time.perf_counter()
            runner[operation]()
            wall = time.perf_counter() - started
            requests = emu.requests
            by_method = Counter(r.method for r in requests if r.status != 429)
            total = len(requests)
            rows.append(
                {
                    "engine": engine,
                    "projects": projects,
                    "operation": operation,
                    "requests": total,
                    "by_method": dict(sorted(by_method.items())),
                    "429s": sum(1 for r in requests if r.status == 429),
                    "versions": len(emu.policy.versions) - versions,
                    "wall_s": round(wall, 2),
                    "requests_per_rate_s": round(total / rate * 60, 1),
                    "floor": floor[operation],
                    "ratio": round(total / floor[operation], 2) if floor[operation] else None,
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        return rows
    finally:
        emu.stop()


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| engine | projects | operation | requests | by method | 429s | versions | wall s "
        "| requests ÷ rate s | floor | ratio |",
        "|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        methods = ", ".join(f"{m} {n:,}" for m, n in r["by_method"].items()) or "none"
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(
            f"| {r['engine']} | {r['projects']:,} | {r['operation']} | {r['requests']:,} | "
            f"{methods} | {r['429s']} | {r['versions']} | {r['wall_s']:.1f} | "
            f"{r['requests_per_rate_s']:.1f} | "
            f"{r['floor']:,} | {ratio} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    default_engines = "standin,real" if os.environ.get("TENANTGUARD_ENGINE_DIR") else "standin"
    parser.add_argument("--engines", default=default_engines)
    parser.add_argument("--rate", type=int, default=450, help="illumio:maxRequestsPerMinute")
    parser.add_argument("--no-policy", dest="policy", action="store_false",
                        help="leave out the IP list, rule sets and PolicyProvision")  # fmt: skip
    drop_help = f"add an up that drops the last {PROJECTS_PER_TENANT} projects"
    parser.add_argument("--drop-tenant", dest="drop", action="store_true", help=drop_help)
    parser.add_argument("--skip-checkpoints", action="store_true",
                        help="run the real engine with PULUMI_SKIP_CHECKPOINTS=true")  # fmt: skip
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.drop and min(sizes) <= PROJECTS_PER_TENANT:
        parser.error(f"--drop-tenant needs sizes above {PROJECTS_PER_TENANT} projects")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pce-bench-") as tmp:
        for engine in args.engines.split(","):
            for size in sizes:
                rows += measure(
                    engine, size, args.rate, Path(tmp), args.policy, args.drop,
                    args.skip_checkpoints,
                )  # fmt: skip
    print(json.dumps(rows, indent=2) if args.json else table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
