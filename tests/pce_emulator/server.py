"""The HTTP side of the emulator: a threaded server on 127.0.0.1, Basic auth,
Request-ID, faults, the request log, and the `PceEmulator` facade tests drive."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import secrets
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .errors import ApiError, invalid
from .faults import FaultPlan
from .policy import PolicyStore
from .replies import NO_BODY, Reply
from .request_log import RecordedRequest, RequestLog
from .routes import Call, dispatch
from .store import PceStore

API_PREFIX = "/api/v2"


class _Server(ThreadingHTTPServer):
    """Threaded server that remembers its open connections so `stop` can cut them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: PceEmulator) -> None:
        self.emulator = emulator
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def close_open_sockets(self) -> None:
        with self.sockets_lock:
            for sock in list(self.open_sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self.open_sockets.clear()


class _Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive like the real PCE."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "PceEmulator/1.0"
    timeout = 60
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.sockets_lock:
                self.server.open_sockets.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _api_key(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        return (user, password) if sep else None

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        emulator = self.server.emulator
        request_id = str(uuid.uuid4())
        split = urlsplit(self.path)
        path = split.path
        raw_body = self._read_body()
        body: Any = None
        credentials = self._api_key()
        dropped = False
        try:
            if emulator.faults.latency:
                time.sleep(emulator.faults.latency)
            fault = emulator.faults.before_processing(method, credentials[0] if credentials else "")
            if fault is not None:
                error, headers = fault
                reply = Reply(error.status, error.body(), headers)
            else:
                if not emulator.credentials_match(credentials):
                    raise ApiError(
                        401, "authentication_required", "Valid API key credentials are required"
                    )
                if not path.startswith(API_PREFIX + "/"):
                    raise ApiError(404, "not_found", f"No API resource at {path}")
                if method in ("POST", "PUT"):
                    try:
                        body = json.loads(raw_body.decode("utf-8"))
                    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                        raise invalid("the request body must be valid JSON") from exc
                call = Call(
                    href=path[len(API_PREFIX) :],
                    query=split.query,
                    body=body,
                    prefer_async="respond-async" in self.headers.get("Prefer", "").lower(),
                )
                with emulator.lock:
                    reply = dispatch(emulator.store, method, call)
                dropped = emulator.faults.take_drop(method, path)
        except ApiError as error:
            reply = Reply(error.status, error.body())
            dropped = emulator.faults.take_drop(method, path, failed=True)
        emulator.log.add(
            RecordedRequest(
                method=method,
                path=path,
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                status=reply.status,
                body=body,
                request_id=request_id,
                dropped=dropped,
            )
        )
        if dropped:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(reply, request_id)

    def _send(self, reply: Reply, request_id: str) -> None:
        payload = b"" if reply.body is NO_BODY else json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        self.send_header("Request-ID", request_id)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)


class PceEmulator:
    """A stand-in Illumio PCE (REST API v2) on 127.0.0.1 for tests and manual runs."""

    def __init__(
        self,
        org_id: int = 1,
        api_key: str = "api_1f2e3d4c5b6a7980",
        api_secret: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        job_retry_after: int = 0,
        job_running_polls: int = 1,
        verbose: bool = False,
    ) -> None:
        self.org_id = org_id
        self.api_key = api_key
        self.api_secret = api_secret if api_secret is not None else secrets.token_hex(24)
        self.host = host
        self.port = port
        self.verbose = verbose
        self.lock = threading.RLock()
        self.store = PceStore(
            org_id, job_retry_after=job_retry_after, job_running_polls=job_running_polls
        )
        self.faults = FaultPlan()
        self.log = RequestLog()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"PceEmulator(url={self.url if self._server else None!r}, org_id={self.org_id})"

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> PceEmulator:
        """Bind and serve in a background thread."""
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # stop() waits up to one poll interval
            name="pce-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_open_sockets()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> PceEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to use as `pceUrl` (the API is at url + /api/v2)."""
        return f"http://{self.host}:{self.port}"

    @property
    def org_href(self) -> str:
        """`/orgs/<org_id>`."""
        return self.store.org_href

    def credentials_match(self, credentials: tuple[str, str] | None) -> bool:
        """Whether Basic credentials are this emulator's key and secret."""
        if credentials is None:
            return False
        user, password = credentials
        return hmac.compare_digest(user.encode(), self.api_key.encode()) and hmac.compare_digest(
            password.encode(), self.api_secret.encode()
        )

    # ----------------------------------------------------------------- state views
    @property
    def clusters(self) -> dict[str, dict[str, Any]]:
        """href -> cluster as GET returns it."""
        return self.store.clusters

    @property
    def profiles(self) -> dict[str, dict[str, Any]]:
        """href -> container workload profile (all clusters)."""
        return self.store.profiles

    @property
    def labels(self) -> dict[str, dict[str, Any]]:
        """href -> label."""
        return self.store.labels

    @property
    def pairing_profiles(self) -> dict[str, dict[str, Any]]:
        """href -> pairing profile."""
        return self.store.pairing_profiles

    @property
    def service_backends(self) -> dict[str, list[dict[str, Any]]]:
        """cluster href -> its service backends (they have no href of their own)."""
        return self.store.service_backends

    @property
    def policy(self) -> PolicyStore:
        """The draft/active security policy (rule sets, IP lists, versions); hold `lock`."""
        return self.store.policy

    def cluster_token(self, cluster_href: str) -> str:
        """The token issued when the cluster was created (the API never shows it again)."""
        with self.lock:
            return self.store.cluster_tokens[cluster_href]

    def activation_codes(self, pairing_profile_href: str) -> list[str]:
        """Every pairing key issued for a pairing profile, oldest first."""
        with self.lock:
            return list(self.store.activation_codes.get(pairing_profile_href, []))

    # ----------------------------------------------------------------- request log
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far (a copy), oldest first."""
        return self.log.snapshot()

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many requests matched `method` and contained `path_contains`."""
        return self.log.count(method, path_contains)

    def reset_counts(self) -> None:
        """Forget the request log (state is kept)."""
        self.log.clear()

    # ----------------------------------------------------------------- faults
    def inject_rate_limit(self, count: int, retry_after: int = 1) -> None:
        """The next `count` requests get 429 with Retry-After."""
        self.faults.inject_rate_limit(count, retry_after)

    def inject_failures(
        self,
        count: int,
        status: int = 503,
        method: str | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        """The next `count` requests (of `method`) fail with `status`, unprocessed;
        `retry_after` adds a Retry-After header (as a busy PCE's 503 may)."""
        self.faults.inject_failures(count, status, method, retry_after=retry_after)

    def set_latency(self, seconds: float) -> None:
        """Delay every request by `seconds`."""
        self.faults.set_latency(seconds)

    def drop_response_after_apply(
        self,
        method: str | None = "POST",
        path_contains: str | None = None,
        count: int = 1,
        *,
        even_errors: bool = False,
    ) -> None:
        """Apply the next matching request(s), then close the connection unanswered
        (`even_errors`: refusals are swallowed too)."""
        self.faults.drop_response_after_apply(method, path_contains, count, even_errors=even_errors)

    def enforce_rate_limit(
        self, per_minute: int | None = 500, window_seconds: float = 60.0
    ) -> None:
        """A real sliding-window limit per API key (None turns it off)."""
        self.faults.enforce_rate_limit(per_minute, window_seconds)

    # ----------------------------------------------------------------- PCE-side behaviour
    def kubelink_report(self, cluster_href: str, namespaces: list[str]) -> list[str]:
        """Kubelink reports namespaces: unmanaged profiles appear for new ones."""
        with self.lock:
            return self.store.kubelink_report(cluster_href, namespaces)

    def set_cluster_online(
        self,
        cluster_href: str,
        online: bool = True,
        kubelink_version: str | None = "5.1.0",
        manager_type: str | None = "Kubernetes v1.30.2",
        nodes: list[dict[str, Any]] | None = None,
    ) -> None:
        """Kubelink connects (or disconnects)."""
        with self.lock:
            self.store.set_cluster_online(
                cluster_href,
                online=online,
                kubelink_version=kubelink_version,
                manager_type=manager_type,
                nodes=nodes,
            )

    def add_service_backend(
        self,
        cluster_href: str,
        name: str,
        kind: str,
        namespace: str,
        virtual_service_name: str,
    ) -> dict[str, Any]:
        """Kubelink reports a service backend."""
        with self.lock:
            return self.store.add_service_backend(
                cluster_href, name, kind, namespace, virtual_service_name
            )

    def add_label(self, key: str, value: str) -> str:
        """Create a label directly (any key); returns its href."""
        with self.lock:
            try:
                return self.store.insert_label(key, value)["href"]
            except ApiError as error:
                raise ValueError(error.message) from error

    def define_label_key(self, key: str) -> None:
        """Allow POSTing labels with a key beyond role/app/env/loc (a PCE label type)."""
        with self.lock:
            self.store.label_keys.add(key)

    def reference_label(self, href: str) -> None:
        """Something outside the emulated API (a rule, a workload) now uses the label."""
        with self.lock:
            if href not in self.store.labels:
                raise KeyError(href)
            refs = self.store.external_label_refs
            refs[href] = refs.get(href, 0) + 1

    def release_label(self, href: str) -> None:
        """Undo one `reference_label`."""
        with self.lock:
            refs = self.store.external_label_refs
            if refs.get(href, 0) > 0:
                refs[href] -= 1
