"""The whole tenantguard program under the real engine, as far as it goes without the
Kubernetes and Vault provider plugins (neither is built here: see the README).

The engine runs the program through the language host, registers the components and
the Illumio dynamic resources, and stops at the first Kubernetes resource with its own
"plugin not found" error (or at the Vault provider, when the engine loads that one
first); the PCE sees no write.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path

import pytest
from pulumi.automation import CommandError

from tests.pce_emulator import PceEmulator
from tests.real_engine.conftest import RealStack

PROGRAM_MAIN = (
    '"""tenantguard, as __main__.py runs it."""\nfrom tenantguard.program import main\n\nmain()\n'
)


@pytest.fixture
def program_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "tenantguard-program"
    directory.mkdir()
    (directory / "__main__.py").write_text(PROGRAM_MAIN)
    return directory


def test_the_program_reaches_the_kubernetes_resources_and_stops_for_the_plugin(
    make_stack: Callable[..., RealStack], emu: PceEmulator, program_dir: Path
) -> None:
    real = make_stack(
        emu,
        name="dev",
        program=program_dir,
        **{
            "tenantguard:spec": "dev",
            "kubernetes:context": "dev-eu1",
            "vault:address": "https://vault.internal.example:8200",
        },
    )
    with pytest.raises(CommandError) as stopped:
        real.preview()
    message = str(stopped.value)
    # The program registers its Kubernetes and Vault providers concurrently; whichever the
    # engine loads first stops the run, with exactly the engine's own message.
    expected = [
        f"pulumi:providers:{name} (platform-{name}):\n"
        f"    error: no resource plugin 'pulumi-resource-{name}' found in the workspace "
        f"at version v{importlib.metadata.version(package)} or on your $PATH"
        for name, package in (("kubernetes", "pulumi_kubernetes"), ("vault", "pulumi_vault"))
    ]
    assert [line for line in expected if line in message] != [], message[-2000:]
    assert emu.count("POST") == emu.count("PUT") == emu.count("DELETE") == 0
