"""`tenantguard render` redacts only what is secret: Kubelink's token and pairing key, the
cluster document's credentials, each kubeconfig's credentials; the rest is shown, and no
secret text reaches any file however it is spelled."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import stacks
import tenantguard.render as render
from components.illumio.kubelink_values import (
    SECRET_VALUE_KEYS,
    KubelinkSettings,
    pce_host_port,
    render_values,
)
from components.illumio.onboarding import VAULT_SECRET_FIELDS
from components.tenancy.kubeconfig import build_kubeconfig
from tenantguard.kubeconfig_outline import UNREADABLE, credential_texts, outline_text
from tenantguard.recording_mocks import Recording, Registered, run_mocked
from tenantguard.redact import REDACTED, unwrap
from tenantguard.render_secrets import secret_export, vault_data
from tenantguard.stack_config import load_stack_config
from tests.tenantguard.test_render import (
    PLANTED,
    PLANTED_CODE,
    PLANTED_CONFIG,
    PLANTED_SA_TOKEN,
    PLANTED_TOKEN,
    REPO,
    files_under,
    load,
    planting_hook,
)

ONBOARDING_URN = "urn:pulumi:dev::tenantguard::tenantguard:index:ClusterOnboarding$"
PROJECT_URN = "urn:pulumi:dev::tenantguard::tenantguard:index:Project$"
SECRETV2 = "vault:kv/secretV2:SecretV2"


def resource(urn_prefix: str, type_: str = SECRETV2, name: str = "doc") -> Registered:
    return Registered(
        urn=f"{urn_prefix}{type_}::{name}",
        type=type_,
        name=name,
        inputs={},
        outputs={},
        parent="",
        custom=True,
        dependencies=[],
        property_dependencies={},
        additional_secret_outputs=[],
        provider="",
        delete_before_replace=False,
        protect=False,
    )


def openssl_fingerprint(ca_data: str) -> str:
    """The CA's SHA-256 fingerprint as openssl prints it (an independent computation)."""
    pem = base64.b64decode(ca_data)
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
        input=pem,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return "SHA256:" + out.strip().split("=", 1)[1]


@pytest.fixture(scope="module")
def planted(
    tmp_path_factory: pytest.TempPathFactory, platform_program: Callable[[], None]
) -> tuple[Path, Recording]:
    """The dev stack rendered with real-looking secrets planted everywhere they come from."""
    out = tmp_path_factory.mktemp("planted") / "dev"
    render.render_stack(
        "dev",
        out_dir=out,
        project_dir=REPO,
        program=platform_program,
        config_overrides=PLANTED_CONFIG,
        outputs_hook=planting_hook,
    )
    stack_values = load_stack_config("dev", REPO).values
    config = render.offline_config("dev", stack_values, PLANTED_CONFIG)
    recording = run_mocked(platform_program, outputs_hook=planting_hook, config=config, stack="dev")
    return out, recording


# ------------------------------------------------------------- one source of secret-ness


def test_the_kubelink_secret_keys_are_exactly_the_values_holding_the_token_and_key() -> None:
    settings = KubelinkSettings(enabled=True, version="5.3.0")
    values = render_values(
        settings,
        pce_url="https://pce.example.com:8443",
        cluster_id="cluster-id-public",
        cluster_token=PLANTED_TOKEN,
        cluster_code=PLANTED_CODE,
    )
    holding = {key for key, value in values.items() if value in (PLANTED_TOKEN, PLANTED_CODE)}
    assert holding == set(SECRET_VALUE_KEYS)


def test_the_cluster_document_secret_fields_are_exactly_those_holding_the_token_and_key(
    planted: tuple[Path, Recording],
) -> None:
    _, recording = planted
    (secret,) = [r for r in recording.of_type(SECRETV2) if r.urn.startswith(ONBOARDING_URN)]
    data = json.loads(unwrap(secret.inputs["dataJson"]))
    holding = {key for key, value in data.items() if value in (PLANTED_TOKEN, PLANTED_CODE)}
    assert holding == set(VAULT_SECRET_FIELDS)


