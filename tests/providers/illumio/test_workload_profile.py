"""ContainerWorkloadProfile through the real dynamic-provider host, against the PCE emulator."""

from __future__ import annotations

import pytest

from providers.illumio.models import WorkloadProfileRecord
from providers.illumio.profile_payload import NO_LABEL, to_pce_labels
from providers.illumio.workload_profile import ContainerWorkloadProfileProvider, live_outputs
from tests.providers.illumio.dynamic_host import UNKNOWN, DynamicHost, changes

PROVIDER = ContainerWorkloadProfileProvider()


@pytest.fixture
def cluster(pce) -> str:
    return pce.create_container_cluster("profiles-cluster", "").href


@pytest.fixture
def labels(emu) -> dict[str, str]:
    return {
        "env": emu.add_label("env", "prod"),
        "app": emu.add_label("app", "shop"),
        "role-web": emu.add_label("role", "web"),
        "role-db": emu.add_label("role", "db"),
    }


def _inputs(cluster: str, labels: dict[str, str], **overrides) -> dict:
    base = {
        "container_cluster_href": cluster,
        "namespace": "shop-prod",
        "enforcement_mode": "visibility_only",
        "visibility_level": "flow_summary",
        "managed": True,
        "log_traffic": False,
        "assign_labels": {"env": labels["env"], "app": ""},  # "" = explicitly no label
        "label_restrictions": {"role": [labels["role-web"], labels["role-db"]]},
    }
    base.update(overrides)
    return base


def _profiles_for(emu, cluster: str, namespace: str) -> list[dict]:
    return [
        pr
        for href, pr in emu.profiles.items()
        if href.startswith(cluster) and pr["namespace"] == namespace
    ]


def test_lifecycle_counts_requests(emu, host: DynamicHost, pce, cluster, labels) -> None:
    inputs = _inputs(cluster, labels)
    emu.reset_counts()
    assert host.check(PROVIDER, inputs).failures == []
    assert emu.count() == 0

    state = host.create(PROVIDER, inputs)
    assert emu.count() == 2 and emu.count("GET") == 1 and emu.count("POST") == 1
    live = emu.profiles[state.id]
    assert live["managed"] is True and live["enforcement_mode"] == "visibility_only"
    by_key = {entry["key"]: entry for entry in live["labels"]}
    assert by_key["env"]["assignment"]["href"] == labels["env"]
    assert "assignment" not in by_key["app"] and "restriction" not in by_key["app"]
    assert sorted(r["href"] for r in by_key["role"]["restriction"]) == sorted(
        [labels["role-web"], labels["role-db"]]
    )
    out = state.plain_outputs
    assert out["href"] == state.id and out["linked"] is False
    assert out["name"] == "shop-prod" and out["namespace"] == "shop-prod"
    assert out["assign_labels"] == {"env": labels["env"], "app": ""}

    emu.reset_counts()
    # Same inputs, restriction list in another order: still no change.
    reordered = _inputs(
        cluster, labels, label_restrictions={"role": [labels["role-db"], labels["role-web"]]}
    )
    assert changes(host.check_and_diff(PROVIDER, state, reordered)) == "none"
    assert emu.count() == 0

    updated_inputs = _inputs(
        cluster,
        labels,
        enforcement_mode="full",
        description="shop",
        label_restrictions={"role": []},
    )
    diff = host.check_and_diff(PROVIDER, state, updated_inputs)
    assert changes(diff) == "some" and list(diff.replaces) == []
    emu.reset_counts()
    state = host.update(PROVIDER, state, updated_inputs)
    assert emu.count() == 1 and emu.count("PUT") == 1
    live = emu.profiles[state.id]
    assert live["enforcement_mode"] == "full" and live["description"] == "shop"
    assert {e["key"]: e for e in live["labels"]}["role"]["restriction"] == []
    assert state.plain_outputs["enforcement_mode"] == "full"
    assert state.plain_outputs["label_restrictions"] == {"role": []}

    host.next_operation()  # `pulumi refresh`: a new provider process
    emu.reset_counts()
    refreshed = host.read(state)
    assert refreshed is not None
    assert emu.count() == 1 and emu.count("GET") == 1
    assert refreshed.plain_outputs == state.plain_outputs
    emu.reset_counts()
    assert changes(host.check_and_diff(PROVIDER, refreshed, updated_inputs)) == "none"
    assert emu.count() == 0

    pce.delete_workload_profile(state.id)  # out of band
    host.next_operation()  # the `pulumi refresh` that finds it
    emu.reset_counts()
    assert host.read(refreshed) is None
    assert emu.count() == 1

    recreated = host.create(PROVIDER, updated_inputs)
    assert recreated.id in emu.profiles and recreated.id != state.id
    emu.reset_counts()
    host.delete(recreated)
    assert emu.count() == 1 and emu.count("DELETE") == 1
    assert recreated.id not in emu.profiles
    host.delete(recreated)  # 404 is success


