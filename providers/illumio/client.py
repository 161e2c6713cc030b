"""HTTP client for the Illumio PCE REST API (v2): retries, throttle, typed errors, models.

One `PceClient` per settings; it is cheap, safe to share between threads (one HTTP session
per thread), holds credentials, and therefore refuses to be pickled (build it inside the
dynamic-provider process, never keep it on a provider).

Retry rules (see `providers.illumio.retry`):
- GET, PUT and DELETE are idempotent and are retried on 429, 502, 503, 504, timeouts and
  connection failures, up to `max_retries` times with bounded exponential backoff and
  jitter, waiting what `Retry-After` says when the PCE sends it.
- POST creates objects and is re-sent only when it certainly was not applied: a 429 (the
  PCE refuses before processing) or a connection that never carried the request
  (refused, connect timeout). A 502/503/504, a read timeout or a connection dropped
  after sending raise `PceOutcomeUnknownError`: a 503 from the PCE itself usually means
  "not applied", but a gateway in front of it can answer 502/503/504 after the PCE
  committed the object, and the client cannot tell them apart. A duplicate container
  cluster (no unique names) or a lost cluster token costs more than one extra lookup,
  so the caller reconciles by looking the object up first.
- A DELETE retried after an unknown outcome that then finds the object gone (404, or
  406 `already_deleted` for tombstoned labels) has succeeded. Otherwise "already
  deleted" raises PceNotFoundError, like a 404: for the caller both mean "gone".

Every attempt (retries and job polls included) first takes a slot from the process-wide
throttle for this (pce_url, api_key). Nothing logs or raises the secret or the
Authorization header; errors never keep the requests objects that carry it.
"""

from __future__ import annotations

import base64
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from pydantic import BaseModel, ValidationError
from requests.auth import AuthBase

