"""Shared fixtures: the Pulumi mock harness (and, below it, the PCE emulator)."""

from __future__ import annotations

import pytest

from tests.pulumi_mocks import run_mocked


@pytest.fixture
def mocked():
    """Run a Pulumi program under recording mocks: `recording = mocked(lambda: ...)`."""
    return run_mocked


@pytest.fixture
def pce_emulator():
    """A started PCE emulator on 127.0.0.1 for one test; stopped afterwards."""
    from tests.pce_emulator import PceEmulator

    emulator = PceEmulator(org_id=1, api_key="api_1f2e3d4c5b6a7980")
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def pce_env(monkeypatch, pce_emulator):
    """Point the ILLUMIO_* connection env vars at the emulator; returns the emulator."""
    monkeypatch.setenv("ILLUMIO_PCE_URL", pce_emulator.url)
    monkeypatch.setenv("ILLUMIO_ORG_ID", str(pce_emulator.org_id))
    monkeypatch.setenv("ILLUMIO_API_KEY", pce_emulator.api_key)
    monkeypatch.setenv("ILLUMIO_API_SECRET", pce_emulator.api_secret)
    return pce_emulator
