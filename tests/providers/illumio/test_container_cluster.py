"""ContainerCluster through the real dynamic-provider host, against the PCE emulator."""

from __future__ import annotations

import pytest
from pulumi.runtime import rpc

from providers.illumio.container_cluster import TOKEN, ContainerClusterProvider
from tests.providers.illumio.dynamic_host import UNKNOWN, DynamicHost, HostCallError, changes

PROVIDER = ContainerClusterProvider()


def _clusters_named(emu, name: str) -> list[dict]:
    return [c for c in emu.clusters.values() if c["name"] == name]


def test_lifecycle_counts_requests_and_keeps_the_token_secret(emu, host: DynamicHost, pce) -> None:
    emu.reset_counts()
    outcome = host.check(PROVIDER, {"name": "prod-east", "description": "east"})
    assert outcome.failures == []
    assert emu.count() == 0, "configure and check must not call the PCE"

    state = host.create(PROVIDER, {"name": "prod-east", "description": "east"})
    assert emu.count() == 2
    assert emu.count("GET") == 1 and emu.count("POST") == 1
    href = state.id
    assert href in emu.clusters
    out = state.plain_outputs
    assert out["href"] == href
    assert out["cluster_id"] == href.rsplit("/", 1)[1]
    assert out[TOKEN] == emu.cluster_token(href)
    assert state.is_secret(TOKEN), "the host response must mark the token secret"
    assert out["online"] is False and out["name"] == "prod-east"

    emu.reset_counts()
    diff = host.check_and_diff(PROVIDER, state, {"name": "prod-east", "description": "east"})
    assert changes(diff) == "none"
    assert emu.count() == 0, "a no-op diff must not call the PCE"

    diff = host.check_and_diff(PROVIDER, state, {"name": "prod-east", "description": "East DC"})
    assert changes(diff) == "some" and list(diff.replaces) == []
    emu.reset_counts()
    state = host.update(PROVIDER, state, {"name": "prod-east", "description": "East DC"})
    assert emu.count() == 1 and emu.count("PUT") == 1
    assert emu.clusters[href]["description"] == "East DC"
    assert state.plain_outputs[TOKEN] == emu.cluster_token(href)
    assert state.is_secret(TOKEN)

    emu.set_cluster_online(href, online=True, kubelink_version="5.1.0")
    emu.reset_counts()
    refreshed = host.read(state)
    assert refreshed is not None
    assert emu.count() == 1 and emu.count("GET") == 1
    assert refreshed.plain_outputs[TOKEN] == emu.cluster_token(href), "refresh keeps the token"
    assert refreshed.is_secret(TOKEN)
    assert refreshed.plain_outputs["online"] is True
    assert refreshed.plain_outputs["kubelink_version"] == "5.1.0"
    emu.reset_counts()
    diff = host.check_and_diff(PROVIDER, refreshed, {"name": "prod-east", "description": "East DC"})
    assert changes(diff) == "none", "no spurious change after a refresh"
    assert emu.count() == 0

    pce.delete_container_cluster(href)  # out of band
    emu.reset_counts()
    assert host.read(refreshed) is None, "a deleted cluster is dropped by an empty id"
    assert emu.count() == 1

    recreated = host.create(PROVIDER, {"name": "prod-east", "description": "East DC"})
    assert recreated.id != href and recreated.id in emu.clusters
    assert recreated.plain_outputs[TOKEN] == emu.cluster_token(recreated.id)

    emu.reset_counts()
    host.delete(recreated)
    assert emu.count() == 1 and emu.count("DELETE") == 1
    assert recreated.id not in emu.clusters
    host.delete(recreated)  # already gone: 404 is success


