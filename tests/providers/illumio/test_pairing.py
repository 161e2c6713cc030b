"""PairingProfile and PairingKey through the real dynamic-provider host, against the emulator."""

from __future__ import annotations

import pytest

from providers.illumio.pairing import CODE, PairingKeyProvider, PairingProfileProvider
from tests.providers.illumio.dynamic_host import UNKNOWN, DynamicHost, changes

PROFILE = PairingProfileProvider()
KEY = PairingKeyProvider()


def _named(emu, name: str) -> list[dict]:
    return [pp for pp in emu.pairing_profiles.values() if pp["name"] == name]


def test_profile_lifecycle_counts_requests(emu, host: DynamicHost, pce) -> None:
    env = emu.add_label("env", "prod")
    loc = emu.add_label("loc", "fra")
    inputs = {"name": "kubelink-prod", "assign_labels": {"env": env, "loc": loc}}
    emu.reset_counts()
    assert host.check(PROFILE, inputs).failures == []
    assert emu.count() == 0

    state = host.create(PROFILE, inputs)
    assert emu.count() == 1 and emu.count("POST") == 1
    live = emu.pairing_profiles[state.id]
    assert sorted(ref["href"] for ref in live["labels"]) == sorted([env, loc])
    assert live["enforcement_mode"] == "visibility_only" and live["enabled"] is True
    assert state.plain_outputs["href"] == state.id

    emu.reset_counts()
    assert changes(host.check_and_diff(PROFILE, state, inputs)) == "none"
    assert emu.count() == 0

    updated = {"name": "kubelink-prod", "enforcement_mode": "full", "assign_labels": {"env": env}}
    diff = host.check_and_diff(PROFILE, state, updated)
    assert changes(diff) == "some" and list(diff.replaces) == []
    emu.reset_counts()
    state = host.update(PROFILE, state, updated)
    assert emu.count() == 1 and emu.count("PUT") == 1
    live = emu.pairing_profiles[state.id]
    assert live["enforcement_mode"] == "full" and live["labels"] == [{"href": env}]

    host.next_operation()  # `pulumi refresh`: a new provider process
    emu.reset_counts()
    refreshed = host.read(state)
    assert refreshed is not None and emu.count() == 1
    assert refreshed.plain_outputs == state.plain_outputs
    emu.reset_counts()
    assert changes(host.check_and_diff(PROFILE, refreshed, updated)) == "none"
    assert emu.count() == 0

    pce.update_pairing_profile(state.id, {"labels": [{"href": loc}]})  # drift
    host.next_operation()  # the `pulumi refresh` that finds it
    drifted = host.read(refreshed)
    assert changes(host.check_and_diff(PROFILE, drifted, updated)) == "some"

    pce.delete_pairing_profile(state.id)  # out of band
    host.next_operation()  # the `pulumi refresh` that finds it
    emu.reset_counts()
    assert host.read(drifted) is None and emu.count() == 1

    recreated = host.create(PROFILE, updated)
    assert recreated.id in emu.pairing_profiles and recreated.id != state.id
    emu.reset_counts()
    host.delete(recreated)
    assert emu.count() == 1 and emu.count("DELETE") == 1
    assert recreated.id not in emu.pairing_profiles
    host.delete(recreated)  # 404 is success


