"""The PCE's error shape: an HTTP status plus a JSON array of {token, message}.

Tokens used by the emulator (the client maps them to its typed errors):
- 401 ``authentication_required``; 403 ``forbidden``; 404 ``not_found``;
  405 ``method_not_allowed``.
- 406 input problems: ``input_validation_error`` (bad or unknown field, bad value),
  ``invalid_argument`` (bad query parameter).
- 406 conflicts: ``label_duplicate`` (same key and value exists),
  ``label_in_use`` (still referenced), ``container_workload_profile_namespace_exists``
  (a profile for that namespace exists), ``default_profile_undeletable``,
  ``pairing_profile_disabled``.
- 406 ``already_deleted``: DELETE of a label that was already deleted (the PCE keeps
  deleted labels as tombstones; GET and PUT of one are 404). Clients treat it as gone.
- 429 ``too_many_requests_error``; 5xx ``service_unavailable`` / ``server_error``.
"""

from __future__ import annotations

from typing import Any

INPUT_VALIDATION = "input_validation_error"
INVALID_ARGUMENT = "invalid_argument"
LABEL_DUPLICATE = "label_duplicate"
LABEL_IN_USE = "label_in_use"
PROFILE_NAMESPACE_EXISTS = "container_workload_profile_namespace_exists"
DEFAULT_PROFILE_UNDELETABLE = "default_profile_undeletable"
PAIRING_PROFILE_DISABLED = "pairing_profile_disabled"
ALREADY_DELETED = "already_deleted"

#: 406 tokens that mean "conflicts with existing state" rather than "bad input".
CONFLICT_TOKENS = frozenset(
    {
        LABEL_DUPLICATE,
        LABEL_IN_USE,
        PROFILE_NAMESPACE_EXISTS,
        DEFAULT_PROFILE_UNDELETABLE,
        PAIRING_PROFILE_DISABLED,
    }
)

_STATUS_TOKENS = {
    400: "bad_request",
    401: "authentication_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: INPUT_VALIDATION,
    429: "too_many_requests_error",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def default_token(status: int) -> str:
    """The token the emulator sends for a bare status (used by injected faults)."""
    return _STATUS_TOKENS.get(status, "server_error" if status >= 500 else "error")


class ApiError(Exception):
    """Raised by the store; the server turns it into the PCE's error response."""

    def __init__(self, status: int, token: str, message: str) -> None:
        super().__init__(f"{status} {token}: {message}")
        self.status = status
        self.token = token
        self.message = message

    def body(self) -> list[dict[str, Any]]:
        """The JSON body the PCE sends for this error."""
        return [{"token": self.token, "message": self.message}]


def invalid(message: str) -> ApiError:
    """406 input_validation_error with a message naming the field."""
    return ApiError(406, INPUT_VALIDATION, message)


def not_found(href: str) -> ApiError:
    """404 for an href that names nothing (or no longer exists)."""
    return ApiError(404, "not_found", f"Object not found: {href}")
