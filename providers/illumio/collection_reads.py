"""Whole-collection reads: a synchronous GET, or an async job when the PCE caps the answer.

The PCE answers a synchronous collection GET with at most 500 objects and says in
`X-Total-Count` how many match; larger reads go through an async job (`Prefer:
respond-async`, poll the job, GET its result). Also here: validating answers into
models without echoing their values.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ValidationError

from providers.illumio.errors import IllumioError, PceJobError
from providers.illumio.models import AsyncJob
from providers.illumio.retry import parse_retry_after as _parse_retry_after
from providers.illumio.settings import API_PATH
from providers.illumio.transport import Params, PceTransport
from providers.illumio.transport_errors import request_id

log = logging.getLogger("tenantguard.pce")

Model = TypeVar("Model", bound=BaseModel)


class CollectionReads(PceTransport):
    """`get_collection` (with async jobs) and model validation on top of the transport."""

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
                request_id=request_id(response),
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
                    request_id=request_id(poll),
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

    # -- answers as models --------------------------------------------------------

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


def _int_header(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
