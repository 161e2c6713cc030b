"""PceClient over real HTTP against the PCE emulator: every typed helper, the async job
flow past 500 objects, exact filtering, and faults (429 storms, 5xx bursts, lost replies)."""

from __future__ import annotations

import base64
import logging
import threading
import time

import pytest
from pydantic import SecretStr

from providers.illumio.client import PceClient
from providers.illumio.errors import (
    IllumioError,
    PceAuthError,
    PceConflictError,
    PceNotFoundError,
    PceOutcomeUnknownError,
    PceServerError,
    PceValidationError,
)
from providers.illumio.models import ClusterRecord, LabelRecord, ServiceBackend
from providers.illumio.settings import PceSettings
from providers.illumio.throttle import SlidingWindowLimiter


class SleepRecorder:
    """Records the waits the client asks for and sleeps only a token amount, so the
    Retry-After a fault carries is asserted without making the suite wait for it."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds, 0.01))


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def settings(pce_env) -> PceSettings:
    return PceSettings.load()  # from the ILLUMIO_* variables pce_env points at the emulator


@pytest.fixture
def client(settings: PceSettings, sleeps: SleepRecorder):
    # A private limiter: tests must not share the process-wide budget with each other.
    with PceClient(
        settings, limiter=SlidingWindowLimiter(settings.max_requests_per_minute), sleep=sleeps
    ) as pce:
        yield pce


# -- typed helpers over real HTTP ------------------------------------------------------


def test_container_cluster_lifecycle(client: PceClient, pce_env):
    created = client.create_container_cluster("prod-east", "tenantguard test")
    assert isinstance(created, ClusterRecord)
    assert created.container_cluster_token is not None
    assert created.container_cluster_token.get_secret_value() == pce_env.cluster_token(created.href)
    assert created.cluster_id == created.href.rsplit("/", 1)[1]

    pce_env.set_cluster_online(created.href, kubelink_version="5.1.0")
    read = client.get_container_cluster(created.href)
    assert read.container_cluster_token is None  # only the create response carries it
    assert (read.online, read.kubelink_version) == (True, "5.1.0")
    assert read.manager_type == "Kubernetes v1.30.2"

    client.update_container_cluster(created.href, {"description": "changed"})
    assert client.get_container_cluster(created.href).description == "changed"
    assert [c.href for c in client.list_container_clusters("prod-east")] == [created.href]

    client.delete_container_cluster(created.href)
    assert created.href not in pce_env.clusters
    with pytest.raises(PceNotFoundError):
        client.get_container_cluster(created.href)


def test_workload_profiles_adopt_kubelink_ones_and_refuse_duplicates(client: PceClient, pce_env):
    cluster = client.create_container_cluster("k8s-profiles")
    (default,) = client.list_workload_profiles(cluster.href)
    assert default.namespace is None and default.name == "Default Profile"

    (reported,) = pce_env.kubelink_report(cluster.href, ["payments"])
    found = client.list_workload_profiles(cluster.href, namespace="payments")
    assert [p.href for p in found] == [reported]
    assert found[0].managed is False and found[0].enforcement_mode == "idle"
    assert found[0].created_by is not None and found[0].created_by.href == cluster.href

    with pytest.raises(PceConflictError) as caught:
        client.create_workload_profile(cluster.href, {"namespace": "payments"})
    assert caught.value.tokens == ["container_workload_profile_namespace_exists"]

    env_prod = client.create_label("env", "prod")
    app_a = client.create_label("app", "payments-a")
    app_b = client.create_label("app", "payments-b")
    created = client.create_workload_profile(
        cluster.href,
        {
            "namespace": "ledger",
            "managed": True,
            "enforcement_mode": "visibility_only",
            "labels": [
                {"key": "env", "assignment": {"href": env_prod.href}},
                {"key": "app", "restriction": [{"href": app_a.href}, {"href": app_b.href}]},
            ],
        },
    )
    assert created.cluster_href == cluster.href
    read = client.get_workload_profile(created.href)
    assert read.assigned_labels() == {"env": env_prod.href}
    assert read.label_restrictions() == {"app": [app_a.href, app_b.href]}

    client.update_workload_profile(created.href, {"enforcement_mode": "full"})
    assert client.get_workload_profile(created.href).enforcement_mode == "full"

    with pytest.raises(PceValidationError) as invalid:
        client.update_workload_profile(created.href, {"enforcement_mode": "idle"})
    assert invalid.value.tokens == ["input_validation_error"]

    with pytest.raises(PceConflictError):
        client.delete_workload_profile(default.href)  # the default profile cannot go
    client.delete_workload_profile(created.href)
    with pytest.raises(PceNotFoundError):
        client.get_workload_profile(created.href)


def test_labels_duplicates_and_in_use(client: PceClient, pce_env):
    label = client.create_label("role", "frontend")
    assert isinstance(label, LabelRecord)
    assert client.get_label(label.href).value == "frontend"
    assert [found.href for found in client.find_labels("role", "frontend")] == [label.href]

    with pytest.raises(PceConflictError) as duplicate:
        client.create_label("role", "frontend")
    assert duplicate.value.tokens == ["label_duplicate"]
    assert duplicate.value.request_id  # the emulator's Request-ID travelled with it

    pce_env.reference_label(label.href)
    with pytest.raises(PceConflictError) as in_use:
        client.delete_label(label.href)
    assert in_use.value.tokens == ["label_in_use"]
    pce_env.release_label(label.href)
    client.delete_label(label.href)
    assert client.find_labels("role", "frontend") == []
    with pytest.raises(PceNotFoundError):  # deleting again: gone, not "in use"
        client.delete_label(label.href)
    with pytest.raises(PceNotFoundError):
        client.get_label(label.href)


def test_pairing_profiles_and_keys(client: PceClient, pce_env):
    env = client.create_label("env", "staging")
    profile = client.create_pairing_profile(
        {"name": "k8s-staging", "enabled": True, "labels": [{"href": env.href}]}
    )
    assert [p.href for p in client.list_pairing_profiles("k8s-staging")] == [profile.href]
    assert [ref.href for ref in client.get_pairing_profile(profile.href).labels] == [env.href]

    first = client.create_pairing_key(profile.href)
    second = client.create_pairing_key(profile.href)
    assert first != second
    assert pce_env.activation_codes(profile.href) == [first, second]

    client.update_pairing_profile(profile.href, {"enabled": False})
    assert client.get_pairing_profile(profile.href).enabled is False
    with pytest.raises(PceConflictError):  # a disabled profile issues no keys
        client.create_pairing_key(profile.href)
    client.delete_pairing_profile(profile.href)
    assert client.list_pairing_profiles("k8s-staging") == []


def test_service_backends(client: PceClient, pce_env):
    cluster = client.create_container_cluster("k8s-backends")
    assert client.list_service_backends(cluster.href) == []
    pce_env.add_service_backend(
        cluster.href, "58687784f9", "replicasethash", "kube-system", "coredns"
    )
    (backend,) = client.list_service_backends(cluster.href)
    assert isinstance(backend, ServiceBackend)
    assert (backend.name, backend.kind, backend.namespace) == (
        "58687784f9",
        "replicasethash",
        "kube-system",
    )
    assert backend.virtual_service is not None and backend.virtual_service.name == "coredns"
    assert backend.virtual_service.href.startswith("/orgs/1/sec_policy/draft/virtual_services/")


# -- collections and filters -------------------------------------------------------------


def test_more_than_500_labels_come_back_complete_through_the_async_job(client, pce_env):
    for i in range(612):
        pce_env.add_label("env", f"env-{i:04d}")
    pce_env.add_label("app", "not-an-env")
    pce_env.reset_counts()

    labels = client.find_labels("env")
    assert len(labels) == 612
    assert len({label.href for label in labels}) == 612
    assert all(label.key == "env" for label in labels)
    assert pce_env.count("GET", "/jobs/") >= 1
    assert pce_env.count("GET", "/datafiles/") == 1


def test_exact_filters_beat_partial_server_matches(client: PceClient, pce_env):
    prod = pce_env.add_label("env", "prod")
    pce_env.add_label("env", "preprod")
    pce_env.add_label("env", "prod-eu")
    assert [label.href for label in client.find_labels("env", "prod")] == [prod]
    assert client.find_labels("env", "pro") == []

    web = client.create_container_cluster("web")
    client.create_container_cluster("web-2")
    assert [c.href for c in client.list_container_clusters("web")] == [web.href]

    pce_env.kubelink_report(web.href, ["web", "web-2", "my-web"])
    assert [p.namespace for p in client.list_workload_profiles(web.href, "web")] == ["web"]


# -- faults ------------------------------------------------------------------------------


def test_a_429_storm_is_ridden_out_with_retry_after(client, pce_env, sleeps):
    cluster = client.create_container_cluster("k8s-storm")
    pce_env.reset_counts()
    pce_env.inject_rate_limit(4, retry_after=2)
    assert client.get_container_cluster(cluster.href).name == "k8s-storm"
    assert sleeps.waits == [2.0, 2.0, 2.0, 2.0]
    assert pce_env.count("GET") == 5


def test_a_429_on_post_is_retried_and_creates_exactly_one_object(client, pce_env, sleeps):
    pce_env.inject_rate_limit(2, retry_after=1)
    client.create_container_cluster("k8s-once")
    assert [c["name"] for c in pce_env.clusters.values()].count("k8s-once") == 1
    assert sleeps.waits == [1.0, 1.0]


def test_a_5xx_burst_on_get_is_retried(client, pce_env, sleeps):
    label = client.create_label("loc", "eu-west")
    pce_env.reset_counts()
    pce_env.inject_failures(3, status=503, method="GET")
    assert client.get_label(label.href).value == "eu-west"
    assert pce_env.count("GET") == 4
    assert len(sleeps.waits) == 3


def test_a_5xx_burst_longer_than_the_retries_fails_with_the_last_request_id(
    settings, pce_env, sleeps
):
    limited = settings.model_copy(update={"max_retries": 2})
    client = PceClient(limited, limiter=SlidingWindowLimiter(450), sleep=sleeps)
    pce_env.inject_failures(10, status=502, method="GET")
    with pytest.raises(PceServerError) as caught:
        client.list_container_clusters()
    assert caught.value.status == 502
    assert caught.value.request_id == pce_env.requests[-1].request_id
    assert pce_env.count("GET") == 3


def test_a_lost_post_reply_raises_outcome_unknown_and_the_object_exists(client, pce_env):
    pce_env.drop_response_after_apply("POST", path_contains="/container_clusters")
    with pytest.raises(PceOutcomeUnknownError) as caught:
        client.create_container_cluster("k8s-lost-reply")
    assert caught.value.method == "POST"
    assert caught.value.href == "/orgs/1/container_clusters"
    assert pce_env.count("POST") == 1  # never re-sent
    # The caller reconciles by lookup: the PCE did create it.
    (existing,) = client.list_container_clusters("k8s-lost-reply")
    assert existing.href in pce_env.clusters


def test_a_503_on_post_is_not_resent(client, pce_env):
    pce_env.inject_failures(1, status=503, method="POST")
    with pytest.raises(PceOutcomeUnknownError) as caught:
        client.create_label("env", "qa")
    assert caught.value.status == 503
    assert pce_env.count("POST") == 1
    # Here the PCE refused before processing; the lookup the caller makes tells it so.
    assert client.find_labels("env", "qa") == []


def test_a_lost_delete_reply_is_retried_and_succeeds(client, pce_env):
    label = client.create_label("env", "to-delete")
    pce_env.drop_response_after_apply("DELETE")
    client.delete_label(label.href)
    assert label.href not in pce_env.labels
    assert pce_env.count("DELETE") == 2  # the retry saw 404: already done


def test_a_lost_put_reply_is_retried(client, pce_env):
    cluster = client.create_container_cluster("k8s-put")
    pce_env.drop_response_after_apply("PUT")
    client.update_container_cluster(cluster.href, {"description": "after"})
    assert pce_env.clusters[cluster.href]["description"] == "after"
    assert pce_env.count("PUT") == 2


def _list_clusters_from_threads(
    settings, limiter: SlidingWindowLimiter, threads: int = 4, each: int = 3
) -> list[BaseException]:
    """`threads` clients sharing `limiter` list the clusters `each` times at once; the errors."""
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with PceClient(settings, limiter=limiter) as pce:
                for _ in range(each):
                    pce.list_container_clusters()
        except BaseException as exc:  # surfaced by the caller's assertion
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in pool)
    return errors


def test_throttle_keeps_parallel_threads_under_the_pce_limit(settings, pce_env):
    # Client: 3 per 0.5s; emulator: 6 per 0.5s. Without the client throttle 4 threads
    # would burst far past it and collect 429s.
    pce_env.enforce_rate_limit(per_minute=6, window_seconds=0.5)
    started = time.monotonic()
    errors = _list_clusters_from_threads(settings, SlidingWindowLimiter(3, window=0.5))
    elapsed = time.monotonic() - started
    assert errors == []
    statuses = [r.status for r in pce_env.requests]
    assert len(statuses) == 12 and set(statuses) == {200}
    assert elapsed >= 1.5 - 0.05  # 12 requests at 3 per 0.5s need three full windows


def test_a_throttle_at_the_pces_own_limit_draws_no_429_when_requests_arrive_late(settings, pce_env):
    # Client and PCE both allow 3 per second; every request reaches the PCE 0.25 s after
    # it was granted. Counting each request until its answer keeps the two counts in step.
    pce_env.enforce_rate_limit(per_minute=3, window_seconds=1.0)
    pce_env.set_latency(0.25)
    errors = _list_clusters_from_threads(settings, SlidingWindowLimiter(3, window=1.0))
    assert errors == []
    statuses = [r.status for r in pce_env.requests]
    assert statuses == [200] * 12, "the PCE never had to refuse one"


def test_real_rate_limit_answers_are_honoured_when_the_budget_is_shared(settings, pce_env):
    # Someone else uses the same key: the PCE's own limit bites and Retry-After is obeyed.
    pce_env.enforce_rate_limit(per_minute=3, window_seconds=1.0)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    client = PceClient(settings, limiter=SlidingWindowLimiter(450), sleep=sleep)
    for _ in range(5):
        client.list_container_clusters()
    assert 429 in [r.status for r in pce_env.requests]
    assert waits and all(w == 1.0 for w in waits)


# -- authentication and secrets ------------------------------------------------------------


def test_wrong_secret_is_an_auth_error_that_names_the_settings(settings, pce_env):
    wrong = settings.model_copy(update={"api_secret": SecretStr("not-the-secret")})
    with pytest.raises(PceAuthError) as caught:
        PceClient(wrong, limiter=SlidingWindowLimiter(450)).list_container_clusters()
    assert caught.value.status == 401
    assert "illumio:apiKey" in str(caught.value) and "illumio:apiSecret" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)


def test_another_org_is_forbidden(settings, pce_env):
    other = settings.model_copy(update={"org_id": 2})
    with pytest.raises(PceAuthError) as caught:
        PceClient(other, limiter=SlidingWindowLimiter(450)).list_container_clusters()
    assert caught.value.status == 403
    assert "role lacks permission" in str(caught.value)


def test_no_secret_or_token_in_logs_during_a_faulty_session(client, pce_env, caplog):
    auth = base64.b64encode(f"{pce_env.api_key}:{pce_env.api_secret}".encode()).decode()
    tokens: list[str] = []
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        cluster = client.create_container_cluster("k8s-logs")
        assert cluster.container_cluster_token is not None
        tokens.append(cluster.container_cluster_token.get_secret_value())
        profile = client.create_pairing_profile({"name": "logs"})
        tokens.append(client.create_pairing_key(profile.href))
        pce_env.inject_rate_limit(1)
        pce_env.inject_failures(1, status=503, method="GET")
        client.list_container_clusters()
        pce_env.drop_response_after_apply("POST")
        for call in (
            lambda: client.create_label("env", "logs"),
            lambda: client.create_label("nokey", "x"),
            lambda: client.get_label("/orgs/1/labels/999999"),
        ):
            with pytest.raises(IllumioError) as caught:
                call()
            messages += [str(caught.value), repr(caught.value)]
    logged = caplog.text + "\n".join(messages)
    assert "GET /orgs/1/container_clusters -> 200" in caplog.text
    for secret in (pce_env.api_secret, auth, *tokens):
        assert secret not in logged
    assert repr(client) == f"PceClient(pce_url={pce_env.url!r}, org_id=1)"


def test_one_client_serves_several_threads(client: PceClient, pce_env):
    labels = {f"t{i}": client.create_label("app", f"thread-{i}") for i in range(4)}
    pce_env.reset_counts()
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            results[name] = [client.get_label(labels[name].href).value for _ in range(5)]
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(name,)) for name in labels]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert errors == []
    assert results == {name: [f"thread-{name[1:]}"] * 5 for name in labels}
    assert pce_env.count("GET") == 20
