"""Fixtures for the real-engine tests: the Pulumi CLI from `scripts/pulumi-engine`, a
`file://` backend with a passphrase secrets provider, and stacks of the test program
(`program/`) pointed at a per-test PCE emulator.

Without an engine the tests skip with the script's own reason, unless
TENANTGUARD_REQUIRE_REAL_ENGINE=1 (CI sets it), which turns that into a failure.
TENANTGUARD_ENGINE_DIR names an engine directory to use instead of asking the script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.pce_emulator import PceEmulator
from tests.pce_emulator.request_log import request_counts

REPO = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).resolve().parent / "program"
PASSPHRASE = "real-engine-tests-passphrase"
REQUIRE = os.environ.get("TENANTGUARD_REQUIRE_REAL_ENGINE") == "1"


def find_engine() -> tuple[Path | None, str]:
    """The engine directory and, when there is none, why (the script's one-line error)."""
    given = os.environ.get("TENANTGUARD_ENGINE_DIR")
    if given:
        return Path(given), ""
    # Without REQUIRE only an engine that is already there is used: a user's plain
    # `pytest` must not start a long build.
    args = [str(REPO / "scripts" / "pulumi-engine")] + ([] if REQUIRE else ["--no-build"])
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return None, reason[0]
    return Path(done.stdout.strip().splitlines()[-1]), ""


@pytest.fixture(scope="session")
def engine_dir() -> Iterator[Path]:
    """The directory of the Pulumi CLI and plugins, first on PATH for the session."""
    found, reason = find_engine()
    if found is None:
        if REQUIRE:
            pytest.fail(f"TENANTGUARD_REQUIRE_REAL_ENGINE=1 but no Pulumi engine: {reason}")
        pytest.skip(f"no Pulumi engine (run scripts/pulumi-engine to build one): {reason}")
    old_path = os.environ.get("PATH", "")
    # The engine first; then this venv's bin, so plugins launch this interpreter.
    os.environ["PATH"] = os.pathsep.join([str(found), str(Path(sys.executable).parent), old_path])
    try:
        yield found
    finally:
        os.environ["PATH"] = old_path


@pytest.fixture(scope="session")
def pulumi_command(engine_dir: Path) -> auto.PulumiCommand:
    """The CLI from the engine directory (found on PATH, which `engine_dir` sets)."""
    command = auto.PulumiCommand()
    assert shutil.which("pulumi") == str(engine_dir / "pulumi")
    return command


@pytest.fixture(scope="session")
def pulumi_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PULUMI_HOME for the session: kept out of the user's ~/.pulumi."""
    return tmp_path_factory.mktemp("pulumi-home")


@dataclass
class Operation:
    """One CLI operation's outcome: the engine's change summary, the PCE requests it
    caused, and the engine's event stream (diagnostics included)."""

    summary: dict[str, int]
    requests: dict[str, int]
    events: list[auto.EngineEvent] = field(default_factory=list)
    outputs: dict[str, auto.OutputValue] = field(default_factory=dict)

    def diagnostics(self) -> str:
        """Every diagnostic message the engine reported, one per line."""
        return "\n".join(e.diagnostic_event.message for e in self.events if e.diagnostic_event)


class RealStack:
    """A stack of the test program under the real CLI, on one PCE emulator."""

    def __init__(self, stack: auto.Stack, emu: PceEmulator) -> None:
        self.stack = stack
        self.emu = emu

    def configure(self, **e2e: str) -> None:
        """Set `e2e:<key>` config for the next operation."""
        for key, value in e2e.items():
            self.stack.set_config(f"e2e:{key}", auto.ConfigValue(value))

    def _run(self, action: Callable[..., Any], **kwargs: Any) -> Operation:
        events: list[auto.EngineEvent] = []
        self.emu.reset_counts()
        result = action(on_event=events.append, color="never", **kwargs)
        summary = getattr(result, "change_summary", None)
        if summary is None:
            summary = result.summary.resource_changes or {}
        return Operation(
            summary=dict(summary),
            requests=request_counts(self.emu),
            events=events,
            outputs=dict(getattr(result, "outputs", {}) or {}),
        )

    def preview(self) -> Operation:
        """`pulumi preview`."""
        return self._run(self.stack.preview)

    def up(self) -> Operation:
        """`pulumi up --yes --skip-preview`, which is what the Automation API runs."""
        return self._run(self.stack.up)

    def refresh(self) -> Operation:
        """`pulumi refresh --yes`."""
        return self._run(self.stack.refresh)

    def destroy(self) -> Operation:
        """`pulumi destroy --yes`."""
        return self._run(self.stack.destroy)

    def cli(self, *args: str) -> auto.CommandResult:
        """Run the CLI itself on this stack, as a user types it (raises CommandError)."""
        workspace = self.stack.workspace
        assert isinstance(workspace, auto.LocalWorkspace)
        return workspace.pulumi_command.run(
            [*args, "--stack", self.stack.name, "--non-interactive"],
            workspace.work_dir,
            workspace.env_vars,
        )

    def export(self) -> dict[str, Any]:
        """The deployment with secrets decrypted (the Automation API's export uses
        `--show-secrets`), for reading ids and outputs."""
        return self.stack.export_stack().deployment

    def plain_export(self) -> str:
        """`pulumi stack export` exactly as a user runs it, without --show-secrets."""
        return self.cli("stack", "export").stdout

    def state_files(self) -> str:
        """Every file the `file://` backend holds for the project, as text."""
        backend = Path(self.stack.workspace.env_vars["PULUMI_BACKEND_URL"].removeprefix("file://"))
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(backend.rglob("*")) if p.is_file()
        )

    def resources(self, type_suffix: str = "") -> list[dict[str, Any]]:
        """The state's resources whose type ends with `type_suffix`."""
        found = self.export().get("resources", [])
        return [r for r in found if r["type"].endswith(type_suffix)]

    def resource(self, name: str) -> dict[str, Any]:
        """The one state resource whose URN ends with `::name`."""
        [found] = [r for r in self.export()["resources"] if r["urn"].endswith(f"::{name}")]
        return found


