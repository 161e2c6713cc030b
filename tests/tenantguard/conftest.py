"""Fixtures for the CLI tests: the Pulumi program `render` runs, and a PCE that fails fast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tenantguard.program import main


@pytest.fixture(scope="session")
def platform_program() -> Callable[[], Any]:
    """The program `tenantguard render` runs: `tenantguard.program.main`."""
    return main


@pytest.fixture
def quiet_pce_env(monkeypatch: pytest.MonkeyPatch, pce_env: Any) -> Any:
    """`pce_env` with no retries, so a refused connection fails at once."""
    monkeypatch.setenv("ILLUMIO_MAX_RETRIES", "0")
    return pce_env
