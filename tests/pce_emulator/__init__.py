"""A stand-in Illumio PCE (REST API v2) for tests: a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from .errors import ALREADY_DELETED, CONFLICT_TOKENS
from .request_log import RecordedRequest
from .server import PceEmulator

__all__ = ["ALREADY_DELETED", "CONFLICT_TOKENS", "PceEmulator", "RecordedRequest"]
