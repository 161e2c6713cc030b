"""Typed errors for what the PCE (or the network in front of it) answered.

`status_error` maps an HTTP error answer to the error class a caller reacts to
(PceAuthError, PceConflictError, ...), with the PCE's tokens, message and Request-ID.
`transport_error` does the same for a request that got no answer: TLS failures,
timeouts and refused or dropped connections, each naming the host:port it tried and
the setting that fixes it. Every text goes through the client's `redact` (and URLs
lose any user:password@), and no error keeps a requests object, since those carry
the Authorization header.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from providers.illumio.errors import (
    IllumioError,
    PceAuthError,
    PceConflictError,
    PceConnectionError,
    PceNotFoundError,
    PceOutcomeUnknownError,
    PceRateLimitError,
    PceServerError,
    PceValidationError,
)
from providers.illumio.models import PceErrorItem
from providers.illumio.retry import Failure, classify_status
from providers.illumio.settings import PceSettings

Redact = Callable[[str], str]

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

# Noise around the reason in urllib3/ssl messages: "HTTPSConnection(host='h', port=1): ",
# "[SSL: CERTIFICATE_VERIFY_FAILED] ", " (_ssl.c:1006)"; and credentials in proxy URLs.
_POOL_PREFIX = re.compile(r"^\s*\w*Connection(Pool)?\(host=[^)]*\):\s*")
_SSL_NOISE = re.compile(r"^\[SSL(: [A-Z0-9_]+)?\]\s*|\s*\(_ssl\.c:\d+\)$")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


def request_id(response: requests.Response) -> str | None:
    """The PCE's Request-ID for a response (X-Request-Id when a gateway renamed it)."""
    return response.headers.get("Request-ID") or response.headers.get("X-Request-Id")


