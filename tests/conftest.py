"""Shared fixtures: the Pulumi mock harness (and, below it, the PCE emulator)."""

from __future__ import annotations

import pytest

from tests.pulumi_mocks import run_mocked


@pytest.fixture
def mocked():
    """Run a Pulumi program under recording mocks: `recording = mocked(lambda: ...)`."""
    return run_mocked
