"""The Illumio dynamic resources end to end: a program using them, run through the engine
stand-in against the PCE emulator, as `pulumi up` / `destroy` would run it.

Proves what a platform engineer relies on: exactly the expected PCE objects, a second
`up` that makes no PCE request at all, only the expected updates on a change, a destroy
that removes what the stack made (and only that), convergence under 429s, 5xx bursts
and lost responses, and secrets that never reach a pickle or a plain output.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.engine.conftest import request_counts
from tests.engine.standin import EngineStandIn
from tests.illumio_program import CLUSTER, FIRST_UP_REQUESTS, PAIRING, declare
from tests.pce_emulator import PceEmulator

CLUSTER_TYPE = "illumio:ContainerCluster"
KEY_TYPE = "illumio:PairingKey"
PROFILE_TYPE = "illumio:ContainerWorkloadProfile"


@dataclass(frozen=True)
class IllumioStack:
    """The program under test; each field is something a user might change between runs."""

    mode: str = "visibility_only"
    app: str = "shop"
    description: str = "engine e2e"
    with_legacy: bool = False
    """Also manage namespace `legacy`, whose profile Kubelink has already reported."""

    def __call__(self) -> None:
        declare(
            mode=self.mode,
            app=self.app,
            description=self.description,
            with_legacy=self.with_legacy,
        )


@pytest.fixture
def engine(emu: PceEmulator, make_engine: Callable[..., EngineStandIn]) -> EngineStandIn:
    """A fresh stack on an emulator where env=prod already exists (made by someone else)."""
    emu.add_label("env", "prod")
    return make_engine()


# ----------------------------------------------------------------------------- helpers


def cluster_profiles(emu: PceEmulator, cluster_href: str) -> list[dict[str, Any]]:
    return [p for href, p in emu.profiles.items() if href.startswith(cluster_href + "/")]


def label_href(emu: PceEmulator, key: str, value: str) -> str:
    [href] = [h for h, lb in emu.labels.items() if (lb["key"], lb["value"]) == (key, value)]
    return href


def assert_expected_objects(emu: PceEmulator, engine: EngineStandIn, stack: IllumioStack) -> None:
    """Exactly the objects `stack` declares (no duplicates), wired to each other, and the
    state holding the real ids and the one token and key that work."""
    [cluster] = [c for c in emu.clusters.values() if c["name"] == CLUSTER]
    assert len(emu.clusters) == 1, "no second or orphan cluster"
    state_cluster = engine.state.named("cluster")
    assert state_cluster.id == cluster["href"]
    assert state_cluster.plain_outputs["container_cluster_token"] == emu.cluster_token(
        cluster["href"]
    ), "the stored token is the cluster's real token"

    pairs = sorted((lb["key"], lb["value"]) for lb in emu.labels.values())
    assert pairs == sorted([("env", "prod"), ("app", stack.app), ("role", "web"), ("role", "db")])

    namespaces = sorted(str(p["namespace"]) for p in cluster_profiles(emu, cluster["href"]))
    expected = ["None", "billing", "shop"] + (["legacy"] if stack.with_legacy else [])
    assert namespaces == sorted(expected), "one profile per namespace plus the Default Profile"
    shop = next(p for p in cluster_profiles(emu, cluster["href"]) if p["namespace"] == "shop")
    assert shop["managed"] is True and shop["enforcement_mode"] == stack.mode
    rules = {entry["key"]: entry for entry in shop["labels"]}
    assert rules["env"]["assignment"]["href"] == label_href(emu, "env", "prod")
    assert rules["app"]["assignment"]["href"] == label_href(emu, "app", stack.app)
    assert sorted(r["href"] for r in rules["role"]["restriction"]) == sorted(
        [label_href(emu, "role", "web"), label_href(emu, "role", "db")]
    )

    [pairing_href] = [h for h, p in emu.pairing_profiles.items() if p["name"] == PAIRING]
    assert len(emu.pairing_profiles) == 1
    assert (
        engine.state.named("pairing-key").plain_outputs["activation_code"]
        == (emu.activation_codes(pairing_href)[-1])
    ), "the stored pairing key is the newest one the PCE issued"


def assert_no_op(emu: PceEmulator, engine: EngineStandIn, stack: IllumioStack) -> None:
    """A second `up` with no change: no PCE request and no Create/Update/Delete."""
    emu.reset_counts()
    result = engine.up(stack)
    assert emu.count() == 0, f"a no-op up made PCE requests: {request_counts(emu)}"
    assert set(result.methods()) == {"Configure", "Check", "Diff"}
    assert result.count("Diff") == len(engine.state.dynamic()), "every resource was diffed"
    assert result.changed() == []


# ----------------------------------------------------------------------------- lifecycle


def test_first_up_creates_exactly_the_declared_objects(emu, engine) -> None:
    emu.reset_counts()
    result = engine.up(IllumioStack())

    assert_expected_objects(emu, engine, IllumioStack())
    assert result.count("Create") == 9 and result.count("Update") == result.count("Delete") == 0
    assert request_counts(emu) == FIRST_UP_REQUESTS
    state = engine.state
    assert state.named("env-prod").plain_outputs["created"] is False
    assert all(state.named(n).plain_outputs["created"] for n in ("app", "role-web", "role-db"))


def test_second_up_without_changes_makes_no_pce_request(emu, engine) -> None:
    engine.up(IllumioStack())
    assert_no_op(emu, engine, IllumioStack())
    assert_expected_objects(emu, engine, IllumioStack())


def test_a_change_makes_only_the_expected_updates(emu, engine) -> None:
    engine.up(IllumioStack())
    old_app = label_href(emu, "app", "shop")

    emu.reset_counts()
    mode = engine.up(IllumioStack(mode="full"))
    assert mode.ops("update") == ["billing", "pairing", "shop"]
    assert mode.count("Create") == mode.count("Delete") == 0
    assert request_counts(emu) == {"pairing_profile PUT": 1, "profile PUT": 2}
    assert_expected_objects(emu, engine, IllumioStack(mode="full"))

    emu.reset_counts()
    renamed = engine.up(IllumioStack(mode="full", app="store"))
    assert renamed.ops("replace") == ["app"] and renamed.ops("update") == ["shop"]
    assert request_counts(emu) == {
        "label GET": 1,  # app=store absent ...
        "label POST": 1,  # ... so created
        "profile PUT": 1,  # shop now assigns it
        "label DELETE": 1,  # app=shop, made by this stack and no longer used
    }
    assert old_app not in emu.labels
    assert_expected_objects(emu, engine, IllumioStack(mode="full", app="store"))
    assert_no_op(emu, engine, IllumioStack(mode="full", app="store"))


def test_the_profile_kubelink_reported_is_adopted_and_destroy_cleans_up(emu, engine) -> None:
    engine.up(IllumioStack())
    cluster_href = engine.state.named("cluster").id
    # Kubelink pairs and reports every namespace; the PCE makes unmanaged profiles.
    [legacy_href, system_href] = emu.kubelink_report(
        cluster_href, ["shop", "billing", "legacy", "kube-system"]
    )

    emu.reset_counts()
    adopted = engine.up(IllumioStack(with_legacy=True))
    assert adopted.exports["legacy_href"] == legacy_href, "adopted, not duplicated"
    assert request_counts(emu) == {"profile GET": 1, "profile PUT": 1}
    assert emu.profiles[legacy_href]["managed"] is True
    namespaces = sorted(str(p["namespace"]) for p in cluster_profiles(emu, cluster_href))
    assert namespaces == ["None", "billing", "kube-system", "legacy", "shop"]
    assert_no_op(emu, engine, IllumioStack(with_legacy=True))

    emu.reset_counts()
    destroyed = engine.destroy()
    assert len(engine.state) == 0
    assert emu.clusters == {} and emu.profiles == {} and emu.pairing_profiles == {}
    # Labels this stack made are gone; env=prod, which it only used, stays.
    assert [(lb["key"], lb["value"]) for lb in emu.labels.values()] == [("env", "prod")]
    assert destroyed.count("Delete") == 10
    assert request_counts(emu) == {
        "profile DELETE": 3,  # shop, billing and the adopted legacy profile
        "pairing_profile DELETE": 1,  # a pairing key has no API to revoke it
        "label DELETE": 3,
        "cluster DELETE": 1,  # takes kube-system's unmanaged profile with it
    }
    assert system_href not in emu.profiles


def test_refresh_reads_each_object_once_and_drops_what_is_gone(emu, engine) -> None:
    engine.up(IllumioStack())
    emu.reset_counts()

    engine.refresh()

    assert request_counts(emu) == {
        "cluster GET": 1,
        "label GET": 1,  # one collection read for the 4 labels ...
        "pairing_profile GET": 1,  # ... one for the profile and the key that checks it ...
        "profile GET": 1,  # ... and one for the cluster's workload profiles
    }
    assert engine.state.named("cluster").is_secret("container_cluster_token")
    assert_no_op(emu, engine, IllumioStack())

    # Someone deletes the billing profile in the PCE UI: refresh forgets it, up recreates it.
    billing_href = engine.state.named("billing").id
    with emu.lock:
        emu.store.delete_profile(billing_href)
    engine.refresh()
    assert "billing" not in [r.name for r in engine.state.resources.values()]
    recreated = engine.up(IllumioStack())
    assert recreated.ops("create") == ["billing"]
    assert_expected_objects(emu, engine, IllumioStack())


# ----------------------------------------------------------------------------- faults

# Each first `up` runs with a fault armed; every one must end with exactly the declared
# objects, no duplicate, no token-less orphan cluster, and a zero-request second `up`.
FAULTS: dict[str, Callable[[PceEmulator], None]] = {
    "rate-limit-storm": lambda emu: emu.inject_rate_limit(8, retry_after=0),
    "503-burst": lambda emu: emu.inject_failures(5, 503),
    "lost-cluster-post": lambda emu: emu.drop_response_after_apply("POST", "/container_clusters"),
    "lost-label-posts": lambda emu: emu.drop_response_after_apply("POST", "/labels", count=3),
    "lost-profile-posts": lambda emu: emu.drop_response_after_apply(
        "POST", "/container_workload_profiles", count=2
    ),
    "lost-pairing-profile-post": lambda emu: emu.drop_response_after_apply(
        "POST", "/pairing_profiles", count=1
    ),
    "lost-pairing-key-post": lambda emu: emu.drop_response_after_apply(
        "POST", "/pairing_key", count=1
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_first_up_converges_under_faults(emu, engine, fault: str) -> None:
    emu.reset_counts()
    FAULTS[fault](emu)

    engine.up(IllumioStack())

    faulty = [r for r in emu.requests if r.status >= 429 or r.dropped]
    assert faulty, "the fault was armed and hit"
    assert_expected_objects(emu, engine, IllumioStack())
    assert_no_op(emu, engine, IllumioStack())


# ----------------------------------------------------------------------------- secrets


def test_secrets_stay_out_of_pickles_and_plain_outputs(emu, engine) -> None:
    result = engine.up(IllumioStack())
    token = engine.state.named("cluster").plain_outputs["container_cluster_token"]
    code = engine.state.named("pairing-key").plain_outputs["activation_code"]
    assert token and code

    for resource in engine.state.dynamic():
        for pickle in resource.provider_pickles():
            assert emu.api_secret.encode() not in pickle, f"API secret pickled in {resource.name}"
            assert base64.b64encode(emu.api_secret.encode()) not in pickle
    plaintext = engine.state.plaintext()
    for secret in (emu.api_secret, token, code):
        assert secret not in plaintext

    assert engine.state.named("cluster").is_secret("container_cluster_token")
    assert engine.state.named("pairing-key").is_secret("activation_code")
    assert {"cluster_token", "activation_code"} <= result.secret_exports
    assert "cluster_href" not in result.secret_exports, "plain values stay readable"


def test_a_new_description_updates_the_cluster_and_keeps_its_token(emu, engine) -> None:
    first = engine.up(IllumioStack())
    href = engine.state.named("cluster").id

    emu.reset_counts()
    result = engine.up(IllumioStack(description="engine e2e, renamed team"))

    assert result.ops("update") == ["cluster"]
    assert request_counts(emu) == {"cluster PUT": 1}
    assert emu.clusters[href]["description"] == "engine e2e, renamed team"
    assert (
        result.exports["cluster_token"]
        == first.exports["cluster_token"]
        == (emu.cluster_token(href))
    ), "the once-only token survives the update"
    assert "cluster_token" in result.secret_exports
