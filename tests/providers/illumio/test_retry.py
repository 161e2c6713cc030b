"""Retry decisions: backoff bounds, Retry-After parsing, and telling "never sent" from
"maybe applied" on real sockets (so the rules match what requests actually raises)."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator
from email.utils import formatdate

import pytest
import requests

from providers.illumio.retry import (
    Backoff,
    Failure,
    classify_exception,
    classify_status,
    may_retry,
    parse_retry_after,
)
from tests.providers.illumio.fake_transport import connect_timeout, dropped, read_timeout, refused


def test_backoff_grows_exponentially_within_jitter_bounds_and_is_capped():
    backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(7))
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2**attempt)
        for _ in range(50):
            delay = backoff.delay(attempt)
            assert ceiling / 2 <= delay <= ceiling
    assert max(backoff.delay(20) for _ in range(100)) <= 30.0


def test_retry_after_wins_over_backoff():
    backoff = Backoff(rng=random.Random(1))
    assert backoff.wait(0, 7.0) == 7.0
    assert 0.25 <= backoff.wait(0, None) <= 0.5


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), (" 0 ", 0.0), ("2.5", 2.5), ("-3", 0.0), ("", None), ("soon", None), (None, None)],
)
def test_retry_after_seconds(header: str | None, expected: float | None):
    assert parse_retry_after(header) == expected


def test_retry_after_http_date_is_relative_to_now():
    now = 1_800_000_000.0
    header = formatdate(now + 12, usegmt=True)
    assert parse_retry_after(header, now=lambda: now) == pytest.approx(12.0)
    past = formatdate(now - 100, usegmt=True)
    assert parse_retry_after(past, now=lambda: now) == 0.0


def test_statuses():
    assert classify_status(429) is Failure.NOT_APPLIED
    for status in (502, 503, 504):
        assert classify_status(status) is Failure.UNKNOWN
    for status in (400, 401, 403, 404, 406, 500):
        assert classify_status(status) is Failure.FATAL


def test_post_is_only_retried_when_not_applied_others_always():
    assert may_retry("POST", Failure.NOT_APPLIED)
    assert not may_retry("POST", Failure.UNKNOWN)
    for method in ("GET", "PUT", "DELETE"):
        assert may_retry(method, Failure.UNKNOWN)
        assert may_retry(method, Failure.NOT_APPLIED)
        assert not may_retry(method, Failure.FATAL)


def test_fake_transport_exceptions_match_the_real_classification():
    assert classify_exception(refused()) is Failure.NOT_APPLIED
    assert classify_exception(connect_timeout()) is Failure.NOT_APPLIED
    assert classify_exception(read_timeout()) is Failure.UNKNOWN
    assert classify_exception(dropped()) is Failure.UNKNOWN
    assert classify_exception(requests.exceptions.SSLError("bad cert")) is Failure.FATAL


# -- the same rules against real sockets -----------------------------------------------


def _serve_once(behaviour: str) -> Iterator[str]:
    """A one-connection TCP server that reads the request, then closes or stalls."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    stop = threading.Event()

    def run() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            if behaviour == "stall":
                stop.wait(5)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/api/v2/orgs/1/labels"
    finally:
        stop.set()
        server.close()
        thread.join(timeout=5)


@pytest.fixture
def closing_server() -> Iterator[str]:
    yield from _serve_once("close")


@pytest.fixture
def stalling_server() -> Iterator[str]:
    yield from _serve_once("stall")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_refused_connection_is_not_applied():
    with pytest.raises(requests.RequestException) as caught:
        requests.post(f"http://127.0.0.1:{_free_port()}/api/v2/x", json={}, timeout=2)
    assert classify_exception(caught.value) is Failure.NOT_APPLIED


def test_real_connection_closed_after_the_request_is_unknown(closing_server: str):
    with pytest.raises(requests.RequestException) as caught:
        requests.post(closing_server, json={"name": "x"}, timeout=2)
    assert classify_exception(caught.value) is Failure.UNKNOWN


def test_real_read_timeout_is_unknown(stalling_server: str):
    with pytest.raises(requests.RequestException) as caught:
        requests.post(stalling_server, json={"name": "x"}, timeout=0.3)
    assert isinstance(caught.value, requests.ReadTimeout)
    assert classify_exception(caught.value) is Failure.UNKNOWN