def test_name_taken_without_token_fails_explaining_what_to_do(emu, host, pce) -> None:
    pce.create_container_cluster("shared", "made elsewhere")
    emu.reset_counts()
    with pytest.raises(HostCallError) as caught:
        host.create(PROVIDER, {"name": "shared"})
    message = caught.value.details
    assert "already exists" in message
    assert "cannot be" in message and "recovered" in message
    assert "import" in message
    assert "existing_token" in message and "delete" in message
    assert emu.count("POST") == 0
    assert len(_clusters_named(emu, "shared")) == 1


def test_existing_token_adopts_the_cluster(emu, host, pce) -> None:
    record = pce.create_container_cluster("adopt-me", "d")
    token = record.container_cluster_token.get_secret_value()
    emu.reset_counts()
    state = host.create(
        PROVIDER,
        {"name": "adopt-me", "description": "d", "existing_token": rpc.wrap_rpc_secret(token)},
    )
    assert state.id == record.href
    assert state.plain_outputs[TOKEN] == token
    assert state.is_secret(TOKEN)
    assert emu.count("POST") == 0 and emu.count() == 1
    assert len(_clusters_named(emu, "adopt-me")) == 1

    emu.reset_counts()
    diff = host.check_and_diff(
        PROVIDER,
        state,
        {"name": "adopt-me", "description": "d", "existing_token": rpc.wrap_rpc_secret(token)},
    )
    assert changes(diff) == "none" and emu.count() == 0


def test_lost_post_response_leaves_no_token_less_orphan(emu, host) -> None:
    emu.drop_response_after_apply(method="POST", path_contains="container_clusters", count=1)
    state = host.create(PROVIDER, {"name": "flaky"})
    clusters = _clusters_named(emu, "flaky")
    assert [c["href"] for c in clusters] == [state.id], "exactly one cluster, the one we hold"
    assert state.plain_outputs[TOKEN] == emu.cluster_token(state.id)
    assert emu.count("POST", "container_clusters") == 2
    assert emu.count("DELETE") == 1, "the orphan whose token was lost is deleted"


def test_rate_limit_storm_and_server_errors_converge(emu, host) -> None:
    emu.inject_rate_limit(4, retry_after=0)
    state = host.create(PROVIDER, {"name": "stormy"})
    assert len(_clusters_named(emu, "stormy")) == 1
    emu.inject_failures(2, status=503)
    state = host.update(PROVIDER, state, {"name": "stormy", "description": "after"})
    assert emu.clusters[state.id]["description"] == "after"
    emu.inject_failures(1, status=502, method="POST")
    other = host.create(PROVIDER, {"name": "stormy-2"})
    assert [c["href"] for c in _clusters_named(emu, "stormy-2")] == [other.id]
    assert other.plain_outputs[TOKEN] == emu.cluster_token(other.id)


def test_rename_updates_in_place(emu, host) -> None:
    state = host.create(PROVIDER, {"name": "old-name"})
    diff = host.check_and_diff(PROVIDER, state, {"name": "new-name"})
    assert changes(diff) == "some" and list(diff.replaces) == []
    state = host.update(PROVIDER, state, {"name": "new-name"})
    assert emu.clusters[state.id]["name"] == "new-name"
    assert state.plain_outputs["name"] == "new-name"


def test_preview_with_unknown_name_reports_a_change_without_requests(emu, host) -> None:
    state = host.create(PROVIDER, {"name": "known"})
    emu.reset_counts()
    diff = host.check_and_diff(PROVIDER, state, {"name": UNKNOWN})
    assert changes(diff) == "some" and list(diff.replaces) == []
    assert emu.count() == 0


@pytest.mark.parametrize(
    ("news", "prop"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "ok", "description": 5}, "description"),
        ({"name": "ok", "existing_token": ""}, "existing_token"),
    ],
)
def test_check_names_the_bad_property(emu, host, news, prop) -> None:
    emu.reset_counts()
    outcome = host.check(PROVIDER, news)
    assert [p for p, _ in outcome.failures] == [prop]
    assert all(reason.startswith(prop) for _, reason in outcome.failures)
    assert emu.count() == 0