def endpoint(pce_url: str) -> str:
    """host:port of a PCE URL, the port spelt out (https://pce -> pce:443)."""
    parts = urlsplit(pce_url)
    if parts.port is not None:
        return parts.netloc.rsplit("@", 1)[-1]
    host = parts.hostname or parts.netloc
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{443 if parts.scheme == 'https' else 80}"


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost error requests and urllib3 wrapped (MaxRetryError.reason, args[0])."""
    current = exc
    for _ in range(10):
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in current.args if isinstance(a, BaseException)), None)
        if inner is None or inner is current:
            break
        current = inner
    return current


def _reason(cause: BaseException, redact: Redact) -> str:
    """A short, credential-free reason: "self-signed certificate", "Connection refused"."""
    if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
        text = str(cause.verify_message)
    elif isinstance(cause, OSError) and not isinstance(cause, ssl.SSLError) and cause.strerror:
        text = str(cause.strerror)
    else:
        text = str(cause) or type(cause).__name__
    text = _SSL_NOISE.sub("", _POOL_PREFIX.sub("", text)).strip().rstrip(".")
    return redact(_URL_USERINFO.sub(r"\1***@", text or type(cause).__name__))


def transport_error(
    exc: requests.RequestException,
    failure: Failure,
    *,
    method: str,
    href: str,
    attempts: int,
    settings: PceSettings,
    redact: Redact,
) -> IllumioError:
    """The typed error for a request that got no HTTP answer, naming host:port."""
    where = endpoint(settings.pce_url)
    cause = _root_cause(exc)
    reason = _reason(cause, redact)
    timeout = f"{settings.request_timeout:g}s"
    fields: dict[str, Any] = {"method": method, "href": href}
    if failure is Failure.UNKNOWN and method == "POST":
        if isinstance(exc, requests.exceptions.Timeout):
            reason = f"no answer within {timeout}"
        return PceOutcomeUnknownError(
            f"the request was sent to {where} but no response came back ({reason})", **fields
        )
    if isinstance(exc, requests.exceptions.SSLError):
        message, hint = _tls_problem(cause, reason, where, settings)
        return PceConnectionError(message, hint=hint, **fields)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        message = f"timed out after {timeout} connecting to {where}"
        hint = (
            f"Nothing at {where} accepted the connection within illumio:requestTimeout="
            f"{timeout} after {attempts} attempt(s): check illumio:pceUrl, DNS, proxies and "
            "firewalls"
        )
    elif isinstance(exc, requests.exceptions.Timeout):
        message = f"timed out after {timeout} waiting for {where} to answer"
        hint = (
            f"The PCE did not answer within illumio:requestTimeout={timeout} after "
            f"{attempts} attempt(s); raise it or check the PCE's health"
        )
    else:
        if isinstance(exc, requests.exceptions.ProxyError):
            message = f"could not reach {where} through the proxy: {reason}"
        elif failure is Failure.UNKNOWN:
            message = f"the connection to {where} broke before the PCE answered: {reason}"
        else:
            message = f"could not connect to {where}: {reason}"
        hint = (
            f"Could not reach the PCE at {settings.pce_url} after {attempts} "
            "attempt(s): check illumio:pceUrl, DNS, proxies and firewalls"
        )
    return PceConnectionError(message, hint=hint, **fields)


def _tls_problem(
    cause: BaseException, reason: str, where: str, settings: PceSettings
) -> tuple[str, str]:
    """(message, hint) for a failed TLS handshake: what failed, and the setting to change."""
    verify_failed = isinstance(cause, ssl.SSLCertVerificationError) or (
        "verify failed" in reason.lower()
    )
    if not verify_failed:
        return (
            f"TLS handshake with {where} failed: {reason}",
            "Check that illumio:pceUrl names the PCE's HTTPS port (usually 8443) and that no "
            "proxy intercepts TLS; a private CA goes in illumio:caBundle",
        )
    message = f"TLS verification failed for {where}: {reason}"
    if "mismatch" in reason.lower():
        return message, (
            "The PCE's certificate does not name the host in illumio:pceUrl: use the host "
            "name the certificate was issued for"
        )
    if settings.ca_bundle:
        return message, (
            f"The CA bundle in illumio:caBundle ({settings.ca_bundle}) does not verify the "
            "PCE's certificate: set illumio:caBundle to a PEM file with the CA that signed it"
        )
    return message, (
        "Set illumio:caBundle (ILLUMIO_CA_BUNDLE) to a PEM file with the PCE's CA (or, in "
        "a lab only, illumio:insecureSkipTlsVerify=true)"
    )


def status_error(
    response: requests.Response,
    *,
    method: str,
    href: str,
    attempts: int,
    settings: PceSettings,
    redact: Redact,
    hint: str | None = None,
) -> IllumioError:
    """The typed error for an HTTP error answer (the response is closed); `hint`
    replaces the default advice."""
    error = _classify_status(response, method, href, attempts, settings, redact)
    if hint is not None:
        error.hint = hint
    return error


def _classify_status(
    response: requests.Response,
    method: str,
    href: str,
    attempts: int,
    settings: PceSettings,
    redact: Redact,
) -> IllumioError:
    status = response.status_code
    tokens, message = error_details(response, redact)
    fields: dict[str, Any] = {
        "status": status,
        "tokens": tokens,
        "request_id": request_id(response),
        "method": method,
        "href": href,
    }
    response.close()
    s = settings
    if 300 <= status < 400:
        location = redact(response.headers.get("Location", ""))
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
    return IllumioError(message or f"HTTP {status}", hint="The PCE refused the request", **fields)


def error_details(response: requests.Response, redact: Redact) -> tuple[list[str], str]:
    """Tokens and message from the PCE's `[{"token", "message"}]` body (or its text)."""
    try:
        data = response.json()
    except ValueError:
        text = (response.text or "").strip()
        text = text[:300] if text else (response.reason or "")
        return [], redact(text)
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
    return [redact(t) for t in tokens], redact(message)
