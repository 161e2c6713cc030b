"""PceClient against a scripted transport: retries, Retry-After, POST safety, error
mapping, collections, throttling and secret hygiene, asserted on what went over the wire."""

from __future__ import annotations

import base64
import logging
import pickle
import random
import threading
import traceback
from email.utils import formatdate
from typing import Any

import pytest

from providers.illumio.client import PceClient
from providers.illumio.errors import (
    ClusterOperationError,
    IllumioError,
    PceAuthError,
    PceConflictError,
    PceConnectionError,
    PceJobError,
    PceNotFoundError,
    PceOutcomeUnknownError,
    PceRateLimitError,
    PceServerError,
    PceValidationError,
)
from providers.illumio.retry import Backoff
from providers.illumio.settings import PceSettings
from providers.illumio.throttle import SlidingWindowLimiter
from tests.pce_emulator import ALREADY_DELETED, CONFLICT_TOKENS
from tests.providers.illumio.fake_transport import (
    FakePce,
    Sent,
    connect_timeout,
    dropped,
    pce_error,
    read_timeout,
    refused,
    reply,
)
from tests.providers.illumio.virtual_clock import (
    FakeTime,
    VirtualClock,
    max_in_any_window,
    run_workers,
)

SECRET = "Sup3r-s3cret-API-value-4242"
API_KEY = "api_7c1d2e3f4a5b6c7d"
AUTH_TOKEN = base64.b64encode(f"{API_KEY}:{SECRET}".encode()).decode()
PCE = "https://pce.test:8443"
CLUSTER = "/orgs/1/container_clusters/445bfa9b-4de4-4c09-9705-496eb04b190f"
PROFILE = f"{CLUSTER}/container_workload_profiles/5454cc84-d6be-4e6c-ac62-465f9504fac0"
NOW = 1_800_000_000.0


def make_settings(**overrides: Any) -> PceSettings:
    values: dict[str, Any] = {
        "pce_url": PCE,
        "org_id": 1,
        "api_key": API_KEY,
        "api_secret": SECRET,
        "max_retries": 5,
    }
    values.update(overrides)
    return PceSettings(**values)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_time: FakeTime):
    def build(fake: FakePce, *, limiter: SlidingWindowLimiter | None = None, **overrides: Any):
        settings = make_settings(**overrides)
        return PceClient(
            settings,
            session=fake.session(),
            limiter=limiter
            or SlidingWindowLimiter(500, clock=fake_time.time, sleep=fake_time.sleep),
            sleep=fake_time.sleep,
            clock=fake_time.time,
            wall_clock=lambda: NOW,
            backoff=Backoff(rng=random.Random(3)),
            job_timeout=60.0,
        )

    return build


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert AUTH_TOKEN not in text


# -- the wire --------------------------------------------------------------------------


def test_requests_go_to_api_v2_with_basic_auth_json_and_timeout(make_client, tmp_path):
    pem = tmp_path / "ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    fake = FakePce(reply(200, {"href": "/orgs/1/labels/1", "key": "env", "value": "prod"}))
    client = make_client(fake, request_timeout=12.5, ca_bundle=str(pem))
    assert client.get("/orgs/1/labels/1")["value"] == "prod"
    (sent,) = fake.sent
    assert sent.url == f"{PCE}/api/v2/orgs/1/labels/1"
    assert sent.headers["Authorization"] == f"Basic {AUTH_TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.timeout == 12.5
    assert sent.verify == str(pem)


def test_post_sends_json_and_insecure_turns_verification_off(make_client):
    fake = FakePce(reply(201, {"href": "/orgs/1/labels/9", "key": "env", "value": "dev"}))
    client = make_client(fake, insecure_skip_tls_verify=True)
    label = client.create_label("env", "dev")
    (sent,) = fake.sent
    assert (sent.method, sent.path, sent.body) == (
        "POST",
        "/api/v2/orgs/1/labels",
        {"key": "env", "value": "dev"},
    )
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.verify is False
    assert label.href == "/orgs/1/labels/9"