def test_adopts_the_kubelink_profile_with_one_put(emu, host, cluster, labels) -> None:
    [kubelink_href] = emu.kubelink_report(cluster, ["shop-prod"])
    assert emu.profiles[kubelink_href]["managed"] is False
    emu.reset_counts()
    state = host.create(PROVIDER, _inputs(cluster, labels))
    assert state.id == kubelink_href
    assert emu.count("PUT") == 1 and emu.count("POST") == 0 and emu.count() == 2
    assert len(_profiles_for(emu, cluster, "shop-prod")) == 1
    live = emu.profiles[kubelink_href]
    assert live["managed"] is True and live["enforcement_mode"] == "visibility_only"
    assert state.plain_outputs["linked"] is True


def test_drift_found_by_refresh_is_corrected_by_update(emu, host, pce, cluster, labels) -> None:
    inputs = _inputs(cluster, labels)
    state = host.create(PROVIDER, inputs)
    pce.update_workload_profile(state.id, {"enforcement_mode": "full", "labels": []})
    host.next_operation()  # the `pulumi refresh` that finds it
    refreshed = host.read(state)
    assert refreshed.plain_outputs["enforcement_mode"] == "full"
    assert refreshed.plain_outputs["assign_labels"] == {}
    diff = host.check_and_diff(PROVIDER, refreshed, inputs)
    assert changes(diff) == "some" and list(diff.replaces) == []
    host.update(PROVIDER, refreshed, inputs)
    assert emu.profiles[state.id]["enforcement_mode"] == "visibility_only"
    assert len(emu.profiles[state.id]["labels"]) == 3


def test_namespace_or_cluster_change_replaces(emu, host, pce, cluster, labels) -> None:
    state = host.create(PROVIDER, _inputs(cluster, labels))
    other = pce.create_container_cluster("other-cluster", "").href
    emu.reset_counts()
    diff = host.check_and_diff(PROVIDER, state, _inputs(cluster, labels, namespace="shop-qa"))
    assert changes(diff) == "some" and list(diff.replaces) == ["namespace"]
    diff = host.check_and_diff(PROVIDER, state, _inputs(other, labels))
    assert list(diff.replaces) == ["container_cluster_href"]
    assert emu.count() == 0


def test_unknown_inputs_during_preview(emu, host, cluster, labels) -> None:
    state = host.create(PROVIDER, _inputs(cluster, labels))
    emu.reset_counts()
    diff = host.check_and_diff(PROVIDER, state, _inputs(cluster, labels, assign_labels=UNKNOWN))
    assert changes(diff) == "some" and list(diff.replaces) == []
    diff = host.check_and_diff(PROVIDER, state, _inputs(cluster, labels, namespace=UNKNOWN))
    assert changes(diff) == "some" and list(diff.replaces) == ["namespace"]
    diff = host.check_and_diff(PROVIDER, state, _inputs(UNKNOWN, labels))
    assert list(diff.replaces) == ["container_cluster_href"]
    assert emu.count() == 0