from providers.illumio.errors import (
    ClusterOperationError,
    IllumioError,
    LabelOperationError,
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
from providers.illumio.models import (
    AsyncJob,
    ClusterRecord,
    LabelRecord,
    PairingProfileRecord,
    PceErrorItem,
    ServiceBackend,
    WorkloadProfileRecord,
)
from providers.illumio.retry import Backoff, Failure, classify_exception, classify_status, may_retry
from providers.illumio.retry import parse_retry_after as _parse_retry_after
from providers.illumio.settings import API_PATH, PceSettings
from providers.illumio.throttle import SlidingWindowLimiter, shared_limiter

log = logging.getLogger("tenantguard.pce")

Model = TypeVar("Model", bound=BaseModel)
Params = Mapping[str, Any] | None

# 406 answers caused by existing state (a duplicate, an object in use) rather than bad input,
# recognised by the PCE's tokens (label_duplicate, label_in_use, ..._exists) or messages.
_CONFLICT = re.compile(
    "|".join(
        (
            r"duplicate",
            r"already[ _-]?(exists|in[ _-]?use|taken)",
            r"[a-z]_exists\b",
            r"in[ _-]use",
            r"being[ _-]used",
            r"(is|still)[ _-]referenced",
            r"referenced[ _-]by",
            r"not[ _-]unique",
            r"must[ _-]be[ _-]unique",
            r"undeletable",
            r"cannot[ _-]be[ _-]deleted",
            r"[a-z]_disabled\b",
            r"is[ _-]disabled",
        )
    ),
    re.IGNORECASE,
)
# 406 for an object that was deleted before (labels stay as tombstones): it is gone.
_GONE = re.compile(r"already[ _-]?(been[ _-])?deleted", re.IGNORECASE)
_CLUSTER_HREF = re.compile(r"^/orgs/\d+/container_clusters/[^/]+$")
_PROFILE_HREF = re.compile(
    r"^/orgs/\d+/container_clusters/[^/]+/container_workload_profiles/[^/]+$"
)
_LABEL_HREF = re.compile(r"^/orgs/\d+/labels/[^/]+$")
_PAIRING_HREF = re.compile(r"^/orgs/\d+/pairing_profiles/[^/]+$")


class _BasicAuth(AuthBase):
    """HTTP Basic auth whose repr shows neither the secret nor the encoded header."""

    def __init__(self, header: str) -> None:
        self._header = header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "_BasicAuth(***)"


class PceClient:
    """Typed, rate-limited, retrying access to one PCE organisation."""

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

    def __enter__(self) -> PceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
            self._limiter.acquire()
            started = self._clock()
            try:
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
            request_id = _request_id(response)
            log.debug(
                "%s %s -> %d in %.2fs (Request-ID %s)",
                method, where, status, self._clock() - started, request_id,
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
                log.warning(
                    "%s %s -> %d (Request-ID %s); retry %d/%d in %.2fs%s",
                    method, where, status, request_id, attempt + 1, retries, wait,
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
        detail = self._redact(f"{type(exc).__name__}: {exc}")
        fields: dict[str, Any] = {"method": method, "href": href}
        if failure is Failure.UNKNOWN and method == "POST":
            return PceOutcomeUnknownError(
                f"the request was sent but no response came back ({detail})", **fields
            )
        if isinstance(exc, requests.exceptions.SSLError):
            hint = (
                "TLS verification of the PCE failed: set illumio:caBundle to a PEM file with "
                "the PCE's CA (or, in a lab only, illumio:insecureSkipTlsVerify=true)"
            )
        elif isinstance(exc, requests.exceptions.Timeout):
            hint = (
                f"The PCE did not answer within illumio:requestTimeout="
                f"{self.settings.request_timeout:g}s after {attempts} attempt(s); raise it or "
                "check the PCE's health"
            )
        else:
            hint = (
                f"Could not reach the PCE at {self.settings.pce_url} after {attempts} "
                "attempt(s): check illumio:pceUrl, DNS, proxies and firewalls"
            )
        return PceConnectionError(detail, hint=hint, **fields)

    def _status_error(
        self,
        method: str,
        href: str,
        response: requests.Response,
        attempts: int,
        hint: str | None = None,
    ) -> IllumioError:
        """The typed error for an HTTP error answer; `hint` replaces the default advice."""
        error = self._classify_error(method, href, response, attempts)
        if hint is not None:
            error.hint = hint
        return error

    def _classify_error(
        self, method: str, href: str, response: requests.Response, attempts: int
    ) -> IllumioError:
        status = response.status_code
        tokens, message = self._error_details(response)
        fields: dict[str, Any] = {
            "status": status,
            "tokens": tokens,
            "request_id": _request_id(response),
            "method": method,
            "href": href,
        }
        response.close()
        s = self.settings
        if 300 <= status < 400:
            location = self._redact(response.headers.get("Location", ""))
            return IllumioError(
                message or f"redirect to {location or 'an unknown location'}",
                hint="The PCE redirected the API call: check illumio:pceUrl (scheme, host, port)",
                **fields,
            )
        if status == 401:
            return PceAuthError(
                message or "authentication failed",
                hint=(
                    "The PCE rejected the credentials: check illumio:apiKey and "
                    "illumio:apiSecret (ILLUMIO_API_KEY / ILLUMIO_API_SECRET) and that the API "
                    "key still exists and has not expired"
                ),
                **fields,
            )
        if status == 403:
            return PceAuthError(
                message or "forbidden",
                hint=(
                    f"The API key's role lacks permission for {method} on this object: give "
                    f"the key's user a role that allows it in org {s.org_id}"
                ),
                **fields,
            )
        if status == 404:
            return PceNotFoundError(message or "not found", **fields)
        if status == 406:
            text = " ".join([*tokens, message])
            if _GONE.search(text):
                return PceNotFoundError(
                    message or "already deleted",
                    hint="The object was already deleted on the PCE",
                    **fields,
                )
            cls = PceConflictError if _CONFLICT.search(text) else PceValidationError
            return cls(message or "not acceptable", **fields)
        if status == 429:
            return PceRateLimitError(
                message or "too many requests",
                hint=(
                    f"The PCE still answered 429 after {attempts} attempt(s): lower "
                    f"illumio:maxRequestsPerMinute (now {s.max_requests_per_minute}) or run "
                    "fewer operations at once (`pulumi up --parallel`); every client of this "
                    "API key shares the PCE's 500 requests per minute"
                ),
                **fields,
            )
        if status >= 500:
            if method == "POST" and classify_status(status) is Failure.UNKNOWN:
                return PceOutcomeUnknownError(
                    message or f"HTTP {status} from the PCE or a gateway in front of it",
                    **fields,
                )
            return PceServerError(
                message or "server error",
                hint=(
                    f"The PCE is failing (after {attempts} attempt(s)); try again later and give "
                    "the Request-ID to the PCE administrators"
                ),
                **fields,
            )
        return IllumioError(
            message or f"HTTP {status}",
            hint="The PCE refused the request",
            **fields,
        )

    def _error_details(self, response: requests.Response) -> tuple[list[str], str]:
        """Tokens and message from the PCE's `[{"token", "message"}]` body (or its text)."""
        try:
            data = response.json()
        except ValueError:
            text = (response.text or "").strip()
            text = text[:300] if text else (response.reason or "")
            return [], self._redact(text)
        entries = data if isinstance(data, list) else [data]
        tokens: list[str] = []
        messages: list[str] = []
        for entry in entries:
            if isinstance(entry, dict):
                item = PceErrorItem.model_validate(entry)
                if item.token:
                    tokens.append(item.token)
                text = item.message or entry.get("error")
                if text:
                    messages.append(str(text))
            elif entry is not None:
                messages.append(str(entry))
        message = "; ".join(messages) or (response.reason or "")
        return [self._redact(t) for t in tokens], self._redact(message)

    def _json(self, response: requests.Response, method: str, href: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise IllumioError(
                "the PCE answered with a body that is not JSON",
                status=response.status_code,
                request_id=_request_id(response),
                method=method,
                href=href,
                hint="check illumio:pceUrl points at the PCE itself, not a proxy login page",
            ) from None

    # -- generic verbs ----------------------------------------------------------

    def get(self, href: str, params: Params = None) -> Any:
        """GET one href and return its JSON (an object or a list)."""
        return self._json(self._request("GET", href, params=params), "GET", href)

    def get_collection(self, href: str, params: Params = None) -> list[dict[str, Any]]:
        """GET a whole collection: synchronously, or through an async job when the PCE's
        synchronous answer is capped below `X-Total-Count` (500 objects)."""
        response = self._request("GET", href, params=params)
        items = self._list(self._json(response, "GET", href), "GET", href)
        total = _int_header(response.headers.get("X-Total-Count"))
        if total is None or total <= len(items):
            return items
        log.info(
            "GET %s returned %d of %d objects; reading all through an async job",
            self._describe(href, params), len(items), total,
        )  # fmt: skip
        return self._collection_via_job(href, params)

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

    # -- async collection jobs --------------------------------------------------

    def _collection_via_job(self, href: str, params: Params) -> list[dict[str, Any]]:
        response = self._request("GET", href, params=params, headers={"Prefer": "respond-async"})
        if response.status_code != 202:
            # Some PCEs answer small enough collections synchronously even when asked.
            return self._list(self._json(response, "GET", href), "GET", href)
        location = response.headers.get("Location")
        if not location:
            raise PceJobError(
                "the PCE accepted an async collection job without a Location header",
                status=202,
                request_id=_request_id(response),
                method="GET",
                href=href,
            )
        job_href = self._href_from_location(location)
        wait = self._poll_wait(response, self._job_poll_interval)
        deadline = self._clock() + self._job_timeout
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise PceJobError(
                    f"the async collection job {job_href} did not finish within "
                    f"{self._job_timeout:g}s",
                    method="GET",
                    href=href,
                    hint="the PCE is busy; try again later or narrow the query",
                )
            self._sleep(min(wait, remaining))
            poll = self._request("GET", job_href)
            job = self._model(AsyncJob, self._json(poll, "GET", job_href), "GET", job_href)
            if job.done:
                break
            if job.failed:
                raise PceJobError(
                    f"the async collection job {job_href} failed: "
                    f"{job.result_message or 'no reason given'}",
                    request_id=_request_id(poll),
                    method="GET",
                    href=href,
                )
            wait = self._poll_wait(poll, min(max(wait, self._job_poll_interval) * 1.5, 10.0))
        result_href = job.result_href
        if not result_href:
            raise PceJobError(
                f"the async collection job {job_href} finished without a result href",
                method="GET",
                href=href,
            )
        result_href = self._href_from_location(result_href)
        return self._list(self.get(result_href), "GET", result_href)

    def _poll_wait(self, response: requests.Response, default: float) -> float:
        retry_after = _parse_retry_after(response.headers.get("Retry-After"), now=self._wall_clock)
        if retry_after is None:
            return default
        return min(retry_after, self._backoff.max_retry_after)

    def _href_from_location(self, location: str) -> str:
        """A Location (absolute URL or path, with or without /api/v2) as an href."""
        parts = urlsplit(location.strip())
        if parts.scheme or parts.netloc:
            ours = urlsplit(self.settings.pce_url)
            if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc):
                raise PceJobError(
                    f"the PCE pointed the job at another server ({parts.scheme}://{parts.netloc});"
                    " refusing to send credentials there",
                    method="GET",
                    href=location,
                )
        path = parts.path
        if path.startswith(API_PATH + "/"):
            path = path[len(API_PATH) :]
        return path

    @staticmethod
    def _list(data: Any, method: str, href: str) -> list[dict[str, Any]]:
        if data is None:
            return []
        if not isinstance(data, list):
            raise IllumioError("expected a JSON array from a collection", method=method, href=href)
        return [item for item in data if isinstance(item, dict)]

    @staticmethod
    def _model(
        model: type[Model],
        data: Any,
        method: str,
        href: str,
        error: type[IllumioError] = IllumioError,
    ) -> Model:
        """Validate a PCE answer; the error names fields only (inputs may hold secrets)."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(
                ".".join(str(p) for p in e["loc"]) or "(root)"
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise error(
                f"the PCE answered with an unexpected {model.__name__} shape (fields: {fields})",
                method=method,
                href=href,
            ) from None

    def _models(
        self,
        model: type[Model],
        items: list[dict[str, Any]],
        href: str,
        error: type[IllumioError] = IllumioError,
    ) -> list[Model]:
        return [self._model(model, item, "GET", href, error) for item in items]

    # -- container clusters -----------------------------------------------------

    def list_container_clusters(self, name: str | None = None) -> list[ClusterRecord]:
        """All container clusters, or those whose name is exactly `name`."""
        href = f"{self.org_href}/container_clusters"
        params = {"name": name} if name is not None else None
        records = self._models(
            ClusterRecord, self.get_collection(href, params), href, ClusterOperationError
        )
        return [r for r in records if name is None or r.name == name]

    def get_container_cluster(self, href: str) -> ClusterRecord:
        """One cluster (never carries the token). PceNotFoundError when it is gone."""
        _require(
            href, _CLUSTER_HREF, "a container cluster href (/orgs/<id>/container_clusters/<uuid>)"
        )
        return self._model(ClusterRecord, self.get(href), "GET", href, ClusterOperationError)

    def create_container_cluster(self, name: str, description: str | None = None) -> ClusterRecord:
        """Create a cluster; the result is the only place its `container_cluster_token` appears."""
        if not name or len(name) > 255:
            raise ValueError("a container cluster name must be 1 to 255 characters")
        href = f"{self.org_href}/container_clusters"
        data = self.post(href, {"name": name, "description": description or ""})
        record = self._model(ClusterRecord, data, "POST", href, ClusterOperationError)
        if record.container_cluster_token is None:
            raise ClusterOperationError(
                f"the PCE created container cluster {record.href} but returned no "
                "container_cluster_token",
                method="POST",
                href=href,
                hint="without the token the cluster can never be paired: delete it and create "
                "it again",
            )
        return record

    def update_container_cluster(self, href: str, body: Mapping[str, Any]) -> None:
        _require(href, _CLUSTER_HREF, "a container cluster href")
        self.put(href, dict(body))

    def delete_container_cluster(self, href: str) -> None:
        _require(href, _CLUSTER_HREF, "a container cluster href")
        self.delete(href)

    # -- container workload profiles --------------------------------------------

    def list_workload_profiles(
        self, cluster_href: str, namespace: str | None = None
    ) -> list[WorkloadProfileRecord]:
        """A cluster's profiles, or the one(s) whose namespace is exactly `namespace`."""
        _require(cluster_href, _CLUSTER_HREF, "a container cluster href")
        href = f"{cluster_href}/container_workload_profiles"
        params = {"namespace": namespace} if namespace is not None else None
        records = self._models(WorkloadProfileRecord, self.get_collection(href, params), href)
        return [r for r in records if namespace is None or r.namespace == namespace]

    def get_workload_profile(self, href: str) -> WorkloadProfileRecord:
        _require(href, _PROFILE_HREF, "a container workload profile href")
        return self._model(WorkloadProfileRecord, self.get(href), "GET", href)

    def create_workload_profile(
        self, cluster_href: str, body: Mapping[str, Any]
    ) -> WorkloadProfileRecord:
        _require(cluster_href, _CLUSTER_HREF, "a container cluster href")
        href = f"{cluster_href}/container_workload_profiles"
        return self._model(WorkloadProfileRecord, self.post(href, dict(body)), "POST", href)

    def update_workload_profile(self, href: str, body: Mapping[str, Any]) -> None:
        _require(href, _PROFILE_HREF, "a container workload profile href")
        self.put(href, dict(body))

    def delete_workload_profile(self, href: str) -> None:
        _require(href, _PROFILE_HREF, "a container workload profile href")
        self.delete(href)

    # -- labels -------------------------------------------------------------------

    def find_labels(self, key: str, value: str | None = None) -> list[LabelRecord]:
        """Labels with exactly this key (and value): the PCE's value filter is partial."""
        href = f"{self.org_href}/labels"
        params = {"key": key} if value is None else {"key": key, "value": value}
        records = self._models(
            LabelRecord, self.get_collection(href, params), href, LabelOperationError
        )
        return [r for r in records if r.key == key and (value is None or r.value == value)]

    def get_label(self, href: str) -> LabelRecord:
        _require(href, _LABEL_HREF, "a label href (/orgs/<id>/labels/<id>)")
        return self._model(LabelRecord, self.get(href), "GET", href, LabelOperationError)

    def create_label(self, key: str, value: str) -> LabelRecord:
        """Create a label. A duplicate key/value raises PceConflictError: look it up instead."""
        href = f"{self.org_href}/labels"
        data = self.post(href, {"key": key, "value": value})
        return self._model(LabelRecord, data, "POST", href, LabelOperationError)

    def delete_label(self, href: str) -> None:
        """Delete a label; one still in use raises PceConflictError."""
        _require(href, _LABEL_HREF, "a label href")
        self.delete(href)

    # -- pairing profiles and keys ---------------------------------------------

    def list_pairing_profiles(self, name: str | None = None) -> list[PairingProfileRecord]:
        href = f"{self.org_href}/pairing_profiles"
        params = {"name": name} if name is not None else None
        records = self._models(PairingProfileRecord, self.get_collection(href, params), href)
        return [r for r in records if name is None or r.name == name]

    def get_pairing_profile(self, href: str) -> PairingProfileRecord:
        _require(href, _PAIRING_HREF, "a pairing profile href")
        return self._model(PairingProfileRecord, self.get(href), "GET", href)

    def create_pairing_profile(self, body: Mapping[str, Any]) -> PairingProfileRecord:
        href = f"{self.org_href}/pairing_profiles"
        return self._model(PairingProfileRecord, self.post(href, dict(body)), "POST", href)

    def update_pairing_profile(self, href: str, body: Mapping[str, Any]) -> None:
        _require(href, _PAIRING_HREF, "a pairing profile href")
        self.put(href, dict(body))

    def delete_pairing_profile(self, href: str) -> None:
        _require(href, _PAIRING_HREF, "a pairing profile href")
        self.delete(href)

    def create_pairing_key(self, profile_href: str) -> str:
        """Issue a new pairing key (activation code); it cannot be read back later."""
        _require(profile_href, _PAIRING_HREF, "a pairing profile href")
        href = f"{profile_href}/pairing_key"
        code = self.post(href, {}).get("activation_code")
        if not isinstance(code, str) or not code:
            raise IllumioError(
                "the PCE answered without an activation_code", method="POST", href=href
            )
        return code

    # -- service backends -------------------------------------------------------

    def list_service_backends(self, cluster_href: str) -> list[ServiceBackend]:
        _require(cluster_href, _CLUSTER_HREF, "a container cluster href")
        href = f"{cluster_href}/service_backends"
        return self._models(ServiceBackend, self.get_collection(href), href)


def _require(href: str, pattern: re.Pattern[str], what: str) -> None:
    if not isinstance(href, str) or not pattern.match(href):
        raise ValueError(f"expected {what}, got {href!r}")


def _request_id(response: requests.Response) -> str | None:
    """The PCE's Request-ID for a response (X-Request-Id when a gateway renamed it)."""
    return response.headers.get("Request-ID") or response.headers.get("X-Request-Id")


def _int_header(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
