"""TLS, timeout and connection failures: each error names the host:port the client tried,
says which setting fixes it, and never carries a credential.

Scripted exceptions pin the wording; real sockets (a self-signed HTTPS server, the PCE
emulator made slow, a closed port, a full listen backlog) check that what requests
really raises is turned into the same clear errors.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from providers.illumio.client import PceClient
from providers.illumio.errors import IllumioError, PceConnectionError, PceOutcomeUnknownError
from providers.illumio.settings import PceSettings
from providers.illumio.throttle import SlidingWindowLimiter
from providers.illumio.transport_errors import endpoint
from tests.providers.illumio.fake_transport import FakePce, connect_timeout, read_timeout

SECRET = "Sup3r-s3cret-API-value-4242"
API_KEY = "api_7c1d2e3f4a5b6c7d"
AUTH_TOKEN = base64.b64encode(f"{API_KEY}:{SECRET}".encode()).decode()


def client_for(url: str, *, session: requests.Session | None = None, **overrides: Any):
    values: dict[str, Any] = {
        "pce_url": url,
        "org_id": 1,
        "api_key": API_KEY,
        "api_secret": SECRET,
        "max_retries": 0,
        "request_timeout": 9,
    }
    values.update(overrides)
    return PceClient(
        PceSettings(**values),
        session=session,
        limiter=SlidingWindowLimiter(500),
        sleep=lambda _seconds: None,
    )


def failure_of(call: Any) -> IllumioError:
    with pytest.raises(IllumioError) as caught:
        call()
    error = caught.value
    printed = "".join(traceback.format_exception(error))
    for text in (str(error), repr(error), printed):
        assert SECRET not in text
        assert AUTH_TOKEN not in text
    assert "During handling" not in printed and "direct cause" not in printed
    return error


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests honours *_PROXY variables: the real-socket tests must reach 127.0.0.1."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


# -- the wording, on scripted exceptions ----------------------------------------------


def test_endpoint_spells_out_the_port():
    assert endpoint("https://pce.example.com:8443") == "pce.example.com:8443"
    assert endpoint("https://pce.example.com") == "pce.example.com:443"
    assert endpoint("http://[::1]") == "[::1]:80"


def test_a_connect_timeout_names_the_host_and_the_timeout():
    fake = FakePce(default=connect_timeout())
    error = failure_of(
        lambda: client_for("https://pce.test:8443", session=fake.session()).get("/orgs/1/labels")
    )
    assert isinstance(error, PceConnectionError)
    assert "timed out after 9s connecting to pce.test:8443" in str(error)
    assert "illumio:requestTimeout=9s" in str(error)


def test_a_read_timeout_names_the_host_and_the_timeout():
    fake = FakePce(default=read_timeout())
    error = failure_of(
        lambda: client_for("https://pce.test:8443", session=fake.session()).get("/orgs/1/labels")
    )
    assert "timed out after 9s waiting for pce.test:8443 to answer" in str(error)


def test_a_tls_failure_names_the_host_and_the_ca_bundle_setting():
    fake = FakePce(default=requests.exceptions.SSLError("certificate verify failed"))
    error = failure_of(
        lambda: client_for("https://pce.test:8443", session=fake.session()).get("/orgs/1/labels")
    )
    assert "TLS verification failed for pce.test:8443" in str(error)
    assert "illumio:caBundle" in str(error)


def test_credentials_in_a_proxy_url_or_echoed_secrets_are_not_repeated():
    leak = requests.exceptions.ProxyError(
        f"Cannot connect to proxy http://bob:hunter2@proxy.corp:3128 for {SECRET}"
    )
    fake = FakePce(default=leak)
    error = failure_of(
        lambda: client_for("https://pce.test:8443", session=fake.session()).get("/orgs/1/labels")
    )
    assert "hunter2" not in str(error)
    assert "http://***@proxy.corp:3128" in str(error)
    assert "could not reach pce.test:8443 through the proxy" in str(error)


# -- real sockets ------------------------------------------------------------------------


def _openssl_cert(directory: Path, name: str, san: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def _cryptography_cert(directory: Path, name: str, san: str) -> tuple[Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    kind, _, value = san.partition(":")
    alt = x509.IPAddress(ipaddress.ip_address(value)) if kind == "IP" else x509.DNSName(value)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Self-signed certificates: one for 127.0.0.1, one for another host name."""
    directory = tmp_path_factory.mktemp("certs")
    if shutil.which("openssl"):
        make = _openssl_cert
    else:
        pytest.importorskip("cryptography", reason="needs the openssl CLI or cryptography")
        make = _cryptography_cert
    return {
        "loopback": make(directory, "loopback", "IP:127.0.0.1"),
        "other": make(directory, "other.example", "DNS:other.example"),
    }