def test_hrefs_that_are_not_paths_are_refused_before_sending(make_client):
    fake = FakePce()
    client = make_client(fake)
    for bad in (
        "https://evil.example.com/orgs/1/labels",
        "orgs/1/labels",
        "/orgs/1/../x",
        "/orgs/1/a b",
    ):
        with pytest.raises(ValueError):
            client.get(bad)
    with pytest.raises(ValueError, match="container cluster href"):
        client.get_container_cluster("445bfa9b-4de4-4c09-9705-496eb04b190f")
    assert fake.sent == []


def test_org_href():
    assert PceClient(make_settings(org_id=12), session=FakePce().session()).org_href == "/orgs/12"


# -- retries ---------------------------------------------------------------------------


def test_get_is_retried_on_transient_failures_with_bounded_backoff(make_client, fake_time):
    fake = FakePce(
        reply(503), reply(502), reply(504), refused(), read_timeout(), dropped(),
        reply(200, [{"href": "/orgs/1/labels/1", "key": "env", "value": "prod"}]),
    )  # fmt: skip
    client = make_client(fake, max_retries=6)
    assert len(client.get("/orgs/1/labels")) == 1
    assert len(fake.sent) == 7
    assert len(fake_time.sleeps) == 6
    for attempt, wait in enumerate(fake_time.sleeps):
        ceiling = min(30.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= wait <= ceiling


def test_retries_stop_after_max_retries_and_the_error_says_so(make_client, fake_time):
    fake = FakePce(default=pce_error(503, "service_unavailable", "busy", request_id="rid-503"))
    client = make_client(fake, max_retries=3)
    with pytest.raises(PceServerError) as caught:
        client.get("/orgs/1/labels")
    assert len(fake.sent) == 4  # 1 try + 3 retries
    assert len(fake_time.sleeps) == 3
    error = caught.value
    assert (error.status, error.tokens, error.request_id) == (
        503,
        ["service_unavailable"],
        "rid-503",
    )
    assert (error.method, error.href) == ("GET", "/orgs/1/labels")
    assert "after 4 attempt(s)" in str(error)


def test_backoff_is_capped(make_client, fake_time):
    fake = FakePce(default=reply(504))
    client = make_client(fake, max_retries=12)
    with pytest.raises(PceServerError):
        client.get("/orgs/1/labels")
    assert max(fake_time.sleeps) <= 30.0
    assert min(fake_time.sleeps[7:]) >= 15.0  # later waits sit at the cap


def test_zero_retries_means_one_attempt(make_client, fake_time):
    fake = FakePce(default=reply(503))
    with pytest.raises(PceServerError):
        make_client(fake, max_retries=0).get("/orgs/1/labels")
    assert len(fake.sent) == 1 and fake_time.sleeps == []


def test_retry_after_seconds_is_honoured(make_client, fake_time):
    fake = FakePce(
        pce_error(429, "too_many_requests_error", "slow down", **{"Retry-After": "7"}),
        reply(503, headers={"Retry-After": "3"}),
        reply(200, []),
    )
    make_client(fake).get("/orgs/1/labels")
    assert fake_time.sleeps == [7.0, 3.0]


def test_retry_after_http_date_is_honoured(make_client, fake_time):
    when = formatdate(NOW + 12, usegmt=True)
    fake = FakePce(reply(429, headers={"Retry-After": when}), reply(200, []))
    make_client(fake).get("/orgs/1/labels")
    assert fake_time.sleeps == [pytest.approx(12.0)]


def test_an_unreasonable_retry_after_fails_fast_instead_of_stalling(make_client, fake_time):
    fake = FakePce(reply(429, headers={"Retry-After": "3600"}))
    with pytest.raises(PceRateLimitError) as caught:
        make_client(fake).get("/orgs/1/labels")
    assert fake_time.sleeps == []
    assert "3600s (Retry-After)" in str(caught.value)


def test_rate_limit_after_retries_says_to_lower_the_request_rate(make_client):
    fake = FakePce(default=pce_error(429, "too_many_requests_error", "Too many requests", "rid-9"))
    with pytest.raises(PceRateLimitError) as caught:
        make_client(fake, max_retries=2, max_requests_per_minute=300).get("/orgs/1/labels")
    text = str(caught.value)
    assert "illumio:maxRequestsPerMinute" in text and "now 300" in text
    assert caught.value.request_id == "rid-9"
    assert len(fake.sent) == 3


def test_500_is_not_retried(make_client):
    fake = FakePce(pce_error(500, "server_error", "oops"))
    with pytest.raises(PceServerError):
        make_client(fake).get("/orgs/1/labels")
    assert len(fake.sent) == 1


# -- POST safety -----------------------------------------------------------------------

CREATED = {"href": "/orgs/1/labels/5", "key": "env", "value": "prod"}


@pytest.mark.parametrize(
    "first",
    [reply(429, headers={"Retry-After": "1"}), refused(), connect_timeout()],
    ids=["429", "refused", "connect-timeout"],
)
def test_post_is_retried_when_it_certainly_was_not_applied(make_client, first):
    fake = FakePce(first, reply(201, CREATED))
    assert make_client(fake).create_label("env", "prod").href == "/orgs/1/labels/5"
    assert fake.methods() == ["POST", "POST"]


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (pce_error(503, "service_unavailable", "busy", "rid-p"), 503),
        (reply(502), 502),
        (reply(504), 504),
        (read_timeout(), None),
        (dropped(), None),
    ],
    ids=["503", "502", "504", "read-timeout", "dropped"],
)
def test_post_with_an_unknown_outcome_is_never_resent(make_client, fake_time, failure, status):
    fake = FakePce(failure, default=reply(201, CREATED))
    with pytest.raises(PceOutcomeUnknownError) as caught:
        make_client(fake).create_label("env", "prod")
    assert fake.methods() == ["POST"]  # exactly one attempt
    assert fake_time.sleeps == []
    error = caught.value
    assert (error.method, error.href, error.status) == ("POST", "/orgs/1/labels", status)
    assert "look the object up before creating it again" in str(error)


