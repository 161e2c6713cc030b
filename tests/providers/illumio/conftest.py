"""Fixtures for the Illumio provider tests: a PCE emulator and a configured provider host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from providers.illumio.provider_base import reset_provider_state
from tests.pce_emulator import PceEmulator
from tests.providers.illumio.dynamic_host import DynamicHost, stack_config


@pytest.fixture
def emu(pce_emulator: PceEmulator) -> PceEmulator:
    """The shared per-test PCE emulator, under a short name."""
    return pce_emulator


@pytest.fixture
def host(emu: PceEmulator) -> Iterator[DynamicHost]:
    """A real `python -m pulumi.dynamic` host configured with stack config for `emu`."""
    process = DynamicHost()
    try:
        process.configure(stack_config(emu.url, emu.org_id, emu.api_key, emu.api_secret))
        yield process
    finally:
        process.close()


@pytest.fixture
def pce(emu: PceEmulator):
    """A PceClient on `emu` for arranging PCE state out of band (as another user would)."""
    from providers.illumio.client import PceClient
    from providers.illumio.settings import PceSettings

    settings = PceSettings.load(
        config={
            "illumio:pceUrl": emu.url,
            "illumio:orgId": str(emu.org_id),
            "illumio:apiKey": emu.api_key,
            "illumio:apiSecret": emu.api_secret,
        },
        env={},
    )
    with PceClient(settings) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh_provider_state() -> Iterator[None]:
    """Providers called in-process share module state: start and end each test clean."""
    reset_provider_state()
    yield
    reset_provider_state()
