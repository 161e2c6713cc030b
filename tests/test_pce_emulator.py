"""The PCE emulator, driven over HTTP with plain `requests` as a client would see it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.pce_emulator import PceEmulator


class Api:
    """A Basic-auth session against the emulator; paths are PCE hrefs."""

    def __init__(self, emulator: PceEmulator, auth: tuple[str, str] | None = None) -> None:
        self.emulator = emulator
        self.session = requests.Session()
        self.session.auth = auth or (emulator.api_key, emulator.api_secret)
        self.base = emulator.url + "/api/v2"

    def __call__(self, method: str, href: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base + href, **kwargs)

    def ok(self, method: str, href: str, status: int, **kwargs: Any) -> Any:
        response = self(method, href, **kwargs)
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None


@pytest.fixture
def api(pce_emulator: PceEmulator) -> Api:
    return Api(pce_emulator)


def error_tokens(response: requests.Response) -> list[str]:
    body = response.json()
    assert isinstance(body, list) and body, body
    assert all(set(item) == {"token", "message"} for item in body), body
    return [item["token"] for item in body]


def new_cluster(api: Api, name: str = "prod-eu") -> dict[str, Any]:
    return api.ok("POST", "/orgs/1/container_clusters", 201, json={"name": name})


def profiles_href(cluster: dict[str, Any]) -> str:
    return cluster["href"] + "/container_workload_profiles"


# ----------------------------------------------------------------- transport


def test_missing_or_wrong_credentials_get_401_with_error_array(pce_emulator, api):
    anonymous = requests.get(api.base + "/orgs/1/labels", timeout=10)
    assert anonymous.status_code == 401
    assert error_tokens(anonymous) == ["authentication_required"]
    wrong = Api(pce_emulator, auth=(pce_emulator.api_key, "not-the-secret"))
    assert wrong("GET", "/orgs/1/labels").status_code == 401
    assert api("GET", "/orgs/1/labels").status_code == 200
    assert pce_emulator.labels == {}


def test_every_response_has_a_unique_request_id(api):
    responses = [
        api("GET", "/orgs/1/labels"),
        api("GET", "/orgs/1/labels/999"),
        requests.get(api.base + "/orgs/1/labels", timeout=10),
    ]
    ids = [r.headers["Request-ID"] for r in responses]
    assert all(ids) and len(set(ids)) == 3


def test_other_org_is_forbidden_and_unknown_paths_are_404(api):
    assert error_tokens(api("GET", "/orgs/2/labels")) == ["forbidden"]
    assert api("GET", "/orgs/2/labels").status_code == 403
    assert api("GET", "/orgs/1/nothing_here").status_code == 404
    assert api("GET", "/orgs/1/labels/12345").status_code == 404
    assert api("PATCH", "/orgs/1/labels", json={}).status_code == 405


def test_invalid_json_body_is_406(api):
    response = api(
        "POST",
        "/orgs/1/labels",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 406
    assert error_tokens(response) == ["input_validation_error"]


# ----------------------------------------------------------------- container clusters


def test_cluster_token_only_in_the_post_response(pce_emulator, api):
    created = new_cluster(api)
    token = created["container_cluster_token"]
    assert re.fullmatch(r"1_[0-9a-f]{64}", token)
    assert pce_emulator.cluster_token(created["href"]) == token
    assert re.fullmatch(r"/orgs/1/container_clusters/[0-9a-f-]{36}", created["href"])
    one = api.ok("GET", created["href"], 200)
    listed = api.ok("GET", "/orgs/1/container_clusters", 200)
    assert "container_cluster_token" not in one
    assert all("container_cluster_token" not in item for item in listed)
    assert token not in api("GET", "/orgs/1/container_clusters").text
    assert one == {k: v for k, v in created.items() if k != "container_cluster_token"}
    # the recorded read-only shape of a cluster Kubelink never connected
    assert one["online"] is False
    assert one["last_connected"] is None
    assert one["manager_type"] is None
    assert one["kubelink_version"] is None
    assert one["nodes"] == [] and one["errors"] == [] and one["pce_fqdn"] is None


def test_new_cluster_gets_a_namespace_less_default_profile(api):
    cluster = new_cluster(api)
    profiles = api.ok("GET", profiles_href(cluster), 200)
    assert len(profiles) == 1
    default = profiles[0]
    assert default["namespace"] is None
    assert default["name"] == "Default Profile"
    assert default["managed"] is False
    assert default["enforcement_mode"] == "idle"
    response = api("DELETE", default["href"])
    assert response.status_code == 406


def test_cluster_put_is_partial_and_returns_204_without_body(api):
    cluster = new_cluster(api)
    response = api("PUT", cluster["href"], json={"description": "Frankfurt"})
    assert response.status_code == 204 and response.content == b""
    after = api.ok("GET", cluster["href"], 200)
    assert (after["name"], after["description"]) == ("prod-eu", "Frankfurt")
    assert error_tokens(api("PUT", cluster["href"], json={"name": ""})) == [
        "input_validation_error"
    ]
    assert api.ok("GET", cluster["href"], 200)["name"] == "prod-eu"


@pytest.mark.parametrize(
    "body",
    [
        {"description": "no name"},
        {"name": ""},
        {"name": "x" * 256},
        {"name": 42},
        {"name": "ok", "online": True},
        ["name"],
    ],
)
def test_cluster_post_validation(api, pce_emulator, body):
    response = api("POST", "/orgs/1/container_clusters", json=body)
    assert response.status_code == 406
    assert error_tokens(response) == ["input_validation_error"]
    assert pce_emulator.clusters == {}


def test_cluster_name_of_255_characters_is_accepted(api):
    assert new_cluster(api, "n" * 255)["name"] == "n" * 255


def test_cluster_names_are_not_unique_and_name_filter_is_partial(api):
    first = new_cluster(api, "web")
    second = new_cluster(api, "web")
    new_cluster(api, "web-2")
    new_cluster(api, "db")
    assert first["href"] != second["href"]
    response = api("GET", "/orgs/1/container_clusters", params={"name": "web"})
    assert sorted(c["name"] for c in response.json()) == ["web", "web", "web-2"]
    assert response.headers["X-Total-Count"] == "3"


def test_cluster_delete_removes_profiles_and_backends(pce_emulator, api):
    cluster = new_cluster(api)
    api.ok("POST", profiles_href(cluster), 201, json={"namespace": "team-a"})
    pce_emulator.add_service_backend(cluster["href"], "58687784f9", "replicasethash", "a", "vs")
    assert api("DELETE", cluster["href"]).status_code == 204
    assert api("GET", cluster["href"]).status_code == 404
    assert api("GET", profiles_href(cluster)).status_code == 404
    assert pce_emulator.profiles == {}
    assert cluster["href"] not in pce_emulator.service_backends
    assert api("DELETE", cluster["href"]).status_code == 404


def test_set_cluster_online_shows_in_get(pce_emulator, api):
    cluster = new_cluster(api)
    pce_emulator.set_cluster_online(
        cluster["href"],
        kubelink_version="5.1.0",
        manager_type="Kubernetes v1.30.2",
        nodes=[{"name": "node1", "pod_subnet": "10.244.0.0/24"}],
    )
    after = api.ok("GET", cluster["href"], 200)
    assert after["online"] is True
    assert after["kubelink_version"] == "5.1.0"
    assert after["manager_type"] == "Kubernetes v1.30.2"
    assert after["last_connected"].endswith("Z")
    assert after["nodes"] == [{"name": "node1", "pod_subnet": "10.244.0.0/24"}]


# ----------------------------------------------------------------- workload profiles


def test_profile_labels_echo_both_shapes_and_mark_labels_in_use(pce_emulator, api):
    cluster = new_cluster(api)
    env = api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "prod"})
    app1 = api.ok("POST", "/orgs/1/labels", 201, json={"key": "app", "value": "shop"})
    app2 = api.ok("POST", "/orgs/1/labels", 201, json={"key": "app", "value": "cart"})
    body = {
        "name": "team-a",
        "namespace": "team-a",
        "enforcement_mode": "visibility_only",
        "visibility_level": "flow_summary",
        "managed": True,
        "labels": [
            {"key": "env", "assignment": {"href": env["href"]}},
            {"key": "app", "restriction": [{"href": app1["href"]}, {"href": app2["href"]}]},
            {"key": "role", "assign": {}},
            {"key": "loc"},
        ],
    }
    created = api.ok("POST", profiles_href(cluster), 201, json=body)
    assert created["labels"] == [
        {"key": "env", "assignment": {"href": env["href"], "value": "prod"}},
        {
            "key": "app",
            "restriction": [
                {"href": app1["href"], "value": "shop"},
                {"href": app2["href"], "value": "cart"},
            ],
        },
        {"key": "role"},
        {"key": "loc"},
    ]
    assert created["assign_labels"] == [{"href": env["href"]}]
    assert created["linked"] is False
    assert created["created_by"] == {"href": "/users/1"}
    assert api.ok("GET", created["href"], 200) == created
    for label in (env, app1, app2):
        response = api("DELETE", label["href"])
        assert response.status_code == 406
        assert error_tokens(response) == ["label_in_use"]
    # dropping the references frees the labels
    assert api("PUT", created["href"], json={"labels": []}).status_code == 204
    assert api("DELETE", env["href"]).status_code == 204
    assert env["href"] not in pce_emulator.labels


def test_profile_older_assign_labels_input(api):
    cluster = new_cluster(api)
    env = api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "dev"})
    created = api.ok(
        "POST",
        profiles_href(cluster),
        201,
        json={"namespace": "ns", "assign_labels": [{"href": env["href"]}]},
    )
    assert created["labels"] == [
        {"key": "env", "assignment": {"href": env["href"], "value": "dev"}}
    ]
    assert created["assign_labels"] == [{"href": env["href"]}]


@pytest.mark.parametrize(
    "labels",
    [
        [{"key": "env", "assignment": {"href": "/orgs/1/labels/999"}}],
        [{"key": "app", "assignment": {"href": "LABEL"}}],  # env label under the app key
        [{"key": "env", "restriction": {"href": "LABEL"}}],  # restriction must be a list
        [{"key": "env"}, {"key": "env"}],
        [{"key": "tier", "restriction": []}],  # no such label key
        [{"key": "env", "assignment": {"href": "LABEL"}, "restriction": []}],
    ],
)
def test_profile_label_rules_are_checked(api, pce_emulator, labels):
    cluster = new_cluster(api)
    env = pce_emulator.add_label("env", "prod")
    payload = [
        {k: ({"href": env} if v == {"href": "LABEL"} else v) for k, v in entry.items()}
        for entry in labels
    ]
    response = api("POST", profiles_href(cluster), json={"namespace": "ns", "labels": payload})
    assert response.status_code == 406, response.text
    assert error_tokens(response) == ["input_validation_error"]
    assert len(pce_emulator.profiles) == 1  # only the default profile


def test_second_profile_for_a_namespace_is_refused(api):
    cluster = new_cluster(api)
    first = api.ok("POST", profiles_href(cluster), 201, json={"namespace": "team-a"})
    response = api("POST", profiles_href(cluster), json={"namespace": "team-a", "name": "again"})
    assert response.status_code == 406
    assert error_tokens(response) == ["container_workload_profile_namespace_exists"]
    assert first["href"] in response.json()[0]["message"]
    # the same namespace in another cluster is fine
    other = new_cluster(api, "other")
    api.ok("POST", profiles_href(other), 201, json={"namespace": "team-a"})


def test_managed_profile_cannot_be_idle(api):
    cluster = new_cluster(api)
    response = api(
        "POST",
        profiles_href(cluster),
        json={"namespace": "a", "managed": True, "enforcement_mode": "idle"},
    )
    assert response.status_code == 406
    assert error_tokens(response) == ["input_validation_error"]
    # the default mode of a new profile is idle, so managed alone is refused too
    assert (
        api("POST", profiles_href(cluster), json={"namespace": "a", "managed": True}).status_code
        == 406
    )
    profile = api.ok(
        "POST",
        profiles_href(cluster),
        201,
        json={"namespace": "a", "managed": True, "enforcement_mode": "full"},
    )
    assert api("PUT", profile["href"], json={"enforcement_mode": "idle"}).status_code == 406
    assert api.ok("GET", profile["href"], 200)["enforcement_mode"] == "full"
    # unmanaged and idle together is what Kubelink creates, and is allowed
    assert (
        api("PUT", profile["href"], json={"managed": False, "enforcement_mode": "idle"}).status_code
        == 204
    )


def test_profile_put_is_partial_and_namespace_is_immutable(api):
    cluster = new_cluster(api)
    profile = api.ok(
        "POST",
        profiles_href(cluster),
        201,
        json={
            "namespace": "a",
            "name": "A",
            "managed": True,
            "enforcement_mode": "visibility_only",
            "log_traffic": True,
        },
    )
    response = api("PUT", profile["href"], json={"namespace": "b"})
    assert response.status_code == 406
    assert "namespace" in response.json()[0]["message"]
    assert (
        api("PUT", profile["href"], json={"namespace": "a", "enforcement_mode": "full"}).status_code
        == 204
    )
    after = api.ok("GET", profile["href"], 200)
    assert after["namespace"] == "a"
    assert after["enforcement_mode"] == "full"
    assert after["name"] == "A" and after["log_traffic"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"namespace": "a", "enforcement_mode": "enforced"},
        {"namespace": "a", "visibility_level": "everything"},
        {"namespace": "a", "managed": "yes"},
        {"namespace": "a", "linked": True},
        {"namespace": "a", "mode": "full"},
        {"namespace": "a", "labels": [], "assign_labels": []},
    ],
)
def test_profile_post_validation(api, body):
    cluster = new_cluster(api)
    response = api("POST", profiles_href(cluster), json=body)
    assert response.status_code == 406
    assert error_tokens(response) == ["input_validation_error"]


def test_profile_selective_mode_is_accepted_like_the_real_pce(api):
    cluster = new_cluster(api)
    profile = api.ok(
        "POST",
        profiles_href(cluster),
        201,
        json={"namespace": "a", "managed": True, "enforcement_mode": "selective"},
    )
    assert profile["enforcement_mode"] == "selective"


def test_profile_filters_are_partial_for_namespace_and_name(api):
    cluster = new_cluster(api)
    for namespace in ("team-a", "team-ab", "other"):
        api.ok("POST", profiles_href(cluster), 201, json={"namespace": namespace})
    response = api("GET", profiles_href(cluster), params={"namespace": "team-a"})
    assert sorted(p["namespace"] for p in response.json()) == ["team-a", "team-ab"]
    by_name = api.ok("GET", profiles_href(cluster), 200, params={"name": "default"})
    assert [p["namespace"] for p in by_name] == [None]
    assert api("GET", profiles_href(cluster), params={"bogus": "1"}).status_code == 406


def test_kubelink_report_creates_unmanaged_profiles_for_new_namespaces(pce_emulator, api):
    cluster = new_cluster(api)
    mine = api.ok(
        "POST",
        profiles_href(cluster),
        201,
        json={"namespace": "team-a", "managed": True, "enforcement_mode": "full"},
    )
    created = pce_emulator.kubelink_report(cluster["href"], ["team-a", "kube-system", "team-b"])
    assert len(created) == 2
    profiles = {p["namespace"]: p for p in api.ok("GET", profiles_href(cluster), 200)}
    assert set(profiles) == {None, "team-a", "kube-system", "team-b"}
    for namespace in ("kube-system", "team-b"):
        reported = profiles[namespace]
        assert reported["href"] in created
        assert reported["managed"] is False
        assert reported["enforcement_mode"] == "idle"
        assert reported["linked"] is True
        assert reported["created_by"] == {"href": cluster["href"]}
    assert profiles["team-a"]["href"] == mine["href"]
    assert profiles["team-a"]["managed"] is True and profiles["team-a"]["linked"] is True
    response = api("POST", profiles_href(cluster), json={"namespace": "team-b"})
    assert response.status_code == 406
    assert pce_emulator.kubelink_report(cluster["href"], ["team-b"]) == []


# ----------------------------------------------------------------- labels


def test_label_create_get_and_duplicate(api):
    label = api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "prod"})
    assert re.fullmatch(r"/orgs/1/labels/\d+", label["href"])
    assert {"href", "key", "value", "created_at", "updated_at"} <= set(label)
    assert api.ok("GET", label["href"], 200) == label
    duplicate = api("POST", "/orgs/1/labels", json={"key": "env", "value": "prod"})
    assert duplicate.status_code == 406
    assert error_tokens(duplicate) == ["label_duplicate"]
    assert "already exists" in duplicate.json()[0]["message"]


def test_label_keys_and_lengths(pce_emulator, api):
    assert api("POST", "/orgs/1/labels", json={"key": "team", "value": "a"}).status_code == 406
    pce_emulator.define_label_key("team")
    api.ok("POST", "/orgs/1/labels", 201, json={"key": "team", "value": "a"})
    long_key = "k" * 65
    pce_emulator.define_label_key(long_key)
    assert api("POST", "/orgs/1/labels", json={"key": long_key, "value": "a"}).status_code == 406
    assert api("POST", "/orgs/1/labels", json={"key": "env"}).status_code == 406
    assert (
        api("POST", "/orgs/1/labels", json={"key": "env", "value": "a", "x": 1}).status_code == 406
    )


def test_label_put_changes_value_and_profiles_echo_it(api):
    cluster = new_cluster(api)
    env = api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "stage"})
    profile = api.ok(
        "POST",
        profiles_href(cluster),
        201,
        json={"namespace": "a", "labels": [{"key": "env", "assignment": {"href": env["href"]}}]},
    )
    assert api("PUT", env["href"], json={"key": "app"}).status_code == 406
    prod = api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "prod"})
    taken = api("PUT", env["href"], json={"value": "prod"})
    assert error_tokens(taken) == ["label_duplicate"] and prod["href"] in taken.text
    assert api("PUT", env["href"], json={"value": "staging"}).status_code == 204
    assert api.ok("GET", env["href"], 200)["value"] == "staging"
    echoed = api.ok("GET", profile["href"], 200)["labels"]
    assert echoed == [{"key": "env", "assignment": {"href": env["href"], "value": "staging"}}]


def test_label_filters_key_exact_value_partial(pce_emulator, api):
    for key, value in [("env", "prod"), ("env", "preprod"), ("env", "dev"), ("app", "prod")]:
        pce_emulator.add_label(key, value)
    found = api.ok("GET", "/orgs/1/labels", 200, params={"key": "env", "value": "prod"})
    assert sorted(label["value"] for label in found) == ["preprod", "prod"]
    assert api.ok("GET", "/orgs/1/labels", 200, params={"key": "en"}) == []


def test_label_in_use_by_pairing_profile_or_reference(pce_emulator, api):
    role = pce_emulator.add_label("role", "node")
    loc = pce_emulator.add_label("loc", "eu")
    pairing = api.ok(
        "POST", "/orgs/1/pairing_profiles", 201, json={"name": "k8s", "labels": [{"href": role}]}
    )
    assert error_tokens(api("DELETE", role)) == ["label_in_use"]
    api.ok("DELETE", pairing["href"], 204)
    assert api("DELETE", role).status_code == 204
    pce_emulator.reference_label(loc)
    assert api("DELETE", loc).status_code == 406
    pce_emulator.release_label(loc)
    assert api("DELETE", loc).status_code == 204


def test_deleted_label_is_a_tombstone(pce_emulator, api):
    label = api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "old"})
    assert api("DELETE", label["href"]).status_code == 204
    again = api("DELETE", label["href"])
    assert again.status_code == 406
    assert error_tokens(again) == ["already_deleted"]
    assert api("GET", label["href"]).status_code == 404
    assert api("PUT", label["href"], json={"value": "new"}).status_code == 404
    assert api("DELETE", "/orgs/1/labels/98765").status_code == 404
    # the same key and value can be created again, under a new href
    recreated = api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "old"})
    assert recreated["href"] != label["href"]


# ----------------------------------------------------------------- pairing profiles


def test_pairing_profile_crud_and_keys(pce_emulator, api):
    created = api.ok(
        "POST",
        "/orgs/1/pairing_profiles",
        201,
        json={"name": "k8s-prod", "enabled": True, "enforcement_mode": "visibility_only"},
    )
    assert re.fullmatch(r"/orgs/1/pairing_profiles/\d+", created["href"])
    api.ok("POST", "/orgs/1/pairing_profiles", 201, json={"name": "vm-prod"})
    names = api.ok("GET", "/orgs/1/pairing_profiles", 200, params={"name": "prod"})
    assert sorted(pp["name"] for pp in names) == ["k8s-prod", "vm-prod"]
    response = api("PUT", created["href"], json={"visibility_level": "flow_drops"})
    assert response.status_code == 204 and response.content == b""
    assert api.ok("GET", created["href"], 200)["visibility_level"] == "flow_drops"
    first = api.ok("POST", created["href"] + "/pairing_key", 201, json={})
    second = api.ok("POST", created["href"] + "/pairing_key", 201, json={})
    assert set(first) == {"activation_code"}
    assert first["activation_code"] and first["activation_code"] != second["activation_code"]
    assert pce_emulator.activation_codes(created["href"]) == [
        first["activation_code"],
        second["activation_code"],
    ]
    assert first["activation_code"] not in api("GET", created["href"]).text
    assert api("GET", created["href"] + "/pairing_key").status_code == 405
    api.ok("PUT", created["href"], 204, json={"enabled": False})
    assert api("POST", created["href"] + "/pairing_key", json={}).status_code == 406
    assert api("DELETE", created["href"]).status_code == 204
    assert api("GET", created["href"]).status_code == 404


def test_pairing_profile_validation(api):
    assert api("POST", "/orgs/1/pairing_profiles", json={"enabled": True}).status_code == 406
    bad_label = {"name": "x", "labels": [{"href": "/orgs/1/labels/404"}]}
    assert api("POST", "/orgs/1/pairing_profiles", json=bad_label).status_code == 406
    assert (
        api("POST", "/orgs/1/pairing_profiles", json={"name": "x", "color": 1}).status_code == 406
    )


# ----------------------------------------------------------------- service backends


def test_service_backends_recorded_shape(pce_emulator, api):
    cluster = new_cluster(api)
    pce_emulator.add_service_backend(
        cluster["href"], "58687784f9", "replicasethash", "kube-system", "coredns"
    )
    (backend,) = api.ok("GET", cluster["href"] + "/service_backends", 200)
    assert backend["name"] == "58687784f9"
    assert backend["kind"] == "replicasethash"
    assert backend["namespace"] == "kube-system"
    assert backend["virtual_service"]["name"] == "coredns"
    assert backend["virtual_service"]["href"].startswith(
        "/orgs/1/sec_policy/draft/virtual_services/"
    )
    assert api("POST", cluster["href"] + "/service_backends", json={}).status_code == 405


# ----------------------------------------------------------------- collections and async jobs


def test_sync_get_caps_at_500_and_async_job_returns_everything(pce_emulator, api):
    for i in range(620):
        pce_emulator.add_label("app", f"app-{i:04d}")
    sync = api("GET", "/orgs/1/labels")
    assert sync.status_code == 200
    assert len(sync.json()) == 500
    assert sync.headers["X-Total-Count"] == "620"
    filtered = api("GET", "/orgs/1/labels", params={"value": "app-00"})
    assert filtered.headers["X-Total-Count"] == "100" and len(filtered.json()) == 100
    small = api("GET", "/orgs/1/labels", params={"max_results": "7"})
    assert len(small.json()) == 7 and small.headers["X-Total-Count"] == "620"

    accepted = api("GET", "/orgs/1/labels", headers={"Prefer": "respond-async"})
    assert accepted.status_code == 202
    job_href = accepted.headers["Location"]
    assert re.fullmatch(r"/orgs/1/jobs/[0-9a-f-]{36}", job_href)
    assert accepted.headers["Retry-After"] == "0"
    first = api.ok("GET", job_href, 200)
    assert first["status"] == "running" and "result" not in first
    done = api.ok("GET", job_href, 200)
    assert done["status"] == "done" and done["href"] == job_href
    datafile = done["result"]["href"]
    assert re.fullmatch(r"/orgs/1/datafiles/[0-9a-f-]{36}", datafile)
    everything = api.ok("GET", datafile, 200)
    assert len(everything) == 620
    assert {label["href"] for label in everything} == set(pce_emulator.labels)
    assert api("GET", "/orgs/1/jobs/00000000-0000-0000-0000-000000000000").status_code == 404


def test_job_polls_and_retry_after_are_configurable():
    with PceEmulator(job_retry_after=2, job_running_polls=3) as emulator:
        api = Api(emulator)
        new_cluster(api)
        accepted = api("GET", "/orgs/1/container_clusters", headers={"Prefer": "respond-async"})
        assert accepted.headers["Retry-After"] == "2"
        statuses = [api.ok("GET", accepted.headers["Location"], 200)["status"] for _ in range(4)]
        assert statuses == ["running", "running", "running", "done"]


# ----------------------------------------------------------------- faults


def test_injected_rate_limit_answers_429_before_processing(pce_emulator, api):
    pce_emulator.inject_rate_limit(2, retry_after=3)
    for _ in range(2):
        limited = api("POST", "/orgs/1/labels", json={"key": "env", "value": "x"})
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "3"
        assert error_tokens(limited) == ["too_many_requests_error"]
    assert pce_emulator.labels == {}
    api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "x"})


def test_injected_failures_match_method_and_apply_nothing(pce_emulator, api):
    pce_emulator.inject_failures(2, status=502, method="POST")
    assert api("GET", "/orgs/1/labels").status_code == 200
    assert api("POST", "/orgs/1/labels", json={"key": "env", "value": "x"}).status_code == 502
    assert api("POST", "/orgs/1/labels", json={"key": "env", "value": "x"}).status_code == 502
    assert pce_emulator.labels == {}
    api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "x"})
    pce_emulator.inject_failures(1, retry_after=4)
    busy = api("GET", "/orgs/1/labels")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "4"
    assert error_tokens(busy) == ["service_unavailable"]


def test_latency_delays_responses(pce_emulator, api):
    pce_emulator.set_latency(0.2)
    started = time.perf_counter()
    api.ok("GET", "/orgs/1/labels", 200)
    assert time.perf_counter() - started >= 0.2
    pce_emulator.set_latency(0)
    started = time.perf_counter()
    api.ok("GET", "/orgs/1/labels", 200)
    assert time.perf_counter() - started < 0.2


def test_dropped_response_applies_the_mutation_then_cuts_the_connection(pce_emulator, api):
    pce_emulator.drop_response_after_apply(method="POST", path_contains="/container_clusters")
    api.ok("POST", "/orgs/1/labels", 201, json={"key": "env", "value": "x"})  # not matched
    with pytest.raises(requests.ConnectionError):
        api("POST", "/orgs/1/container_clusters", json={"name": "lost"})
    (cluster,) = pce_emulator.clusters.values()
    assert cluster["name"] == "lost"
    (recorded,) = [r for r in pce_emulator.requests if r.dropped]
    assert recorded.method == "POST" and recorded.status == 201
    # the next request on a fresh connection is answered normally
    assert [c["name"] for c in api.ok("GET", "/orgs/1/container_clusters", 200)] == ["lost"]
    pce_emulator.drop_response_after_apply(method="DELETE", count=1)
    with pytest.raises(requests.ConnectionError):
        api("DELETE", cluster["href"])
    assert pce_emulator.clusters == {}


def test_enforced_rate_limit_is_a_sliding_window_per_key(pce_emulator, api):
    pce_emulator.enforce_rate_limit(per_minute=5, window_seconds=1.0)
    statuses = [api("GET", "/orgs/1/labels").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    limited = api("GET", "/orgs/1/labels")
    assert limited.headers["Retry-After"] == "1"
    other_key = Api(pce_emulator, auth=("api_other", "x"))
    assert other_key("GET", "/orgs/1/labels").status_code == 401  # its own window, not 429
    time.sleep(1.05)
    assert api("GET", "/orgs/1/labels").status_code == 200
    pce_emulator.enforce_rate_limit(None)
    assert all(api("GET", "/orgs/1/labels").status_code == 200 for _ in range(8))


# ----------------------------------------------------------------- counters, threads, CLI


def test_request_log_and_counters(pce_emulator, api):
    cluster = new_cluster(api)
    api.ok("GET", cluster["href"], 200)
    api.ok("GET", "/orgs/1/labels", 200, params={"key": "env"})
    assert pce_emulator.count() == 3
    assert pce_emulator.count(method="post") == 1
    assert pce_emulator.count(method="GET", path_contains="/container_clusters") == 1
    last = pce_emulator.requests[-1]
    assert (last.method, last.path, last.query, last.status) == (
        "GET",
        "/api/v2/orgs/1/labels",
        {"key": "env"},
        200,
    )
    pce_emulator.reset_counts()
    assert pce_emulator.count() == 0 and pce_emulator.requests == []
    assert cluster["href"] in pce_emulator.clusters


def test_concurrent_requests_are_served_in_parallel_and_consistently(pce_emulator):
    pce_emulator.set_latency(0.2)

    def create(i: int) -> str:
        return Api(pce_emulator).ok(
            "POST", "/orgs/1/labels", 201, json={"key": "app", "value": f"v{i}"}
        )["href"]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        hrefs = list(pool.map(create, range(20)))
    assert time.perf_counter() - started < 2.0  # 20 x 0.2 s serially would be 4 s
    assert len(set(hrefs)) == 20 and set(hrefs) == set(pce_emulator.labels)


def test_runnable_by_hand_and_never_prints_the_secret():
    secret = "hand-run-secret-value"
    env = {**os.environ, "ILLUMIO_API_SECRET": secret}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.pce_emulator", "--port", "0", "--api-key", "api_hand"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        second = process.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)/api/v2", first).group(1)
        response = requests.get(
            url + "/api/v2/orgs/1/labels", auth=("api_hand", secret), timeout=10
        )
        assert response.status_code == 200
        assert "api_hand" in second
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert secret not in first + second + out + err


def test_pce_env_points_the_illumio_variables_at_the_emulator(pce_env):
    assert os.environ["ILLUMIO_PCE_URL"] == pce_env.url
    assert os.environ["ILLUMIO_ORG_ID"] == "1"
    auth = (os.environ["ILLUMIO_API_KEY"], os.environ["ILLUMIO_API_SECRET"])
    url = os.environ["ILLUMIO_PCE_URL"] + "/api/v2/orgs/" + os.environ["ILLUMIO_ORG_ID"] + "/labels"
    assert requests.get(url, auth=auth, timeout=10).status_code == 200
    assert pce_env.count(method="GET", path_contains="/labels") == 1


def test_a_drop_rule_with_even_errors_swallows_a_refusal_too(pce_emulator, api):
    prod = {"key": "env", "value": "prod"}
    api.ok("POST", "/orgs/1/labels", 201, json=prod)
    pce_emulator.drop_response_after_apply("POST", "/labels")
    refused = api("POST", "/orgs/1/labels", json=prod)
    assert refused.status_code == 406, "a plain drop rule only drops applied requests"
    pce_emulator.drop_response_after_apply("POST", "/labels", even_errors=True)
    with pytest.raises(requests.ConnectionError):
        api("POST", "/orgs/1/labels", json=prod)