def test_post_connection_refused_every_time_is_a_connection_error(make_client):
    fake = FakePce(default=refused())
    with pytest.raises(PceConnectionError) as caught:
        make_client(fake, max_retries=2).create_label("env", "prod")
    assert len(fake.sent) == 3
    assert "illumio:pceUrl" in str(caught.value)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_put_and_delete_are_retried_on_every_transient_failure(make_client, method):
    fake = FakePce(reply(502), read_timeout(), dropped(), reply(503), refused(), reply(204))
    client = make_client(fake)
    if method == "PUT":
        client.update_workload_profile(PROFILE, {"enforcement_mode": "full"})
    else:
        client.delete_workload_profile(PROFILE)
    assert fake.methods() == [method] * 6
    if method == "PUT":
        assert all(s.body == {"enforcement_mode": "full"} for s in fake.sent)


def test_delete_that_went_through_before_the_reply_was_lost_counts_as_done(make_client):
    fake = FakePce(dropped(), pce_error(404, "not_found", "Object not found"))
    make_client(fake).delete_label("/orgs/1/labels/5")
    assert fake.methods() == ["DELETE", "DELETE"]


def test_delete_of_an_object_that_is_gone_raises_not_found(make_client):
    fake = FakePce(pce_error(404, "not_found", "Object not found", "rid-404"))
    with pytest.raises(PceNotFoundError) as caught:
        make_client(fake).delete_label("/orgs/1/labels/5")
    assert caught.value.request_id == "rid-404"


