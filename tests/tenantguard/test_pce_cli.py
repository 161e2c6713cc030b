"""`tenantguard pce ...` against the PCE emulator over real HTTP: output, lookups, errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from providers.illumio.client import PceClient
from providers.illumio.settings import PceSettings
from tenantguard import cli

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Seed:
    emulator: Any
    dev_href: str
    old_href: str
    ledger_profile: str
    app_label: str
    env_label: str


@pytest.fixture
def seeded(quiet_pce_env: Any) -> Seed:
    """Two clusters whose names share a prefix, profiles, labels and a service backend."""
    emulator = quiet_pce_env
    with PceClient(PceSettings.load(env=os.environ)) as client:
        dev = client.create_container_cluster("dev-eu1", "Development, eu-west-1")
        old = client.create_container_cluster("dev-eu1-old", "Retired")
        app = client.create_label("app", "payments")
        env = client.create_label("env", "dev")
        client.create_label("env", "prod")
        ledger = client.create_workload_profile(
            dev.href,
            {
                "name": "ledger-dev",
                "namespace": "ledger-dev",
                "managed": True,
                "enforcement_mode": "visibility_only",
                "labels": [
                    {"key": "app", "assignment": {"href": app.href}},
                    {"key": "env", "restriction": [{"href": env.href}]},
                ],
            },
        )
    emulator.set_cluster_online(dev.href, online=True, kubelink_version="5.3.0")
    emulator.kubelink_report(dev.href, ["payments-api"])
    emulator.add_service_backend(dev.href, "web", "Deployment", "payments-api", "payments-web")
    emulator.reset_counts()
    return Seed(emulator, dev.href, old.href, ledger.href, app.href, env.href)


def run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_secret(seed: Seed, *texts: str) -> None:
    for text in texts:
        assert seed.emulator.api_secret not in text


# ------------------------------------------------------------------------- clusters


def test_clusters_list_table(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(["pce", "clusters", "list"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["NAME", "ONLINE"]
    assert lines[1].split()[:3] == ["dev-eu1", "yes", "5.3.0"]
    assert lines[1].endswith(seeded.dev_href)
    assert lines[2].split()[:2] == ["dev-eu1-old", "no"]
    assert len(lines) == 3
    assert_no_secret(seeded, out, err)


def test_clusters_list_json(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["pce", "clusters", "list", "--output", "json"], capsys)
    assert code == 0
    clusters = json.loads(out)
    assert [c["name"] for c in clusters] == ["dev-eu1", "dev-eu1-old"]
    assert clusters[0]["href"] == seeded.dev_href
    assert clusters[0]["online"] is True
    assert clusters[0]["cluster_id"] == seeded.dev_href.rsplit("/", 1)[-1]
    assert "container_cluster_token" not in clusters[0]


def test_clusters_get_is_an_exact_name_match(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["pce", "clusters", "get", "dev-eu1", "-o", "json"], capsys)
    assert code == 0
    cluster = json.loads(out)
    assert cluster["href"] == seeded.dev_href, "the PCE's partial filter also matches dev-eu1-old"
    assert cluster["description"] == "Development, eu-west-1"


def test_clusters_get_table_and_by_href(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["pce", "clusters", "get", "dev-eu1-old"], capsys)
    assert code == 0
    fields = dict(line.split(":", 1) for line in out.splitlines())
    assert fields["name"].strip() == "dev-eu1-old"
    assert fields["href"].strip() == seeded.old_href
    assert fields["online"].strip() == "no"
    code, by_href, _ = run(["pce", "clusters", "get", seeded.old_href], capsys)
    assert code == 0 and by_href == out


def test_clusters_get_not_found_lists_known_clusters(
    seeded: Seed, capsys: pytest.CaptureFixture
) -> None:
    code, out, err = run(["pce", "clusters", "get", "dev"], capsys)
    assert code == 1 and out == ""
    assert err == "error: cluster 'dev' not found; known clusters: 'dev-eu1', 'dev-eu1-old'\n"


def test_an_unknown_href_is_not_found_too(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    missing = seeded.dev_href.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    code, _, err = run(["pce", "profiles", missing], capsys)
    assert code == 1
    assert err.startswith(f"error: cluster '{missing}' not found; known clusters: 'dev-eu1'")


def test_two_clusters_with_one_name_ask_for_the_href(
    seeded: Seed, capsys: pytest.CaptureFixture
) -> None:
    with PceClient(PceSettings.load(env=os.environ)) as client:
        twin = client.create_container_cluster("dev-eu1", "A second one")
    code, _, err = run(["pce", "profiles", "dev-eu1"], capsys)
    assert code == 1
    assert "2 clusters are named 'dev-eu1'" in err
    assert twin.href in err and seeded.dev_href in err


# ------------------------------------------------------------------------- profiles


def test_profiles_table_by_name_and_by_href(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(["pce", "profiles", "dev-eu1"], capsys)
    assert code == 0 and err == ""
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "ledger-dev" in rows and "payments-api" in rows
    assert rows["ledger-dev"].split()[2:6] == ["yes", "no", "visibility_only", "flow_summary"]
    assert rows["ledger-dev"].endswith("app=payments; env in [dev]")
    assert rows["payments-api"].split()[2] == "no", "Kubelink's profiles are unmanaged"
    code, by_href, _ = run(["pce", "profiles", seeded.dev_href], capsys)
    assert code == 0 and by_href == out


def test_profiles_json(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["pce", "profiles", "dev-eu1", "--output", "json"], capsys)
    assert code == 0
    profiles = {p["namespace"]: p for p in json.loads(out) if p["namespace"]}
    ledger = profiles["ledger-dev"]
    assert ledger["href"] == seeded.ledger_profile
    assert ledger["managed"] is True
    assert {entry["key"] for entry in ledger["labels"]} == {"app", "env"}


def test_a_cluster_kubelink_never_reported_lists_only_its_default_profile(
    seeded: Seed, capsys: pytest.CaptureFixture
) -> None:
    code, out, _ = run(["pce", "profiles", "dev-eu1-old", "-o", "json"], capsys)
    assert code == 0
    profiles = json.loads(out)
    assert len(profiles) == 1 and profiles[0]["namespace"] is None, "only the cluster default"


# --------------------------------------------------------------------------- labels


def test_labels_table_and_key_filter(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["pce", "labels"], capsys)
    assert code == 0
    pairs = [tuple(line.split()[:2]) for line in out.splitlines()[1:]]
    assert ("app", "payments") in pairs and ("env", "dev") in pairs and ("env", "prod") in pairs
    assert pairs == sorted(pairs)
    code, out, _ = run(["pce", "labels", "--key", "env"], capsys)
    assert code == 0
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [["env", "dev"], ["env", "prod"]]


def test_labels_json(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["pce", "labels", "--key", "app", "--output", "json"], capsys)
    assert code == 0
    assert [(label["key"], label["value"], label["href"]) for label in json.loads(out)] == [
        ("app", "payments", seeded.app_label)
    ]


def test_labels_with_an_unknown_key(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["pce", "labels", "--key", "role"], capsys)
    assert code == 0
    assert out == "No labels with key 'role'.\n"


# ------------------------------------------------------------------------- backends


def test_backends_table_and_json(seeded: Seed, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["pce", "backends", "dev-eu1"], capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["NAMESPACE", "KIND", "NAME", "VIRTUAL", "SERVICE"]
    assert out.splitlines()[1].split() == ["payments-api", "Deployment", "web", "payments-web"]
    code, out, _ = run(["pce", "backends", seeded.dev_href, "-o", "json"], capsys)
    assert code == 0
    (backend,) = json.loads(out)
    assert backend["name"] == "web" and backend["virtual_service"]["name"] == "payments-web"
    code, out, _ = run(["pce", "backends", "dev-eu1-old"], capsys)
    assert code == 0 and out == "No service backends in cluster 'dev-eu1-old'.\n"


# --------------------------------------------------------------------------- errors


def test_missing_settings_name_the_config_key_and_env_var(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    for name in list(os.environ):
        if name.startswith("ILLUMIO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["pce", "clusters", "list"], capsys)
    assert code == 1 and out == ""
    assert err.startswith("error: Illumio PCE settings are incomplete")
    for key, env in [
        ("illumio:pceUrl", "ILLUMIO_PCE_URL"),
        ("illumio:apiSecret", "ILLUMIO_API_SECRET"),
    ]:
        assert f"{key} ({env}) is not set" in err
    assert "Traceback" not in err


def test_a_rejected_secret_says_401_and_what_to_check(
    seeded: Seed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    wrong = "wrong-secret-5f1e2d3c"
    monkeypatch.setenv("ILLUMIO_API_SECRET", wrong)
    code, out, err = run(["pce", "labels"], capsys)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert "HTTP 401" in err
    assert "illumio:apiSecret" in err and "ILLUMIO_API_SECRET" in err
    assert wrong not in err
    assert_no_secret(seeded, err)


def test_a_refused_connection_says_where_it_tried(
    quiet_pce_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ILLUMIO_PCE_URL", f"http://127.0.0.1:{port}")
    code, out, err = run(["pce", "clusters", "list"], capsys)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert f"Could not reach the PCE at http://127.0.0.1:{port}" in err
    assert "check illumio:pceUrl" in err
    assert quiet_pce_env.api_secret not in err


def test_settings_from_the_stack_file_with_the_secret_from_the_environment(
    seeded: Seed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    emulator = seeded.emulator
    (tmp_path / "Pulumi.yaml").write_text("name: lab\nruntime: python\n")
    (tmp_path / "Pulumi.lab.yaml").write_text(
        "config:\n"
        f"  illumio:pceUrl: {emulator.url}\n"
        f"  illumio:orgId: {emulator.org_id}\n"
        f"  illumio:apiKey: {emulator.api_key}\n"
        "  illumio:apiSecret:\n    secure: v1:notreadablehere\n"
    )
    for name in ("ILLUMIO_PCE_URL", "ILLUMIO_ORG_ID", "ILLUMIO_API_KEY"):
        monkeypatch.delenv(name)
    code, out, err = run(
        ["pce", "clusters", "list", "--stack", "lab", "--project-dir", str(tmp_path)], capsys
    )
    assert code == 0, err
    assert "dev-eu1" in out
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["pce", "clusters", "get", "dev-eu1", "--stack", "lab"], capsys)
    assert code == 0 and seeded.dev_href in out


def test_a_stack_without_a_stack_file_is_an_error(
    quiet_pce_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: lab\n")
    code, _, err = run(["pce", "labels", "--stack", "qa", "--project-dir", str(tmp_path)], capsys)
    assert code == 1
    assert "no Pulumi.qa.yaml found for --stack qa" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["pce"],
        ["pce", "clusters"],
        ["pce", "clusters", "get"],
        ["pce", "profiles"],
        ["pce", "labels", "-o", "xml"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    assert cli.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


# ----------------------------------------------------------------------- entry point


def test_python_dash_m_runs_the_cli_as_a_subprocess(seeded: Seed) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "tenantguard", "pce", "clusters", "get", "dev-eu1", "-o", "json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["href"] == seeded.dev_href
    assert_no_secret(seeded, result.stdout, result.stderr)

    missing = subprocess.run(
        [sys.executable, "-m", "tenantguard", "pce", "clusters", "get", "nope"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: cluster 'nope' not found; known clusters:")
    assert "Traceback" not in missing.stderr


def test_terminal_control_characters_from_the_pce_are_neutralised(
    seeded: Seed, capsys: pytest.CaptureFixture
) -> None:
    with PceClient(PceSettings.load(env=os.environ)) as client:
        client.create_container_cluster("lab", "clears the screen \x1b[2J\x1b[31mred")
    code, out, _ = run(["pce", "clusters", "get", "lab"], capsys)
    assert code == 0
    assert "\x1b" not in out
    assert "clears the screen ?[2J?[31mred" in out
    code, out, _ = run(["pce", "clusters", "get", "lab", "-o", "json"], capsys)
    assert json.loads(out)["description"] == "clears the screen \x1b[2J\x1b[31mred"
