"""Provider plumbing through the host: settings from env or config, no HTTP in check/diff."""

from __future__ import annotations

import os

import pytest

from providers.illumio import provider_base
from providers.illumio.label import LabelProvider
from providers.illumio.provider_base import changed_keys, is_unknown, plain, set_provider_config
from tests.providers.illumio.dynamic_host import (
    UNKNOWN,
    DynamicHost,
    HostCallError,
    ResourceState,
    changes,
    type_token,
)

PROVIDER = LabelProvider()


def test_settings_from_the_environment_when_config_is_absent(emu) -> None:
    host = DynamicHost(
        env={
            "ILLUMIO_PCE_URL": emu.url,
            "ILLUMIO_ORG_ID": str(emu.org_id),
            "ILLUMIO_API_KEY": emu.api_key,
            "ILLUMIO_API_SECRET": emu.api_secret,
        }
    )
    try:
        host.configure({})
        state = host.create(PROVIDER, {"key": "env", "value": "from-env"})
        assert state.id in emu.labels
    finally:
        host.close()


def test_stack_config_wins_over_the_environment(emu) -> None:
    host = DynamicHost(env={"ILLUMIO_PCE_URL": "http://127.0.0.1:9", "ILLUMIO_ORG_ID": "7"})
    try:
        host.configure(
            {
                "illumio:pceUrl": emu.url,
                "illumio:orgId": str(emu.org_id),
                "illumio:apiKey": emu.api_key,
                "illumio:apiSecret": emu.api_secret,
            }
        )
        state = host.create(PROVIDER, {"key": "env", "value": "from-config"})
        assert state.id.startswith(f"/orgs/{emu.org_id}/labels/")
    finally:
        host.close()


def test_missing_settings_fail_create_clearly_but_not_check_or_diff(emu) -> None:
    host = DynamicHost()
    try:
        host.configure({})
        assert host.check(PROVIDER, {"key": "env", "value": "x"}).failures == []
        with pytest.raises(HostCallError) as caught:
            host.create(PROVIDER, {"key": "env", "value": "x"})
        assert "illumio:pceUrl" in caught.value.details
        assert "ILLUMIO_PCE_URL" in caught.value.details
        # A label already in the state diffs (as `pulumi preview` does) without settings.
        blob = host.provider_blob(PROVIDER)
        inputs = {"key": "env", "value": "x", "__provider": blob}
        href = f"/orgs/{emu.org_id}/labels/1"
        stored = ResourceState(
            type_token(PROVIDER), "res", blob, href, inputs, {**inputs, "href": href}
        )
        assert changes(host.check_and_diff(PROVIDER, stored, {"key": "env", "value": "x"})) == (
            "none"
        )
        assert changes(host.check_and_diff(PROVIDER, stored, {"key": "env", "value": "y"})) == (
            "some"
        )
        assert emu.count() == 0
    finally:
        host.close()


def test_preview_diff_makes_no_request(emu, host) -> None:
    state = host.create(PROVIDER, {"key": "env", "value": "p"})
    emu.reset_counts()
    assert changes(host.check_and_diff(PROVIDER, state, {"key": "env", "value": "p"})) == "none"
    assert changes(host.check_and_diff(PROVIDER, state, {"key": UNKNOWN, "value": "p"})) == "some"
    assert emu.count() == 0


def test_value_helpers() -> None:
    from pulumi.output import Unknown
    from pulumi.runtime import rpc

    assert plain({"a": rpc.wrap_rpc_secret("s"), "b": [rpc.wrap_rpc_secret(1)]}) == {
        "a": "s",
        "b": [1],
    }
    assert is_unknown({"x": [Unknown()]}) and not is_unknown({"x": ["known"]})
    changed, unknown = changed_keys(
        {"a": None, "b": 1, "c": 2},
        {"a": "", "b": 2, "c": Unknown()},
        ("a", "b", "c"),
        {"a": lambda v: v or ""},
    )
    assert (changed, unknown) == (["b"], ["c"])
    set_provider_config({"illumio:orgId": 1.0, "illumio:insecureSkipTlsVerify": True, "x:y": 1})
    assert provider_base._config == {"illumio:orgId": "1", "illumio:insecureSkipTlsVerify": "true"}


@pytest.mark.needs_real_pce
@pytest.mark.skipif(
    not os.environ.get("ILLUMIO_REAL_PCE_URL"),
    reason="needs a real Illumio PCE: set ILLUMIO_REAL_PCE_URL, ILLUMIO_ORG_ID, ILLUMIO_API_KEY "
    "and ILLUMIO_API_SECRET",
)
def test_label_get_or_create_against_a_real_pce() -> None:
    """The same host-driven lifecycle against a real PCE (reuses an existing env=prod label)."""
    host = DynamicHost(env={"ILLUMIO_PCE_URL": os.environ["ILLUMIO_REAL_PCE_URL"]})
    try:
        host.configure({})
        state = host.create(PROVIDER, {"key": "env", "value": "tenantguard-provider-test"})
        assert state.id.startswith("/orgs/")
        assert host.read(state) is not None
        host.delete(state)
    finally:
        host.close()