def test_read_timeouts_on_get_end_in_a_timeout_hint(make_client):
    fake = FakePce(default=read_timeout())
    with pytest.raises(PceConnectionError) as caught:
        make_client(fake, max_retries=1, request_timeout=9).get("/orgs/1/labels")
    assert "illumio:requestTimeout=9s" in str(caught.value)


def test_tls_failures_are_not_retried_and_point_at_the_ca_bundle(make_client):
    import requests

    fake = FakePce(default=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(PceConnectionError) as caught:
        make_client(fake).get("/orgs/1/labels")
    assert len(fake.sent) == 1
    assert "illumio:caBundle" in str(caught.value)


# -- error mapping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "cls", "advice"),
    [
        (pce_error(401, "authentication_required", "Bad key"), PceAuthError, "illumio:apiSecret"),
        (pce_error(403, "forbidden", "No access"), PceAuthError, "role lacks permission"),
        (pce_error(404, "not_found", "Object not found"), PceNotFoundError, "outside Pulumi"),
        (pce_error(406, "label_duplicate", "A label with key 'env' and value 'prod' exists"),
         PceConflictError, "look the existing object up"),
        (pce_error(406, "label_in_use", "Label /orgs/1/labels/5 is in use"),
         PceConflictError, "still in use"),
        (pce_error(406, "container_workload_profile_namespace_exists", "A profile for web"),
         PceConflictError, "already exists"),
        (pce_error(406, "input_validation_error", "enforcement_mode must be one of ..."),
         PceValidationError, "fix the fields"),
        (pce_error(406, "invalid_argument", "unknown query parameter 'foo'"),
         PceValidationError, "fix the fields"),
        (pce_error(500, "server_error", "Internal error"), PceServerError, "PCE administrators"),
    ],
    ids=["401", "403", "404", "406-duplicate", "406-in-use", "406-exists", "406-validation",
         "406-argument", "500"],
)  # fmt: skip
def test_status_codes_map_to_typed_errors_with_tokens_and_request_id(
    make_client, answer, cls, advice
):
    fake = FakePce(answer)
    with pytest.raises(cls) as caught:
        make_client(fake).get("/orgs/1/labels")
    error = caught.value
    assert type(error) is cls
    assert error.status == answer.status
    assert error.tokens == [answer.body[0]["token"]]
    assert error.message == answer.body[0]["message"]
    assert error.request_id == "req-1"
    assert (error.method, error.href) == ("GET", "/orgs/1/labels")
    text = str(error)
    assert advice in text and "Request-ID: req-1" in text


@pytest.mark.parametrize("token", sorted(CONFLICT_TOKENS))
def test_every_conflict_token_is_a_conflict_even_without_a_message(make_client, token):
    fake = FakePce(reply(406, [{"token": token}]))
    with pytest.raises(PceConflictError):
        make_client(fake).get("/orgs/1/labels")


@pytest.mark.parametrize("token", ["input_validation_error", "invalid_argument"])
def test_input_tokens_are_validation_errors(make_client, token):
    fake = FakePce(reply(406, [{"token": token}]))
    with pytest.raises(PceValidationError):
        make_client(fake).get("/orgs/1/labels")


def test_already_deleted_means_gone(make_client):
    fake = FakePce(
        pce_error(406, ALREADY_DELETED, "Label /orgs/1/labels/5 has already been deleted")
    )
    with pytest.raises(PceNotFoundError) as caught:
        make_client(fake).delete_label("/orgs/1/labels/5")
    assert caught.value.status == 406 and caught.value.tokens == [ALREADY_DELETED]


def test_a_lost_delete_reply_then_already_deleted_counts_as_done(make_client):
    fake = FakePce(reply(504), pce_error(406, ALREADY_DELETED, "already been deleted"))
    make_client(fake).delete_label("/orgs/1/labels/5")
    assert fake.methods() == ["DELETE", "DELETE"]