def engine_env(pulumi_home: Path, backend: Path) -> dict[str, str]:
    """What the CLI needs to run offline, with no login and no download."""
    return {
        "PULUMI_HOME": str(pulumi_home),
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "PYTHONPATH": str(REPO),  # the program imports tests.illumio_program
    }


def write_project(directory: Path, name: str, main: str) -> Path:
    """A Pulumi project in `directory` whose program is `main`, run in this venv."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "__main__.py").write_text(main)
    (directory / "Pulumi.yaml").write_text(
        json.dumps(
            {
                "name": name,
                "runtime": {"name": "python", "options": {"virtualenv": sys.prefix}},
            }
        )
    )
    return directory


@pytest.fixture
def make_stack(
    tmp_path: Path, pulumi_command: auto.PulumiCommand, pulumi_home: Path
) -> Callable[..., RealStack]:
    """`make_stack(emu, name="e2e", program=PROGRAM, **extra_config)`: a new stack."""

    def make(
        emu: PceEmulator, name: str = "e2e", program: Path = PROGRAM, **extra: str
    ) -> RealStack:
        project = write_project(
            tmp_path / f"project-{name}", "tenantguard-e2e", (program / "__main__.py").read_text()
        )
        backend = tmp_path / "backend"
        backend.mkdir(exist_ok=True)
        workspace = auto.LocalWorkspace(
            work_dir=str(project),
            pulumi_home=str(pulumi_home),
            env_vars=engine_env(pulumi_home, backend),
            pulumi_command=pulumi_command,
        )
        stack = auto.Stack.create(name, workspace)
        config = {
            "illumio:pceUrl": auto.ConfigValue(emu.url),
            "illumio:orgId": auto.ConfigValue(str(emu.org_id)),
            "illumio:apiKey": auto.ConfigValue(emu.api_key),
            "illumio:apiSecret": auto.ConfigValue(emu.api_secret, secret=True),
            "illumio:maxRetries": auto.ConfigValue("6"),
            "illumio:requestTimeout": auto.ConfigValue("10"),
        }
        config.update({k: auto.ConfigValue(v) for k, v in extra.items()})
        stack.set_all_config(config)
        return RealStack(stack, emu)

    return make


@pytest.fixture
def emu(pce_emulator: PceEmulator) -> PceEmulator:
    """The per-test emulator, where env=prod already exists (made by someone else)."""
    pce_emulator.add_label("env", "prod")
    return pce_emulator


@pytest.fixture
def real(emu: PceEmulator, make_stack: Callable[..., RealStack]) -> RealStack:
    """A fresh stack of the test program on the emulator."""
    return make_stack(emu)