# ----------------------------------------------------------------- the dev stack's files


def test_kubelink_values_show_everything_but_the_token_and_pairing_key(
    planted: tuple[Path, Recording],
) -> None:
    out, _ = planted
    spec = stacks.load("dev")
    values = load(out / "helm" / "illumio.yaml")["values"]
    for key in SECRET_VALUE_KEYS:
        assert values[key] == REDACTED, key
    assert values["containerRuntime"] == spec.cluster.kubelink.container_runtime
    assert values["containerManager"] == spec.cluster.kubelink.container_manager
    assert values["networkType"] == spec.cluster.kubelink.network_type
    assert values["pce_url"] == "pce.internal.example:8443"
    assert values["cluster_id"] == "<ContainerCluster platform-onboarding-cluster.cluster_id>"
    assert values["extraVolumeMounts"][0]["mountPath"] == "/etc/pki/tls/ilo_certs/"
    assert [k for k, v in values.items() if v == REDACTED] == sorted(SECRET_VALUE_KEYS)


def test_the_cluster_document_shows_its_id_and_hides_its_credentials(
    planted: tuple[Path, Recording],
) -> None:
    out, _ = planted
    spec = stacks.load("dev")
    path = out / "vault" / spec.vault.mount / spec.vault.path_prefix / "clusters" / "dev-eu1.json"
    data = load(path)["data"]
    assert data == {
        "cluster_id": "<ContainerCluster platform-onboarding-cluster.cluster_id>",
        **{field: REDACTED for field in VAULT_SECRET_FIELDS},
    }


def test_project_documents_show_their_fields_and_the_kubeconfig_outline(
    planted: tuple[Path, Recording],
) -> None:
    out, _ = planted
    spec = stacks.load("dev")
    fingerprint = openssl_fingerprint(spec.cluster.ca_data)
    tenants = out / "vault" / spec.vault.mount / spec.vault.path_prefix / "tenants"
    checked = 0
    for tenant in spec.tenants:
        for project in tenant.projects:
            namespace = stacks.spec.project_namespace(tenant, project)
            for account in project.service_accounts:
                data = load(tenants / tenant.name / project.name / f"{account.name}.json")["data"]
                assert data["namespace"] == namespace
                assert data["service_account"] == account.name
                kubeconfig = data["kubeconfig"]
                (cluster,) = kubeconfig["clusters"]
                assert cluster["server"] == spec.cluster.api_server
                assert cluster["certificate-authority-sha256"] == [fingerprint]
                (context,) = kubeconfig["contexts"]
                assert (context["namespace"], context["user"]) == (namespace, account.name)
                # An account whose tokens expire has no token to hide: Vault mints them.
                user = {} if account.token_duration else {"token": REDACTED}
                assert kubeconfig["users"] == [{"name": account.name, "user": user}]
                if account.token_duration:
                    assert (
                        data["creds_path"] == f"kubernetes-dev-eu1/creds/{namespace}.{account.name}"
                    )
                checked += 1
    assert checked >= 6


def test_secret_stack_exports_keep_keys_and_outline_kubeconfigs(
    planted: tuple[Path, Recording],
) -> None:
    out, _ = planted
    exports = load(out / "stack-outputs.json")
    assert exports["cluster_token"] == REDACTED
    deployer = exports["project_kubeconfigs"]["payments/api"]["deployer"]
    assert deployer["users"] == [{"name": "deployer", "user": {}}]  # tokenDuration 24h
    assert deployer["contexts"][0]["namespace"] == "payments-api"
    auditor = exports["project_kubeconfigs"]["payments/api"]["auditor"]
    assert auditor["users"] == [{"name": "auditor", "user": {"token": REDACTED}}]