def test_lost_post_response_converges_without_duplicates(emu, host, cluster, labels) -> None:
    emu.drop_response_after_apply(method="POST", path_contains="container_workload_profiles")
    state = host.create(PROVIDER, _inputs(cluster, labels))
    assert [pr["href"] for pr in _profiles_for(emu, cluster, "shop-prod")] == [state.id]
    assert emu.count("POST", "container_workload_profiles") == 1


def test_rate_limit_storm_and_server_errors_converge(emu, host, cluster, labels) -> None:
    emu.inject_rate_limit(4, retry_after=0)
    state = host.create(PROVIDER, _inputs(cluster, labels))
    emu.inject_failures(2, status=503, method="PUT")
    host.update(PROVIDER, state, _inputs(cluster, labels, log_traffic=True))
    assert emu.profiles[state.id]["log_traffic"] is True
    emu.inject_failures(1, status=504, method="POST")
    other = host.create(PROVIDER, _inputs(cluster, labels, namespace="shop-qa"))
    assert [pr["href"] for pr in _profiles_for(emu, cluster, "shop-qa")] == [other.id]


@pytest.mark.parametrize(
    ("overrides", "prop", "words"),
    [
        ({"enforcement_mode": "selective"}, "enforcement_mode", "selective"),
        ({"enforcement_mode": "idle"}, "enforcement_mode", "managed"),
        ({"enforcement_mode": "strict"}, "enforcement_mode", "unknown enforcement"),
        ({"visibility_level": "loud"}, "visibility_level", "unknown visibility"),
        (
            {"label_restrictions": {"env": []}},
            "label_restrictions",
            "also in assign_labels",
        ),
        ({"namespace": "Shop_Prod"}, "namespace", "DNS-1123"),
        ({"namespace": "-shop"}, "namespace", "DNS-1123"),
        ({"namespace": "a" * 64}, "namespace", "DNS-1123"),
    ],
)
def test_check_rejects_naming_the_property(emu, host, cluster, labels, overrides, prop, words):
    emu.reset_counts()
    outcome = host.check(PROVIDER, _inputs(cluster, labels, **overrides))
    assert [p for p, _ in outcome.failures] == [prop]
    assert words in outcome.failures[0][1]
    assert outcome.failures[0][1].startswith(prop)
    assert emu.count() == 0


def test_unmanaged_idle_profile_is_allowed(emu, host, cluster, labels) -> None:
    outcome = host.check(PROVIDER, _inputs(cluster, labels, managed=False, enforcement_mode="idle"))
    assert outcome.failures == []


def test_refresh_reads_the_labels_array_back_in_input_form() -> None:
    cluster = "/orgs/1/container_clusters/445bfa9b-4de4-4c09-9705-496eb04b190f"
    href = f"{cluster}/container_workload_profiles/5454cc84-d6be-4e6c-ac62-465f9504fac0"
    env, web, db = "/orgs/1/labels/1", "/orgs/1/labels/2", "/orgs/1/labels/3"
    echoed = [
        {"key": "env", "assignment": {"href": env, "value": "prod"}},
        {"key": "app"},
        {"key": "role", "restriction": [{"href": web, "value": "web"}, {"href": db}]},
        {"key": "loc", "restriction": []},
    ]
    out = live_outputs(WorkloadProfileRecord.model_validate({"href": href, "labels": echoed}))
    assert out["container_cluster_href"] == cluster
    assert out["assign_labels"] == {"env": env, "app": NO_LABEL}
    assert out["label_restrictions"] == {"role": sorted([web, db]), "loc": []}
    sent = to_pce_labels(out["assign_labels"], out["label_restrictions"])
    again = live_outputs(WorkloadProfileRecord.model_validate({"href": href, "labels": sent}))
    assert (again["assign_labels"], again["label_restrictions"]) == (
        out["assign_labels"],
        out["label_restrictions"],
    )