def test_several_error_entries_are_all_kept(make_client):
    body = [
        {"token": "input_validation_error", "message": "name is required"},
        {"token": "input_validation_error", "message": "visibility_level is invalid"},
    ]
    fake = FakePce(reply(406, body, {"Request-ID": "r"}))
    with pytest.raises(PceValidationError) as caught:
        make_client(fake).create_pairing_profile({})
    assert caught.value.tokens == ["input_validation_error", "input_validation_error"]
    assert "name is required; visibility_level is invalid" in str(caught.value)


def test_a_non_json_error_body_becomes_the_message(make_client):
    fake = FakePce(reply(403, text="<html>Forbidden by proxy</html>"))
    with pytest.raises(PceAuthError) as caught:
        make_client(fake).get("/orgs/1/labels")
    assert "Forbidden by proxy" in caught.value.message and caught.value.tokens == []


def test_a_gateways_x_request_id_is_reported_when_request_id_is_missing(make_client):
    fake = FakePce(
        reply(404, headers={"X-Request-Id": "gw-1"}),
        reply(200, headers={"X-Request-Id": "gw-2"}, text="<html>proxy login</html>"),
    )
    client = make_client(fake)
    with pytest.raises(PceNotFoundError) as gone:
        client.get("/orgs/1/labels/1")
    with pytest.raises(IllumioError, match="not JSON") as not_json:
        client.get("/orgs/1/labels/1")
    assert (gone.value.request_id, not_json.value.request_id) == ("gw-1", "gw-2")


def test_a_redirect_is_reported_not_followed(make_client):
    fake = FakePce(reply(301, headers={"Location": "https://pce.test/api/v2/orgs/1/labels"}))
    with pytest.raises(IllumioError) as caught:
        make_client(fake).get("/orgs/1/labels")
    assert "check illumio:pceUrl" in str(caught.value)
    assert len(fake.sent) == 1


def test_an_unexpected_shape_names_fields_not_values(make_client):
    token = "1_secret-token-value"
    fake = FakePce(reply(201, {"name": "c", "container_cluster_token": token}))  # no href
    with pytest.raises(ClusterOperationError) as caught:
        make_client(fake).create_container_cluster("c")
    assert "href" in str(caught.value) and token not in str(caught.value)


def test_a_create_response_without_token_is_a_cluster_operation_error(make_client):
    fake = FakePce(reply(201, {"href": CLUSTER, "name": "c"}))
    with pytest.raises(ClusterOperationError, match="no container_cluster_token"):
        make_client(fake).create_container_cluster("c")


# -- secrets ---------------------------------------------------------------------------


def test_the_secret_never_reaches_errors_reprs_or_logs(make_client, caplog):
    echo = f"bad credentials {API_KEY}:{SECRET} (Basic {AUTH_TOKEN})"
    fake = FakePce(
        reply(401, [{"token": "authentication_required", "message": echo}]),
        reply(406, [{"token": SECRET, "message": echo}]),
        reply(503), reply(503), read_timeout(),
        refused(),
        reply(500, text=echo),
    )  # fmt: skip
    client = make_client(fake, max_retries=1)
    texts: list[str] = [repr(client), repr(client.settings), str(client.settings)]
    with caplog.at_level(logging.DEBUG):
        for call in (
            lambda: client.get("/orgs/1/labels"),
            lambda: client.create_label("env", "x"),
            lambda: client.get("/orgs/1/labels"),
            lambda: client.create_label("env", "y"),
            lambda: client.create_label("env", "z"),
        ):
            with pytest.raises(IllumioError) as caught:
                call()
            error = caught.value
            printed = "".join(traceback.format_exception(error))
            texts += [str(error), repr(error), error.message, " ".join(error.tokens), printed]
            # No chained requests exception (it would carry the prepared request) is shown.
            assert "During handling" not in printed and "direct cause" not in printed
    texts.append(caplog.text)
    assert "***" in texts[3]  # the echoed secret was redacted, not dropped silently
    assert_no_secret(*texts)
    assert len(fake.sent) == 7