def test_no_secret_text_reaches_a_file_but_the_public_values_do(
    planted: tuple[Path, Recording],
) -> None:
    out, _ = planted
    spec = stacks.load("dev")
    encodings: set[str] = set()
    for secret in PLANTED:
        encodings |= {secret, base64.b64encode(secret.encode()).decode(), json.dumps(secret)[1:-1]}
    files = files_under(out)
    everything = b"\n".join(files.values()).decode()
    for name, content in files.items():
        for secret in encodings:
            assert secret.encode() not in content, f"{secret!r} leaked into {name}"
    assert PLANTED_SA_TOKEN not in everything and PLANTED_CONFIG["vault:token"] not in everything
    public = [
        f"containerRuntime: {spec.cluster.kubelink.container_runtime}",
        f"networkType: {spec.cluster.kubelink.network_type}",
        f"pce_url: {pce_host_port('https://pce.internal.example:8443')}",
        f'"server": "{spec.cluster.api_server}"',
        '"namespace": "payments-api"',
        '"namespace": "ledger-dev"',
    ]
    for text in public:
        assert text in everything, text


# --------------------------------------------------------------------- the pieces alone


def kubeconfig(token: str = PLANTED_SA_TOKEN) -> str:
    ca = stacks.load("dev").cluster.ca_data
    return build_kubeconfig(
        cluster_name="c1",
        server="https://api.example:6443",
        certificate_authority=ca,
        namespace="team-a",
        user="deployer",
        token=token,
    )


def test_the_outline_names_public_fields_only_and_redacts_every_credential() -> None:
    config = yaml.safe_load(kubeconfig())
    config["clusters"][0]["cluster"]["proxy-url"] = "https://user:pw@proxy.example"
    config["users"][0]["user"].update({"client-key-data": "a2V5", "exec": {"args": ["x"]}})
    shown = outline_text(yaml.safe_dump(config))
    assert shown is not None
    assert "proxy-url" not in shown["clusters"][0]
    assert shown["users"] == [
        {
            "name": "deployer",
            "user": {"token": REDACTED, "client-key-data": REDACTED, "exec": {"args": [REDACTED]}},
        }
    ]
    assert credential_texts(yaml.safe_dump(config)) >= {PLANTED_SA_TOKEN, "a2V5", "x"}


def test_unreadable_ca_data_and_non_kubeconfigs() -> None:
    config = yaml.safe_load(kubeconfig())
    config["clusters"][0]["cluster"]["certificate-authority-data"] = "not base64!"
    shown = outline_text(yaml.safe_dump(config))
    assert shown is not None and shown["clusters"][0]["certificate-authority-sha256"] == [
        UNREADABLE
    ]
    assert outline_text("kind: Pod\nclusters: []\n") is None
    assert outline_text("just text") is None


def test_a_vault_document_from_an_unknown_writer_is_blanked_whole() -> None:
    data = json.dumps({"namespace": "team-a", "api_key": "k-123456"})
    assert vault_data(resource("urn:pulumi:dev::p::other:index:Thing$"), data) == {
        "namespace": REDACTED,
        "api_key": REDACTED,
    }
    project_doc = json.dumps({"namespace": "team-a", "kubeconfig": kubeconfig()})
    shown: Any = vault_data(resource(PROJECT_URN), project_doc)
    assert shown["namespace"] == "team-a"
    assert shown["kubeconfig"]["users"][0]["user"] == {"token": REDACTED}
    assert vault_data(resource(PROJECT_URN), "not json") == REDACTED


def test_a_secret_export_is_blanked_except_its_kubeconfigs() -> None:
    value = {"a": {"sa": kubeconfig()}, "n": 3, "none": None}
    shown = secret_export(value)
    assert shown["n"] == REDACTED and shown["none"] is None
    assert shown["a"]["sa"]["clusters"][0]["server"] == "https://api.example:6443"


def test_the_render_entry_keeps_its_public_names() -> None:
    for name in render.__all__:
        assert hasattr(render, name), name