def test_key_lifecycle_keeps_the_secret_code(emu, host, pce) -> None:
    profile = pce.create_pairing_profile({"name": "pp-a"}).href
    emu.reset_counts()
    assert host.check(KEY, {"pairing_profile_href": profile}).failures == []
    assert emu.count() == 0

    state = host.create(KEY, {"pairing_profile_href": profile})
    assert emu.count() == 1 and emu.count("POST") == 1
    codes = emu.activation_codes(profile)
    assert state.plain_outputs[CODE] == codes[-1]
    assert state.is_secret(CODE), "the host response must mark the activation code secret"

    emu.reset_counts()
    assert changes(host.check_and_diff(KEY, state, {"pairing_profile_href": profile})) == "none"
    assert emu.count() == 0

    host.next_operation()  # `pulumi refresh`: a new provider process
    emu.reset_counts()
    refreshed = host.read(state)
    assert refreshed is not None and emu.count() == 1
    assert refreshed.plain_outputs[CODE] == codes[-1], "read keeps the stored code"
    assert refreshed.is_secret(CODE)

    # Another profile is another key: replace (create the new one, forget the old one).
    other = pce.create_pairing_profile({"name": "pp-b"}).href
    diff = host.check_and_diff(KEY, refreshed, {"pairing_profile_href": other})
    assert changes(diff) == "some" and list(diff.replaces) == ["pairing_profile_href"]
    replacement = host.create(KEY, {"pairing_profile_href": other})
    assert replacement.plain_outputs[CODE] == emu.activation_codes(other)[-1]
    assert replacement.plain_outputs[CODE] != state.plain_outputs[CODE]
    emu.reset_counts()
    host.delete(refreshed)
    assert emu.count() == 0, "a pairing key cannot be revoked on its own: delete is local"

    # A new create mints a new code, never the stored one.
    again = host.create(KEY, {"pairing_profile_href": other})
    assert again.plain_outputs[CODE] != replacement.plain_outputs[CODE]

    pce.delete_pairing_profile(other)  # out of band: the key goes with its profile
    host.next_operation()  # the `pulumi refresh` that finds it
    emu.reset_counts()
    assert host.read(again) is None and emu.count() == 1


def test_key_update_returns_the_stored_outputs_without_requests(emu, host, pce) -> None:
    profile = pce.create_pairing_profile({"name": "pp-u"}).href
    state = host.create(KEY, {"pairing_profile_href": profile})
    emu.reset_counts()
    updated = host.update(KEY, state, {"pairing_profile_href": profile})
    assert emu.count() == 0
    assert updated.plain_outputs[CODE] == state.plain_outputs[CODE] and updated.is_secret(CODE)


def test_lost_post_responses_converge(emu, host, pce) -> None:
    emu.drop_response_after_apply(method="POST", path_contains="pairing_profiles", count=1)
    state = host.create(PROFILE, {"name": "lost-profile"})
    assert [pp["href"] for pp in _named(emu, "lost-profile")] == [state.id]

    emu.drop_response_after_apply(method="POST", path_contains="pairing_key", count=1)
    key = host.create(KEY, {"pairing_profile_href": state.id})
    codes = emu.activation_codes(state.id)
    assert len(codes) == 2, "the lost code is replaced by a fresh one"
    assert key.plain_outputs[CODE] == codes[-1]


def test_rate_limit_storm_and_server_errors_converge(emu, host) -> None:
    emu.inject_rate_limit(4, retry_after=0)
    state = host.create(PROFILE, {"name": "stormy"})
    emu.inject_failures(2, status=503)
    host.update(PROFILE, state, {"name": "stormy", "enabled": False})
    assert emu.pairing_profiles[state.id]["enabled"] is False
    emu.inject_failures(1, status=502, method="POST")
    other = host.create(PROFILE, {"name": "bursty"})
    assert [pp["href"] for pp in _named(emu, "bursty")] == [other.id]


def test_unknown_profile_href_plans_a_replacement(emu, host, pce) -> None:
    profile = pce.create_pairing_profile({"name": "pp-x"}).href
    state = host.create(KEY, {"pairing_profile_href": profile})
    emu.reset_counts()
    diff = host.check_and_diff(KEY, state, {"pairing_profile_href": UNKNOWN})
    assert changes(diff) == "some" and list(diff.replaces) == ["pairing_profile_href"]
    assert emu.count() == 0


@pytest.mark.parametrize(
    ("news", "prop"),
    [
        ({"name": ""}, "name"),
        ({"name": "p", "enforcement_mode": "selective"}, "enforcement_mode"),
        ({"name": "p", "visibility_level": "loud"}, "visibility_level"),
        ({"name": "p", "assign_labels": {"env": ""}}, "assign_labels"),
    ],
)
def test_profile_check_names_the_bad_property(emu, host, news, prop) -> None:
    outcome = host.check(PROFILE, news)
    assert [p for p, _ in outcome.failures] == [prop]
    assert emu.count() == 0


def test_key_check_requires_a_profile(emu, host) -> None:
    outcome = host.check(KEY, {"pairing_profile_href": ""})
    assert [p for p, _ in outcome.failures] == ["pairing_profile_href"]