def test_a_client_refuses_to_be_pickled():
    client = PceClient(make_settings(), session=FakePce().session())
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client)


# -- collections -----------------------------------------------------------------------


def labels(n: int, key: str = "env") -> list[dict[str, Any]]:
    return [{"href": f"/orgs/1/labels/{i}", "key": key, "value": f"v{i}"} for i in range(n)]


def test_a_complete_synchronous_collection_is_one_request(make_client):
    fake = FakePce(reply(200, labels(3), {"X-Total-Count": "3"}))
    assert len(make_client(fake).get_collection("/orgs/1/labels")) == 3
    assert len(fake.sent) == 1


def test_a_capped_collection_is_read_again_through_an_async_job(make_client, fake_time):
    fake = FakePce(
        reply(200, labels(500), {"X-Total-Count": "612"}),
        reply(202, None, {"Location": "/orgs/1/jobs/j1", "Retry-After": "3"}),
        reply(200, {"href": "/orgs/1/jobs/j1", "status": "running"}, {"Retry-After": "2"}),
        reply(200, {"href": "/orgs/1/jobs/j1", "status": "done",
                    "result": {"href": "/orgs/1/datafiles/d1"}}),
        reply(200, labels(612)),
    )  # fmt: skip
    items = make_client(fake).get_collection("/orgs/1/labels", {"key": "env"})
    assert len(items) == 612
    paths = [s.path for s in fake.sent]
    assert paths == [
        "/api/v2/orgs/1/labels",
        "/api/v2/orgs/1/labels",
        "/api/v2/orgs/1/jobs/j1",
        "/api/v2/orgs/1/jobs/j1",
        "/api/v2/orgs/1/datafiles/d1",
    ]
    assert "Prefer" not in fake.sent[0].headers
    assert fake.sent[1].headers["Prefer"] == "respond-async"
    assert fake.sent[1].query == {"key": "env"}  # the same query, asynchronously
    assert fake_time.sleeps == [3.0, 2.0]  # the job's Retry-After, each time


def test_job_location_may_be_an_absolute_url_on_the_same_pce(make_client):
    fake = FakePce(
        reply(200, labels(1), {"X-Total-Count": "2"}),
        reply(202, None, {"Location": f"{PCE}/api/v2/orgs/1/jobs/j2"}),
        reply(200, {"status": "done", "result": {"href": "/orgs/1/datafiles/d2"}}),
        reply(200, labels(2)),
    )
    assert len(make_client(fake).get_collection("/orgs/1/labels")) == 2
    assert fake.sent[2].url == f"{PCE}/api/v2/orgs/1/jobs/j2"


def test_a_job_location_on_another_host_is_refused(make_client):
    fake = FakePce(
        reply(200, labels(1), {"X-Total-Count": "2"}),
        reply(202, None, {"Location": "https://elsewhere.example.com/api/v2/orgs/1/jobs/j"}),
    )
    with pytest.raises(PceJobError, match="refusing to send credentials"):
        make_client(fake).get_collection("/orgs/1/labels")
    assert len(fake.sent) == 2


def test_a_job_that_never_finishes_times_out_clearly(make_client, fake_time):
    fake = FakePce(
        reply(200, labels(1), {"X-Total-Count": "2"}),
        reply(202, None, {"Location": "/orgs/1/jobs/j3", "Retry-After": "5"}),
        default=reply(200, {"status": "running"}, {"Retry-After": "5"}),
    )
    with pytest.raises(PceJobError, match="did not finish within 60s"):
        make_client(fake).get_collection("/orgs/1/labels")
    assert sum(fake_time.sleeps) == pytest.approx(60.0)
    assert len(fake.sent) == 2 + 12


