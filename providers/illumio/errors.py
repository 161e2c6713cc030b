"""Typed errors for everything that talks to the Illumio PCE.

The hierarchy keeps the seed's shape (IllumioManagerError > IllumioError >
ClusterOperationError, LabelOperationError) and adds one class per PCE outcome a caller
reacts to differently. Every error carries what an operator needs to act (status, PCE
tokens, message, Request-ID, method, href, a hint saying what to do) and never a
credential: the client redacts messages before building these, and no error keeps a
reference to the requests objects (they hold the Authorization header).
"""

from __future__ import annotations

from typing import Any


class IllumioManagerError(Exception):
    """Root of every tenantguard PCE error (settings, transport, API answers)."""


class PceSettingsError(IllumioManagerError, ValueError):
    """A PCE connection setting is missing or invalid; raised before any request is made."""


class IllumioError(IllumioManagerError):
    """A PCE request failed. Attributes describe the request and the PCE's answer."""

    default_hint: str = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        tokens: list[str] | None = None,
        request_id: str | None = None,
        method: str | None = None,
        href: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.tokens: list[str] = list(tokens or [])
        self.request_id = request_id
        self.method = method
        self.href = href
        self.hint = self.default_hint if hint is None else hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = " ".join(part for part in (self.method, self.href) if part)
        head = f"{where} failed" if where else "PCE request failed"
        if self.status is not None:
            head += f" with HTTP {self.status}"
        if self.tokens:
            head += f" [{', '.join(self.tokens)}]"
        text = f"{head}: {self.message}" if self.message else head
        if self.hint:
            text += f". {self.hint}"
        if self.request_id:
            text += f" (Request-ID: {self.request_id})"
        return text

    def __str__(self) -> str:
        return self._render()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, tokens={self.tokens!r}, "
            f"method={self.method!r}, href={self.href!r}, request_id={self.request_id!r}, "
            f"message={self.message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors break Exception's default pickling; keep errors
        # picklable so they survive process boundaries (the dynamic provider host).
        return (
            _rebuild,
            (
                type(self),
                self.message,
                {
                    "status": self.status,
                    "tokens": self.tokens,
                    "request_id": self.request_id,
                    "method": self.method,
                    "href": self.href,
                    "hint": self.hint,
                },
            ),
        )


def _rebuild(cls: type[IllumioError], message: str, fields: dict[str, Any]) -> IllumioError:
    return cls(message, **fields)


class ClusterOperationError(IllumioError):
    """A container-cluster operation got an answer it cannot use (e.g. no token on create)."""


class LabelOperationError(IllumioError):
    """A label operation got an answer it cannot use."""


class PceAuthError(IllumioError):
    """401 (bad credentials) or 403 (the API key's role lacks permission)."""


class PceNotFoundError(IllumioError):
    """404: the object does not exist (deleted outside Pulumi, or a wrong href)."""

    default_hint = (
        "The object does not exist on the PCE: it may have been deleted outside Pulumi "
        "(`pulumi refresh` drops it from the state)"
    )


class PceConflictError(IllumioError):
    """406 because of existing state: a duplicate, or an object still in use."""

    default_hint = (
        "The PCE refused because an equal object already exists or this one is still in "
        "use: look the existing object up and use it, or remove its references first"
    )


class PceValidationError(IllumioError):
    """406 because the request body or parameters are invalid."""

    default_hint = "The PCE rejected the input: fix the fields named in the message"


class PceRateLimitError(IllumioError):
    """429 still returned after every allowed retry."""


class PceServerError(IllumioError):
    """5xx still returned after every allowed retry (or a 500, which is not retried)."""

    default_hint = (
        "The PCE is failing; try again later and give the Request-ID to the PCE administrators"
    )


class PceConnectionError(IllumioError):
    """The PCE could not be reached (refused, DNS, TLS, timeouts) after every allowed retry."""


class PceOutcomeUnknownError(IllumioError):
    """A POST was sent and no usable answer came back: it may or may not have been applied.

    Never re-send blindly: look the object up (by name, key/value, namespace) and adopt it
    if it exists, create it only if it does not.
    """

    default_hint = (
        "The request may or may not have been applied: look the object up before creating it again"
    )


class PceJobError(IllumioError):
    """An asynchronous collection job failed or did not finish in time."""
