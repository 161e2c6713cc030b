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

The client is built in layers, one module each: `transport` (sessions, auth, the
request loop, JSON) with `transport_errors` (typed errors, TLS and timeout messages),
`collection_reads` (collections and async jobs), `objects` (the per-object calls) and
`policy_objects` (draft rule sets, IP lists, pending changes, provisioning).
"""

from __future__ import annotations

from providers.illumio.objects import ObjectCalls
from providers.illumio.policy_objects import PolicyObjectCalls

__all__ = ["PceClient"]


class PceClient(ObjectCalls, PolicyObjectCalls):
    """Typed, rate-limited, retrying access to one PCE organisation."""

    def __enter__(self) -> PceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
