"""A stand-in Illumio PCE (REST API v2) for tests: a real threaded HTTP server on 127.0.0.1.

Modules: `server` (HTTP, Basic auth, Request-ID, `PceEmulator`), `routes` (URL -> store),
`store` (objects and the PCE's rules; its docstring lists the modelling choices),
`payloads` (body and query checks), `jobs` (async collection reads), `faults`
(injected 429/5xx, latency, dropped responses, a sliding-window rate limit),
`request_log` (counting calls), `errors` (status + token vocabulary).
"""

from __future__ import annotations

from .errors import ALREADY_DELETED, CONFLICT_TOKENS
from .request_log import RecordedRequest
from .server import PceEmulator

__all__ = ["ALREADY_DELETED", "CONFLICT_TOKENS", "PceEmulator", "RecordedRequest"]