def test_a_failed_job_reports_its_reason(make_client):
    fake = FakePce(
        reply(200, labels(1), {"X-Total-Count": "2"}),
        reply(202, None, {"Location": "/orgs/1/jobs/j4"}),
        reply(200, {"status": "failed", "result": {"message": "datafile too large"}}),
    )
    with pytest.raises(PceJobError, match="datafile too large"):
        make_client(fake).get_collection("/orgs/1/labels")


# -- typed helpers filter exactly --------------------------------------------------------


def test_find_labels_filters_partial_server_matches_exactly(make_client):
    server = [
        {"href": "/orgs/1/labels/1", "key": "env", "value": "prod"},
        {"href": "/orgs/1/labels/2", "key": "env", "value": "preprod"},
        {"href": "/orgs/1/labels/3", "key": "env", "value": "Prod"},
    ]
    fake = FakePce(reply(200, server, {"X-Total-Count": "3"}))
    found = make_client(fake).find_labels("env", "prod")
    assert [label.href for label in found] == ["/orgs/1/labels/1"]
    assert fake.sent[0].query == {"key": "env", "value": "prod"}


def test_list_clusters_and_profiles_match_names_and_namespaces_exactly(make_client):
    clusters = [{"href": f"/orgs/1/container_clusters/{n}", "name": n} for n in ("web", "web-2")]
    profiles = [
        {"href": f"{CLUSTER}/container_workload_profiles/{ns}", "namespace": ns}
        for ns in ("web", "web-2", "my-web")
    ]
    fake = FakePce(reply(200, clusters), reply(200, profiles))
    client = make_client(fake)
    assert [c.name for c in client.list_container_clusters("web")] == ["web"]
    assert [p.namespace for p in client.list_workload_profiles(CLUSTER, "web")] == ["web"]
    assert fake.sent[0].query == {"name": "web"}
    assert fake.sent[1].query == {"namespace": "web"}


# -- throttle --------------------------------------------------------------------------


def test_clients_for_the_same_pce_and_key_share_one_process_wide_limiter():
    a = PceClient(make_settings(pce_url="https://share.test"), session=FakePce().session())
    b = PceClient(make_settings(pce_url="https://share.test"), session=FakePce().session())
    c = PceClient(
        make_settings(pce_url="https://share.test", api_key="api_other"),
        session=FakePce().session(),
    )
    assert a.limiter is b.limiter
    assert a.limiter is not c.limiter


def test_threads_and_clients_stay_under_the_limit_in_every_minute():
    threads, per_thread, limit = 4, 6, 5
    clock = VirtualClock(workers=threads)
    limiter = SlidingWindowLimiter(limit, clock=clock.time, sleep=clock.sleep)
    sent_at: list[float] = []
    lock = threading.Lock()

    def record(_: Sent) -> None:
        with lock:
            sent_at.append(clock.time())

    def worker() -> None:
        fake = FakePce(default=reply(200, {"href": "/orgs/1/labels/1", "key": "env", "value": "p"}))
        fake.on_send = record
        client = PceClient(make_settings(), session=fake.session(), limiter=limiter,
                           sleep=clock.sleep, clock=clock.time)  # fmt: skip
        for _ in range(per_thread):
            client.get_label("/orgs/1/labels/1")

    run_workers(clock, [worker] * threads)
    assert len(sent_at) == threads * per_thread
    assert max_in_any_window(sent_at, 60.0) <= limit
    assert max(sent_at) >= 60.0 * ((threads * per_thread - 1) // limit)


def test_every_retry_attempt_takes_a_throttle_slot(make_client, fake_time):
    limiter = SlidingWindowLimiter(2, clock=fake_time.time, sleep=fake_time.sleep)
    fake = FakePce(reply(503), reply(200, []), reply(200, []))
    client = make_client(fake, limiter=limiter)
    client.get("/orgs/1/labels")  # two attempts: both slots of this minute
    assert fake_time.now < 1.0
    client.get("/orgs/1/labels")  # must wait for the first attempt to leave the window
    assert fake_time.now >= 60.0
