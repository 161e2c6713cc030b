"""The Illumio dynamic resources under the real Pulumi CLI, against the PCE emulator over
real HTTP: preview, up, no-op, update, replace, refresh, adoption, parallel creates,
faults, secrets in the exported state, and destroy.

What the engine stand-in (`tests/engine/`) cannot show is proved here: real step
parallelism, the engine's own diff and replace rules, unknowns during preview, the whole
stack config sent to `configure()`, and secret outputs encrypted in the state.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from pulumi.automation import CommandError

from tests.illumio_program import FIRST_UP_REQUESTS
from tests.pce_emulator import PceEmulator
from tests.pce_emulator.request_log import request_kind
from tests.real_engine.conftest import PASSPHRASE, RealStack

SECRET_SIG = "4dabf18193072939515e22adb298388d"
DYNAMIC = 9  # dynamic resources the test program declares by default


def label_pairs(emu: PceEmulator) -> list[tuple[str, str]]:
    return sorted((lb["key"], lb["value"]) for lb in emu.labels.values())


def cluster_profiles(emu: PceEmulator, cluster_href: str) -> list[dict[str, Any]]:
    return [p for href, p in emu.profiles.items() if href.startswith(cluster_href + "/")]


def assert_expected_objects(emu: PceEmulator, real: RealStack, app: str = "shop") -> None:
    """Exactly the declared PCE objects, no duplicate, and the state holding their ids."""
    assert len(emu.clusters) == 1, "no second or orphan cluster"
    [cluster] = emu.clusters.values()
    assert real.resource("cluster")["id"] == cluster["href"]
    assert label_pairs(emu) == sorted(
        [("env", "prod"), ("app", app), ("role", "web"), ("role", "db")]
    )
    namespaces = sorted(str(p["namespace"]) for p in cluster_profiles(emu, cluster["href"]))
    assert namespaces == ["None", "billing", "shop"], "one profile per namespace + Default"
    assert len(emu.pairing_profiles) == 1


def assert_no_op(real: RealStack) -> None:
    """A second `up`: nothing but `same`, and not one PCE request."""
    again = real.up()
    assert again.requests == {}, f"a no-op up made PCE requests: {again.requests}"
    assert set(again.summary) == {"same"}, again.summary


# ----------------------------------------------------------------------------- lifecycle


def test_preview_of_a_new_stack_lists_the_creates_and_calls_nothing(real) -> None:
    preview = real.preview()
    assert preview.requests == {}, "preview must not touch the PCE"
    assert preview.summary == {"create": DYNAMIC + 1}, "the stack plus every resource"
    assert real.emu.clusters == {} and real.emu.profiles == {}


def test_first_up_then_a_no_op(real, emu) -> None:
    first = real.up()
    assert first.summary == {"create": DYNAMIC + 1}
    assert first.requests == FIRST_UP_REQUESTS
    assert_expected_objects(emu, real)
    created = {
        r["urn"].rsplit("::", 1)[1]: r["outputs"]["created"] for r in real.resources(":Label")
    }
    assert created == {"env-prod": False, "app": True, "role-web": True, "role-db": True}
    assert_no_op(real)
    preview = real.preview()
    assert preview.requests == {} and set(preview.summary) == {"same"}


def test_an_in_place_update_and_a_replace(real, emu) -> None:
    real.up()
    old_app = real.resource("app")["id"]

    real.configure(mode="full")
    mode = real.up()
    assert mode.summary == {"same": DYNAMIC + 1 - 3, "update": 3}  # pairing, shop, billing
    assert mode.requests == {"pairing_profile PUT": 1, "profile PUT": 2}
    assert all(p["enforcement_mode"] == "full" for p in emu.profiles.values() if p["managed"])

    real.configure(app="store")
    renamed = real.up()
    assert renamed.summary == {"same": DYNAMIC + 1 - 2, "replace": 1, "update": 1}
    assert renamed.requests == {
        "label GET": 1,  # app=store absent ...
        "label POST": 1,  # ... so created
        "profile PUT": 1,  # shop now assigns it
        "label DELETE": 1,  # app=shop, made by this stack and no longer used
    }
    assert old_app not in emu.labels
    assert_expected_objects(emu, real, app="store")
    assert_no_op(real)


def test_a_new_description_updates_the_cluster_and_keeps_its_token(real, emu) -> None:
    first = real.up()
    href = real.resource("cluster")["id"]
    real.configure(description="real engine e2e, renamed team")
    second = real.up()
    assert second.summary == {"same": DYNAMIC, "update": 1}
    assert second.requests == {"cluster PUT": 1}
    assert emu.clusters[href]["description"] == "real engine e2e, renamed team"
    assert (
        second.outputs["cluster_token"].value
        == first.outputs["cluster_token"].value
        == emu.cluster_token(href)
    ), "the once-only token survives the update"
    assert second.outputs["cluster_token"].secret


def test_refresh_reads_each_object_once_and_forgets_what_was_deleted(real, emu) -> None:
    real.up()
    refresh = real.refresh()
    assert refresh.requests == {
        "cluster GET": 1,
        "label GET": 1,  # one collection read for the 4 labels ...
        "pairing_profile GET": 1,  # ... one for the profile and the key that checks it ...
        "profile GET": 1,  # ... and one for the cluster's workload profiles
    }
    assert set(refresh.summary) == {"same"}
    assert_no_op(real)

    # Someone deletes the billing profile in the PCE UI: refresh forgets it, up recreates it.
    billing = real.resource("billing")["id"]
    with emu.lock:
        emu.store.delete_profile(billing)
    gone = real.refresh()
    assert gone.summary.get("delete") == 1
    assert [r for r in real.export()["resources"] if r["urn"].endswith("::billing")] == []
    again = real.up()
    assert again.summary == {"same": DYNAMIC, "create": 1}
    assert again.requests == {"profile GET": 1, "profile POST": 1}
    assert_expected_objects(emu, real)
    assert_no_op(real)


def test_the_profile_kubelink_reported_is_adopted_and_destroy_cleans_up(real, emu) -> None:
    first = real.up()
    cluster_href = first.outputs["cluster_href"].value
    [legacy_href, system_href] = emu.kubelink_report(
        cluster_href, ["shop", "billing", "legacy", "kube-system"]
    )
    real.configure(withLegacy="true")
    adopted = real.up()
    assert adopted.outputs["legacy_href"].value == legacy_href, "adopted, not duplicated"
    assert adopted.requests == {"profile GET": 1, "profile PUT": 1}
    assert emu.profiles[legacy_href]["managed"] is True
    assert_no_op(real)

    destroyed = real.destroy()
    assert destroyed.summary == {"delete": DYNAMIC + 2}
    assert destroyed.requests == {
        "profile DELETE": 3,  # shop, billing and the adopted legacy profile
        "pairing_profile DELETE": 1,  # a pairing key has no API to revoke it
        "label DELETE": 3,
        "cluster DELETE": 1,  # takes kube-system's unmanaged profile with it
    }
    assert emu.clusters == {} and emu.profiles == {} and emu.pairing_profiles == {}
    assert label_pairs(emu) == [("env", "prod")], "only what the stack did not make is left"
    assert system_href not in emu.profiles
    assert real.export().get("resources", []) == []


def test_one_label_declared_by_many_resources_is_made_once_under_parallelism(
    make_stack: Callable[..., RealStack], emu
) -> None:
    real = make_stack(emu, **{"e2e:sharedLabels": "12"})
    emu.set_latency(0.05)  # widen the window in which the creates overlap
    up = real.up()
    assert "406" not in up.diagnostics() and "error" not in up.diagnostics().lower()
    shared = [lb for lb in emu.labels.values() if lb["key"] == "loc"]
    assert len(shared) == 1, "no duplicate label"
    assert set(up.outputs["shared_hrefs"].value) == {shared[0]["href"]}
    assert up.requests.get("label POST", 0) >= 4, up.requests
    owners = [r for r in real.resources(":Label") if r["outputs"]["key"] == "loc"]
    assert sum(r["outputs"]["created"] for r in owners) == 1, "exactly one owns it"
    emu.set_latency(0)
    assert_no_op(real)
    real.destroy()
    assert label_pairs(emu) == [("env", "prod")]


# ----------------------------------------------------------------------------- faults


def lose_a_response_of_every_kind(emu: PceEmulator) -> None:
    """Every create's answer lost at least once; the cluster's three times in a row, which
    illumio:maxRetries=6 allows (each lost POST leaves a token-less orphan to remove)."""
    emu.drop_response_after_apply("POST", "/container_clusters", count=3)
    emu.drop_response_after_apply("POST", "/labels", count=3)
    emu.drop_response_after_apply("POST", "/container_workload_profiles", count=2)
    emu.drop_response_after_apply("POST", "/pairing_profiles", count=1)
    emu.drop_response_after_apply("POST", "/pairing_key", count=1)


FAULTS: dict[str, Callable[[PceEmulator], None]] = {
    "rate-limit-storm": lambda emu: emu.inject_rate_limit(8, retry_after=1),
    "503-burst": lambda emu: emu.inject_failures(5, 503),
    "lost-responses": lose_a_response_of_every_kind,
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_first_up_converges_under_faults(real, emu, fault: str) -> None:
    FAULTS[fault](emu)
    up = real.up()
    faulty = [r for r in emu.requests if r.status >= 429 or r.dropped]
    assert faulty, "the fault was armed and hit"
    if fault == "lost-responses":
        dropped = {request_kind(r.path) for r in faulty if r.dropped}
        assert dropped == {"cluster", "label", "profile", "pairing_profile", "pairing_key"}
    assert up.summary == {"create": DYNAMIC + 1}
    assert_expected_objects(emu, real)
    assert_no_op(real)


def test_bad_input_is_refused_at_preview_naming_the_property(make_stack, emu) -> None:
    real = make_stack(emu, **{"e2e:mode": "enforce-everything"})

    with pytest.raises(CommandError) as refused:
        real.preview()
    message = str(refused.value)
    assert "enforcement_mode" in message, message
    assert emu.count() == 0, "nothing was sent to the PCE"
    # `pulumi up --yes` previews first, so the refusal stops it before any step runs.
    with pytest.raises(CommandError) as up:
        real.cli("up", "--yes")
    assert "enforcement_mode" in str(up.value)
    assert emu.count() == 0
    assert emu.clusters == {} and emu.profiles == {} and emu.pairing_profiles == {}


# ----------------------------------------------------------------------------- secrets


def test_exported_state_holds_no_plaintext_secret(real, emu) -> None:
    up = real.up()
    token = up.outputs["cluster_token"].value
    code = up.outputs["activation_code"].value
    assert token and code and up.outputs["cluster_token"].secret
    exported = real.plain_export()
    stored = real.state_files()  # the backend's own files, history and backups included
    for secret in (emu.api_secret, token, code, PASSPHRASE):
        for text in (exported, stored):
            assert secret not in text
            assert base64.b64encode(secret.encode()).decode() not in text

    resources = json.loads(exported)["deployment"]["resources"]
    by_name = {r["urn"].rsplit("::", 1)[1]: r for r in resources}
    for name, field in (
        ("cluster", "container_cluster_token"),
        ("pairing-key", "activation_code"),
    ):
        sealed = by_name[name]["outputs"][field]
        assert sealed[SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270", f"{name}.{field}"
        assert sealed["ciphertext"], f"{name}.{field} is ciphertext"
    provider = by_name["default"]["inputs"]["illumio:apiSecret"]
    assert "ciphertext" in provider, "the API secret in the provider's config is encrypted"

    # The engine stores each pickled provider as a secret too; decrypted, it must still
    # hold no credential (settings come from configure(), never from the pickle).
    pickles = 0
    for resource in real.export()["resources"]:
        provider = resource.get("inputs", {}).get("__provider")
        if provider is None:
            continue
        assert "ciphertext" in by_name[resource["urn"].rsplit("::", 1)[1]]["inputs"]["__provider"]
        if isinstance(provider, dict):  # --show-secrets gives {sig, plaintext: <json>}
            provider = json.loads(provider["plaintext"])
        pickled = base64.b64decode(provider)
        assert emu.api_secret.encode() not in pickled
        assert emu.api_key.encode() not in pickled, "no credential in the pickled provider"
        pickles += 1
    assert pickles == DYNAMIC
