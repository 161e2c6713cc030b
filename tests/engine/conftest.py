"""Fixtures for the engine stand-in tests: a toy store, and stand-ins wired to the PCE emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.engine.standin import EngineStandIn
from tests.pce_emulator import PceEmulator
from tests.pce_emulator.request_log import request_counts
from tests.providers.illumio.dynamic_host import stack_config

__all__ = ["request_counts"]


@pytest.fixture
def emu(pce_emulator: PceEmulator) -> PceEmulator:
    """The per-test PCE emulator under a short name."""
    return pce_emulator


@pytest.fixture
def illumio_config(emu: PceEmulator) -> dict[str, Any]:
    """Stack config for the emulator, the API secret marked secret (as `config set --secret`)."""
    return stack_config(emu.url, emu.org_id, emu.api_key, emu.api_secret)


@pytest.fixture
def make_engine(illumio_config: dict[str, Any]) -> Callable[..., EngineStandIn]:
    """`make_engine(**extra_config)`: a stand-in for a fresh stack on the emulator."""

    def make(**extra: Any) -> EngineStandIn:
        return EngineStandIn(config={**illumio_config, **extra})

    return make


@pytest.fixture
def toy_store(tmp_path: Path) -> Path:
    """The directory the toy provider keeps its items in."""
    directory = tmp_path / "items"
    directory.mkdir()
    return directory
