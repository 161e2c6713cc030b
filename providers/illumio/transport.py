"""The PCE client's transport: sessions, auth, the retrying request loop, JSON decoding.

`PceTransport` is the base of `PceClient` (see `providers.illumio.client` for the retry
rules). It sends one logical request at a time through `_request`, which takes a
throttle slot per attempt, retries what is safe to retry and turns failures into typed
errors (`providers.illumio.transport_errors`), and offers the generic verbs on top.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NoReturn
from urllib.parse import urlencode

import requests
from requests.auth import AuthBase

from providers.illumio.errors import IllumioError, PceNotFoundError
from providers.illumio.retry import Backoff, Failure, classify_exception, classify_status, may_retry
from providers.illumio.retry import parse_retry_after as _parse_retry_after
from providers.illumio.settings import API_PATH, PceSettings
from providers.illumio.throttle import SlidingWindowLimiter, shared_limiter
from providers.illumio.transport_errors import request_id, status_error, transport_error

log = logging.getLogger("tenantguard.pce")

Params = Mapping[str, Any] | None


class _BasicAuth(AuthBase):
    """HTTP Basic auth whose repr shows neither the secret nor the encoded header."""

    def __init__(self, header: str) -> None:
        self._header = header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "_BasicAuth(***)"


class PceTransport:
    """Rate-limited, retrying HTTP access to one PCE organisation, with typed errors."""

    def __init__(
        self,
        settings: PceSettings,
        *,
        session: requests.Session | None = None,
        limiter: SlidingWindowLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        job_timeout: float = 300.0,
        job_poll_interval: float = 1.0,
    ) -> None:
        """`limiter` defaults to the process-wide one for (pce_url, api_key); `sleep`,
        `clock` and `wall_clock` (for Retry-After dates) are injectable for tests."""
        self.settings = settings
        # A given session is used as is (tests mount fake transports on it); otherwise each
        # thread gets its own session, so one client can serve the provider host's threads.
        self._given_session = session
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        secret = settings.api_secret.get_secret_value()
        token = base64.b64encode(f"{settings.api_key}:{secret}".encode()).decode("ascii")
        self._auth = _BasicAuth(f"Basic {token}")
        self._redactions = tuple(s for s in (secret, token) if s)
        self._verify = settings.verify
        self._timeout = settings.request_timeout
        self._limiter = limiter or shared_limiter(
            settings.pce_url, settings.api_key, settings.max_requests_per_minute
        )
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._backoff = backoff or Backoff(rng=random.Random())
        self._job_timeout = job_timeout
        self._job_poll_interval = job_poll_interval

    # -- plumbing -----------------------------------------------------------------

    @property
    def org_href(self) -> str:
        return self.settings.org_href

    @property
    def limiter(self) -> SlidingWindowLimiter:
        return self._limiter

    def __repr__(self) -> str:
        return f"PceClient(pce_url={self.settings.pce_url!r}, org_id={self.settings.org_id})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "PceClient holds credentials and a connection pool and cannot be pickled: "
            "build it inside the provider's methods from PceSettings"
        )

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if self._given_session is not None:
            return self._given_session
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _redact(self, text: str) -> str:
        for secret in self._redactions:
            text = text.replace(secret, "***")
        return text

    def _url(self, href: str) -> str:
        if not isinstance(href, str) or not href.startswith("/") or "://" in href:
            raise ValueError(f"expected a PCE href such as /orgs/1/labels, got {href!r}")
        if any(ch.isspace() for ch in href) or "/../" in href + "/":
            raise ValueError(f"{href!r} is not a valid PCE href")
        if href.startswith(API_PATH + "/"):
            href = href[len(API_PATH) :]
        return self.settings.api_base + href

    @staticmethod
    def _describe(href: str, params: Params) -> str:
        if not params:
            return href
        return f"{href}?{urlencode({k: v for k, v in params.items() if v is not None})}"

    # -- the request loop ---------------------------------------------------------

    def _request(
        self,
        method: str,
        href: str,
        *,
        params: Params = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send one logical request, retrying what is safe to retry; raise typed errors."""
        url = self._url(href)
        where = self._describe(href, params)
        send_headers = {"Accept": "application/json", **(headers or {})}
        retries = self.settings.max_retries
        maybe_applied = False
        attempt = 0
        while True:
            try:
                with self._limiter.slot():  # counts until the answer, as the PCE's window does
                    started = self._clock()
                    response = self._session().request(
                        method,
                        url,
                        params=dict(params) if params else None,
                        json=body,
                        headers=send_headers,
                        auth=self._auth,
                        verify=self._verify,
                        timeout=self._timeout,
                        allow_redirects=False,
                    )
            except requests.RequestException as exc:
                failure = classify_exception(exc)
                if may_retry(method, failure) and attempt < retries:
                    maybe_applied = maybe_applied or failure is Failure.UNKNOWN
                    wait = self._backoff.wait(attempt, None)
                    log.warning(
                        "%s %s failed (%s); retry %d/%d in %.2fs",
                        method, where, type(exc).__name__, attempt + 1, retries, wait,
                    )  # fmt: skip
                    self._sleep(wait)
                    attempt += 1
                    continue
                raise self._transport_error(method, href, exc, failure, attempt + 1) from None

            status = response.status_code
            rid = request_id(response)
            log.debug(
                "%s %s -> %d in %.2fs (Request-ID %s)",
                method, where, status, self._clock() - started, rid,
            )  # fmt: skip
            if status < 300:
                return response
            failure = classify_status(status)
            if may_retry(method, failure) and attempt < retries:
                retry_after = _parse_retry_after(
                    response.headers.get("Retry-After"), now=self._wall_clock
                )
                if retry_after is not None and retry_after > self._backoff.max_retry_after:
                    raise self._status_error(
                        method,
                        href,
                        response,
                        attempt + 1,
                        hint=(
                            f"The PCE asked to wait {retry_after:.0f}s (Retry-After), longer than "
                            f"the {self._backoff.max_retry_after:g}s tenantguard waits: try again "
                            "later"
                        ),
                    )
                maybe_applied = maybe_applied or failure is Failure.UNKNOWN
                wait = self._backoff.wait(attempt, retry_after)
                if status == 429 and retry_after is not None:
                    # The key's budget is spent: hold every thread of the process, not just this.
                    self._limiter.pause(wait)
                log.warning(
                    "%s %s -> %d (Request-ID %s); retry %d/%d in %.2fs%s",
                    method, where, status, rid, attempt + 1, retries, wait,
                    " (Retry-After)" if retry_after is not None else "",
                )  # fmt: skip
                response.close()
                self._sleep(wait)
                attempt += 1
                continue
            error = self._status_error(method, href, response, attempt + 1)
            if method == "DELETE" and maybe_applied and isinstance(error, PceNotFoundError):
                log.info("%s %s -> %d: an earlier attempt went through", method, where, status)
                return response
            raise error

    def _transport_error(
        self,
        method: str,
        href: str,
        exc: requests.RequestException,
        failure: Failure,
        attempts: int,
    ) -> IllumioError:
        return transport_error(
            exc,
            failure,
            method=method,
            href=href,
            attempts=attempts,
            settings=self.settings,
            redact=self._redact,
        )

    def _status_error(
        self,
        method: str,
        href: str,
        response: requests.Response,
        attempts: int,
        hint: str | None = None,
    ) -> IllumioError:
        """The typed error for an HTTP error answer; `hint` replaces the default advice."""
        return status_error(
            response,
            method=method,
            href=href,
            attempts=attempts,
            settings=self.settings,
            redact=self._redact,
            hint=hint,
        )

    def _json(self, response: requests.Response, method: str, href: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise IllumioError(
                "the PCE answered with a body that is not JSON",
                status=response.status_code,
                request_id=request_id(response),
                method=method,
                href=href,
                hint="check illumio:pceUrl points at the PCE itself, not a proxy login page",
            ) from None

    # -- generic verbs ----------------------------------------------------------

    def get(self, href: str, params: Params = None) -> Any:
        """GET one href and return its JSON (an object or a list)."""
        return self._json(self._request("GET", href, params=params), "GET", href)

    def post(self, href: str, body: Any) -> dict[str, Any]:
        """POST (create). Raises PceOutcomeUnknownError when it may or may not have applied."""
        data = self._json(self._request("POST", href, body=body), "POST", href)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise IllumioError(
                "the PCE answered a POST with something other than a JSON object",
                method="POST",
                href=href,
            )
        return data

    def put(self, href: str, body: Any) -> None:
        """PUT (partial update; the PCE answers 204). Retried: PUT is idempotent."""
        self._request("PUT", href, body=body)

    def delete(self, href: str) -> None:
        """DELETE. Retried; "gone" after an attempt whose outcome was unknown counts as done,
        otherwise a gone object raises PceNotFoundError."""
        self._request("DELETE", href)