class TlsServer:
    """HTTPS on 127.0.0.1 with a given certificate, answering `[]` to every request."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.handshakes += 1
            with conn, contextlib.suppress(OSError):
                conn.settimeout(5)
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    tls.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 2\r\nConnection: close\r\n\r\n[]"
                    )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def tls_server(certs: dict[str, tuple[Path, Path]]) -> Iterator[Any]:
    servers: list[TlsServer] = []

    def start(which: str) -> TlsServer:
        server = TlsServer(*certs[which])
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_a_self_signed_pce_is_refused_once_naming_host_and_ca_bundle(tls_server):
    server = tls_server("loopback")
    client = client_for(f"https://127.0.0.1:{server.port}", max_retries=3)
    error = failure_of(lambda: client.get("/orgs/1/labels"))
    assert isinstance(error, PceConnectionError)
    assert f"TLS verification failed for 127.0.0.1:{server.port}: self-signed" in str(error)
    assert "Set illumio:caBundle" in str(error)
    assert "_ssl.c" not in str(error) and "HTTPSConnectionPool" not in str(error)
    assert server.handshakes == 1  # a TLS failure is not retried


def test_a_certificate_for_another_name_says_so(tls_server, certs):
    server = tls_server("other")
    client = client_for(f"https://127.0.0.1:{server.port}", ca_bundle=str(certs["other"][0]))
    error = failure_of(lambda: client.create_label("env", "prod"))
    assert isinstance(error, PceConnectionError)  # nothing was sent: not "outcome unknown"
    assert f"TLS verification failed for 127.0.0.1:{server.port}" in str(error)
    assert "mismatch" in str(error)
    assert "does not name the host in illumio:pceUrl" in str(error)


def test_the_pces_ca_in_ca_bundle_makes_tls_work(tls_server, certs):
    server = tls_server("loopback")
    client = client_for(f"https://127.0.0.1:{server.port}", ca_bundle=str(certs["loopback"][0]))
    assert client.get("/orgs/1/labels") == []


def test_a_pce_that_never_answers_times_out_naming_host_and_timeout(pce_emulator):
    pce_emulator.set_latency(3)
    port = pce_emulator.port
    client = client_for(pce_emulator.url, request_timeout=0.3)
    started = time.monotonic()
    error = failure_of(lambda: client.get("/orgs/1/labels"))
    assert time.monotonic() - started < 2.5
    assert isinstance(error, PceConnectionError)
    assert f"timed out after 0.3s waiting for 127.0.0.1:{port} to answer" in str(error)
    assert "illumio:requestTimeout=0.3s" in str(error)

    post = failure_of(lambda: client.create_label("env", "prod"))
    assert isinstance(post, PceOutcomeUnknownError)
    assert f"sent to 127.0.0.1:{port} but no response came back" in str(post)
    assert "no answer within 0.3s" in str(post)


def test_a_closed_port_names_host_and_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = failure_of(lambda: client_for(f"http://127.0.0.1:{port}").get("/orgs/1/labels"))
    assert isinstance(error, PceConnectionError)
    assert f"could not connect to 127.0.0.1:{port}" in str(error)
    assert "Connection refused" in str(error)
    assert "HTTPConnectionPool" not in str(error)


def test_a_host_that_never_accepts_the_connection_is_a_connect_timeout():
    # A listener whose backlog is full: Linux drops further SYNs, so connect() hangs.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        held = []
        try:
            for _ in range(3):
                sock = socket.socket()
                sock.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    sock.connect(("127.0.0.1", port))
                held.append(sock)
            time.sleep(0.05)
            with socket.socket() as probe:
                probe.settimeout(0.2)
                with contextlib.suppress(TimeoutError, OSError):
                    probe.connect(("127.0.0.1", port))
                    pytest.skip("this kernel accepts connections past a full backlog")
            client = client_for(f"http://127.0.0.1:{port}", request_timeout=0.3)
            error = failure_of(lambda: client.get("/orgs/1/labels"))
        finally:
            for sock in held:
                sock.close()
    assert isinstance(error, PceConnectionError)
    assert f"timed out after 0.3s connecting to 127.0.0.1:{port}" in str(error)
