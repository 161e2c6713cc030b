"""A scripted requests transport for PceClient unit tests.

`FakePce` is a requests adapter mounted on a real `requests.Session`: each request pops the
next scripted answer (a `reply(...)`, an exception such as `refused()`, or a callable
that builds one), and everything the client sent is recorded, so tests assert on what
went over the wire (attempt counts, headers, bodies) rather than on client internals.
The exceptions are built the way requests builds them from urllib3's errors.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import RemoteDisconnected
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw_text: str | None = None


def reply(
    status: int = 200,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    text: str | None = None,
) -> Reply:
    """An HTTP answer; `body` is JSON-encoded unless `text` gives the raw body."""
    return Reply(status, body, dict(headers or {}), text)


def pce_error(status: int, token: str, message: str, request_id: str = "req-1", **headers: str):
    """The PCE's error shape: status + `[{"token", "message"}]` + a Request-ID header."""
    return reply(
        status, [{"token": token, "message": message}], {"Request-ID": request_id, **headers}
    )


def refused(url: str = "https://pce.test:8443/api/v2/x") -> requests.ConnectionError:
    """What requests raises when the TCP connection is refused (nothing was sent)."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")
    return requests.ConnectionError(MaxRetryError(None, url, reason))


def dropped() -> requests.ConnectionError:
    """What requests raises when the server closes the connection without answering."""
    return requests.ConnectionError(
        ProtocolError(
            "Connection aborted.",
            RemoteDisconnected("Remote end closed connection without response"),
        )
    )


def read_timeout() -> requests.ReadTimeout:
    return requests.ReadTimeout("HTTPSConnectionPool(host='pce.test', port=8443): Read timed out.")


def connect_timeout() -> requests.ConnectTimeout:
    return requests.ConnectTimeout(
        "HTTPSConnectionPool(host='pce.test', port=8443): connect timed out"
    )


@dataclass(frozen=True)
class Sent:
    """One request as it left the client."""

    method: str
    url: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    timeout: Any
    verify: Any


Script = Reply | BaseException | Callable[[Sent], "Reply | BaseException"]


class FakePce(BaseAdapter):
    """A requests adapter answering from a script; `default` answers once it runs out."""

    def __init__(self, *script: Script, default: Script | None = None) -> None:
        super().__init__()
        self.script: deque[Script] = deque(script)
        self.default = default
        self.sent: list[Sent] = []
        self.on_send: Callable[[Sent], None] | None = None

    def queue(self, *script: Script) -> None:
        self.script.extend(script)

    def session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        session.mount("https://", self)
        session.mount("http://", self)
        return session

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        raw = request.body
        body = json.loads(raw) if raw else None
        sent = Sent(
            method=request.method or "",
            url=request.url or "",
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers=dict(request.headers),
            body=body,
            timeout=timeout,
            verify=verify,
        )
        self.sent.append(sent)
        if self.on_send is not None:
            self.on_send(sent)
        if self.script:
            item = self.script.popleft()
        elif self.default is not None:
            item = self.default
        else:
            raise AssertionError(f"unexpected request {sent.method} {sent.url}")
        if callable(item) and not isinstance(item, BaseException):
            item = item(sent)
        if isinstance(item, BaseException):
            raise item
        return _response(request, item)

    def close(self) -> None:
        pass

    def methods(self) -> list[str]:
        return [s.method for s in self.sent]


def _response(request: requests.PreparedRequest, answer: Reply) -> requests.Response:
    response = requests.Response()
    response.status_code = answer.status
    response.reason = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}.get(
        answer.status, "Error"
    )
    response.headers = CaseInsensitiveDict(answer.headers)
    if answer.raw_text is not None:
        response._content = answer.raw_text.encode()
    elif answer.body is None:
        response._content = b""
    else:
        response._content = json.dumps(answer.body).encode()
        response.headers.setdefault("Content-Type", "application/json")
    response.url = request.url or ""
    response.request = request
    response.encoding = "utf-8"
    return response
