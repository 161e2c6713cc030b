"""The PCE side of a many-project stack under the real engine's parallelism: one write per
object plus one read per collection, and 429s honoured without a duplicate or a failure.

The program is `bench/pce_program.py` (what `bench/pce_requests.py` measures at 10 to
1,000 projects); here at 40 projects, against an emulator whose rate limit is far below
the client's throttle, so the parallel creates meet 429s with Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.pce_program import object_counts
from bench.pce_requests import MAIN
from tests.pce_emulator import PceEmulator
from tests.real_engine.conftest import RealStack

PROJECTS = 40


def test_parallel_first_up_honours_429s_and_writes_each_object_once(
    make_stack: Callable[..., RealStack], emu: PceEmulator, tmp_path: Path
) -> None:
    program = tmp_path / "pce-program"
    program.mkdir()
    (program / "__main__.py").write_text(MAIN)
    real = make_stack(emu, name="many", program=program, **{"bench:projects": str(PROJECTS)})
    emu.define_label_key("bu")
    emu.enforce_rate_limit(25, window_seconds=2.0)  # a PCE far busier than the throttle

    up = real.up()

    counts = object_counts(PROJECTS)
    refused = [r for r in emu.requests if r.status == 429]
    assert refused, "the PCE's limit was hit"
    answered = {k: v for k, v in up.requests.items() if not k.endswith("GET")}
    # Every 429 is retried after Retry-After; what the PCE accepted is one write per object.
    # (the provision's dependencies question is a POST that writes nothing)
    accepted = [
        r
        for r in emu.requests
        if r.status < 400 and r.method == "POST" and not r.path.endswith("/dependencies")
    ]
    assert len(accepted) == sum(counts.values()), answered
    assert len(emu.profiles) == PROJECTS + 1, "one per project, plus the Default Profile"
    assert len(emu.labels) == counts["label"] + 1, "no duplicate label (env=prod pre-exists)"
    reads = [r for r in emu.requests if r.status < 400 and r.method == "GET"]
    # the cluster name check, the labels, the cluster's profiles, the draft rule sets and
    # IP lists, and the pending changes before the one provision
    assert len(reads) == 6, [r.path for r in reads]
    emu.enforce_rate_limit(None)
    again = real.up()
    assert again.requests == {} and set(again.summary) == {"same"}
