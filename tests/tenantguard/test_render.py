"""`tenantguard render`: the dev stack offline into files that parse, validate, never hold a
secret, come out byte-identical every time, and never clobber a directory they don't own."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime.mocks import MockResourceArgs

import stacks
from components.illumio.onboarding import VAULT_SECRET_FIELDS
from providers.illumio.workload_profile import normal_inputs, profile_body
from tenantguard import cli
from tenantguard import render as render_module
from tenantguard.recording_mocks import Recording, Registered, run_mocked
from tenantguard.redact import REDACTED
from tenantguard.render import (
    MARKER_NAME,
    OFFLINE_DEFAULTS,
    normalise,
    offline_config,
    placeholder_outputs,
    render_stack,
    resource_tree,
)
from tenantguard.stack_config import load_stack_config
from tests.components.k8s_schema import validate_manifest
from tests.components.kyverno_schema import validate_kyverno

REPO = Path(__file__).resolve().parents[2]
KYVERNO_GROUPS = ("kyverno.io/", "policies.kyverno.io/")
REFERENCE = re.compile(r"^<(?P<kind>[A-Za-z]+) (?P<name>[^ >]+)\.href>$")

PLANTED_TOKEN = "planted-cluster-token-7c41e0b9d2"
PLANTED_CODE = "planted-pairing-code-5a9f3e1c77"
PLANTED_SA_TOKEN = "planted-sa-token-eyJhbGciOiJSUzI1NiJ9"
PLANTED_CONFIG = {
    "illumio:apiSecret": "planted-api-secret-0b1c2d3e4f",
    "vault:token": "planted-vault-token-hvs.CAESIJ",
    "kubernetes:kubeconfig": "apiVersion: v1\nusers:\n- user: {token: planted-kubeconfig-1234}\n",
}
PLANTED = [PLANTED_TOKEN, PLANTED_CODE, PLANTED_SA_TOKEN, *PLANTED_CONFIG.values()]


def files_under(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def load(path: Path) -> Any:
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


@pytest.fixture(scope="module")
def dev_config() -> dict[str, str]:
    return offline_config("dev", load_stack_config("dev", REPO).values)


@pytest.fixture(scope="module")
def dev_recording(platform_program: Callable[[], None], dev_config: dict[str, str]) -> Recording:
    return run_mocked(
        platform_program, outputs_hook=placeholder_outputs, config=dev_config, stack="dev"
    )


@pytest.fixture(scope="module")
def dev_out(tmp_path_factory: pytest.TempPathFactory, platform_program: Callable[[], None]) -> Path:
    out = tmp_path_factory.mktemp("render") / "dev"
    render_stack("dev", out_dir=out, project_dir=REPO, program=platform_program)
    return out


@pytest.fixture
def cli_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run `tenantguard render` in-process from the repository root, like a user would."""
    monkeypatch.chdir(REPO)


# ------------------------------------------------------------------- files and schemas


def test_every_file_parses_and_the_marker_lists_them(dev_out: Path) -> None:
    files = files_under(dev_out)
    listed = [
        line
        for line in (dev_out / MARKER_NAME).read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert sorted(listed) == sorted(set(files) - {MARKER_NAME})
    for name in files:
        if name.endswith((".json", ".yaml")):
            assert load(dev_out / name) is not None, name


def test_kubernetes_manifests_and_kyverno_policies_validate(dev_out: Path) -> None:
    manifests = [load(path) for path in sorted((dev_out / "kubernetes").rglob("*.yaml"))]
    kyverno = [m for m in manifests if m["apiVersion"].startswith(KYVERNO_GROUPS)]
    others = [m for m in manifests if not m["apiVersion"].startswith(KYVERNO_GROUPS)]
    assert kyverno and others
    for manifest in kyverno:
        validate_kyverno(manifest)
    for manifest in others:
        validate_manifest(manifest)


def _expected_manifest_path(resource: Registered) -> str:
    metadata = resource.inputs["metadata"]
    namespace = metadata.get("namespace") or "_cluster"
    name = metadata["name"].replace(":", "_")  # such as tenantguard:token-issuer
    return f"kubernetes/{namespace}/{resource.inputs['kind']}-{name}.yaml"


def test_manifests_are_exactly_the_registered_inputs(
    dev_out: Path, dev_recording: Recording
) -> None:
    checked = 0
    for resource in dev_recording.resources:
        if not resource.type.startswith("kubernetes:") or "kind" not in resource.inputs:
            continue
        if resource.type == "kubernetes:helm.sh/v3:Release":
            continue
        written = load(dev_out / _expected_manifest_path(resource))
        expected = normalise({k: v for k, v in resource.inputs.items() if not k.startswith("__")})
        if resource.inputs["kind"] != "Secret":
            assert written == expected, resource.name
        else:
            assert {k: v for k, v in written.items() if k not in ("data", "stringData")} == {
                k: v for k, v in expected.items() if k not in ("data", "stringData")
            }
        checked += 1
    assert checked >= 30


def test_dev_has_namespaces_quotas_netpols_policies_profiles_vault_and_helm(
    dev_out: Path,
) -> None:
    spec = stacks.load("dev")
    kube = dev_out / "kubernetes"
    kind = {"validatingpolicy": "ValidatingPolicy", "clusterpolicy": "ClusterPolicy"}
    for ref in spec.kyverno.baseline_policies:
        policy = load(kube / "_cluster" / f"{kind[spec.kyverno.policy_api]}-{ref.name}.yaml")
        assert policy["metadata"]["name"] == ref.name
    profiles = {
        load(path)["inputs"]["namespace"]: load(path)
        for path in (dev_out / "illumio").glob("ContainerWorkloadProfile-*.json")
    }
    for tenant in spec.tenants:
        for project in tenant.projects:
            namespace = stacks.spec.project_namespace(tenant, project)
            assert load(kube / "_cluster" / f"Namespace-{namespace}.yaml")["metadata"]["name"] == (
                namespace
            )
            assert list((kube / namespace).glob("ResourceQuota-*.yaml")), namespace
            assert list((kube / namespace).glob("NetworkPolicy-*.yaml")), namespace
            for ref in project.policies:
                assert (kube / namespace / f"NamespacedValidatingPolicy-{ref.name}.yaml").is_file()
            for account in project.service_accounts:
                assert (kube / namespace / f"ServiceAccount-{account.name}.yaml").is_file()
                vault_file = (
                    dev_out / "vault" / spec.vault.mount / spec.vault.path_prefix / "tenants"
                ) / f"{tenant.name}/{project.name}/{account.name}.json"
                assert "kubeconfig" in load(vault_file)["data"]
            assert profiles[namespace]["inputs"]["enforcement_mode"] == project.enforcement_mode
    cluster_vault = dev_out / "vault" / spec.vault.mount / spec.vault.path_prefix / "clusters"
    assert (cluster_vault / f"{spec.cluster.name}.json").is_file()
    kyverno = load(dev_out / "helm" / "kyverno.yaml")
    assert (kyverno["chart"], kyverno["version"], kyverno["namespace"]) == (
        "kyverno",
        spec.kyverno.chart_version,
        spec.kyverno.namespace,
    )
    assert isinstance(kyverno["values"], dict)
    kubelink = load(dev_out / "helm" / "illumio.yaml")
    assert (kubelink["chart"], kubelink["version"]) == (
        spec.cluster.kubelink.chart,
        spec.cluster.kubelink.version,
    )


def test_illumio_payloads_show_references_and_the_exact_pce_body(dev_out: Path) -> None:
    illumio = dev_out / "illumio"
    names = {path.name for path in illumio.iterdir()}
    clusters = [load(illumio / n) for n in names if n.startswith("ContainerCluster-")]
    assert [c["inputs"]["name"] for c in clusters] == ["dev-eu1"]
    cluster_ref = f"<ContainerCluster {clusters[0]['name']}.href>"
    profiles = [
        load(illumio / n) for n in sorted(names) if n.startswith("ContainerWorkloadProfile")
    ]
    assert len(profiles) == 4
    for profile in profiles:
        inputs = profile["inputs"]
        assert "__provider" not in inputs
        assert inputs["container_cluster_href"] == cluster_ref
        for href in inputs["assign_labels"].values():
            match = REFERENCE.match(href)
            assert match and match["kind"] == "Label", href
            assert f"Label-{match['name']}.json" in names
        assert profile["pce_body"] == profile_body(normal_inputs(inputs))
        assert {entry["key"] for entry in profile["pce_body"]["labels"]} >= {"app", "env", "loc"}
    (pairing,) = [load(illumio / n) for n in names if n.startswith("PairingProfile-")]
    body = pairing["pce_body"]
    assert body["name"] == "dev-eu1-pairing"
    assert body["enabled"] is True and body["enforcement_mode"] == "visibility_only"
    assert sorted(ref["href"] for ref in body["labels"]) == [
        "<Label label-env-dev.href>",
        "<Label label-loc-eu-west-1.href>",
    ]
    assert any(n.startswith("Label-") for n in names)


def test_vault_data_keeps_its_keys_and_hides_only_the_secret_fields(dev_out: Path) -> None:
    # KV v2 documents only: the Kubernetes secrets engine's backend and roles have no data
    kv = dev_out / "vault" / stacks.load("dev").vault.mount
    documents = [load(path) for path in sorted(kv.rglob("*.json"))]
    assert len(documents) >= 7
    for document in documents:
        data = document["data"]
        assert data, document["name"]
        hidden = {key for key, value in data.items() if value == REDACTED}
        if "/clusters/" in document["name"]:
            assert hidden == set(VAULT_SECRET_FIELDS)
        elif "token_duration" in data:  # expiring tokens: the kubeconfig has none to hide
            assert hidden == set() and data["kubeconfig"]["users"][0]["user"] == {}
        else:
            assert hidden == set() and "[secret]" in json.dumps(data["kubeconfig"]["users"])


def test_integral_numbers_stay_integers() -> None:
    assert normalise({"port": 53.0, "ratio": 0.5, "list": [1.0, True]}) == {
        "port": 53,
        "ratio": 0.5,
        "list": [1, True],
    }


# ------------------------------------------------------------------------- secrets


def planting_hook(args: MockResourceArgs) -> dict[str, Any] | None:
    outputs = placeholder_outputs(args) or {}
    if args.typ.endswith("illumio:ContainerCluster"):
        outputs["container_cluster_token"] = PLANTED_TOKEN
    if args.typ.endswith("illumio:PairingKey"):
        outputs["activation_code"] = PLANTED_CODE
    if args.typ == "kubernetes:core/v1:Secret" and "token" in (outputs.get("data") or {}):
        outputs["data"] = {"token": base64.b64encode(PLANTED_SA_TOKEN.encode()).decode()}
    return outputs


def test_planted_secrets_reach_the_resources_but_no_file(
    tmp_path: Path, platform_program: Callable[[], None], dev_config: dict[str, str]
) -> None:
    recording = run_mocked(
        platform_program,
        outputs_hook=planting_hook,
        config={**dev_config, **PLANTED_CONFIG},
        stack="dev",
    )
    flowed = json.dumps([r.inputs for r in recording.resources])
    assert PLANTED_TOKEN in flowed and PLANTED_CODE in flowed and PLANTED_SA_TOKEN in flowed
    for key in ("vault:token", "kubernetes:kubeconfig"):
        assert json.dumps(PLANTED_CONFIG[key])[1:-1] in flowed, f"{key} reaches a provider"

    result = render_stack(
        "dev",
        out_dir=tmp_path / "out",
        project_dir=REPO,
        program=platform_program,
        config_overrides=PLANTED_CONFIG,
        outputs_hook=planting_hook,
    )
    encodings = set()
    for secret in PLANTED:
        encodings |= {secret, base64.b64encode(secret.encode()).decode(), json.dumps(secret)[1:-1]}
    files = files_under(tmp_path / "out")
    assert len(files) == len(result.files) + 1
    for name, content in files.items():
        for secret in encodings:
            assert secret.encode() not in content, f"{secret!r} leaked into {name}"
    for secret in encodings:
        assert secret not in result.tree


# ---------------------------------------------------------------------- determinism


def test_two_renders_are_byte_identical(
    tmp_path: Path, dev_out: Path, platform_program: Callable[[], None]
) -> None:
    render_stack("dev", out_dir=tmp_path / "again", project_dir=REPO, program=platform_program)
    assert files_under(tmp_path / "again") == files_under(dev_out)


def test_no_network_is_touched(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    cli_program: None,
    capsys: pytest.CaptureFixture,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("127.0.0.1", 9))

    assert cli.main(["render", "dev", "--out", str(tmp_path / "dev")]) == 0, capsys.readouterr()
    assert (tmp_path / "dev" / "helm" / "kyverno.yaml").is_file()


# ------------------------------------------------------------------ output directory


def test_an_unmarked_non_empty_directory_is_refused(
    tmp_path: Path, cli_program: None, capsys: pytest.CaptureFixture
) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("my notes")
    assert cli.main(["render", "dev", "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert "is not empty and was not written by `tenantguard render`" in err
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "my notes"


def test_a_rerender_deletes_only_what_the_last_render_wrote(
    tmp_path: Path, platform_program: Callable[[], None]
) -> None:
    target = tmp_path / "out"
    render_stack("dev", out_dir=target, project_dir=REPO, program=platform_program)
    first = files_under(target)
    stale = target / "kubernetes" / "gone-ns" / "Namespace-gone.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kind: Namespace\n")
    (target / "notes.txt").write_text("keep me")
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    marker = target / MARKER_NAME
    marker.write_text(
        marker.read_text() + "kubernetes/gone-ns/Namespace-gone.yaml\n../outside.txt\n"
    )

    render_stack("dev", out_dir=target, project_dir=REPO, program=platform_program)
    after = files_under(target)
    assert not stale.exists() and not stale.parent.exists()
    assert after.pop("notes.txt") == b"keep me"
    assert after == first
    assert outside.read_text() == "not yours"


def test_a_failed_render_leaves_the_previous_one_untouched(
    tmp_path: Path, platform_program: Callable[[], None], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    target = tmp_path / "out"
    render_stack("dev", out_dir=target, project_dir=REPO, program=platform_program)
    before = files_under(target)

    def broken() -> None:
        raise RuntimeError("the program broke")

    monkeypatch.setattr(render_module, "default_program", lambda stacks_dir=None: broken)
    monkeypatch.chdir(REPO)
    assert cli.main(["render", "dev", "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert "rendering stack 'dev' failed: RuntimeError: the program broke" in err
    assert "Traceback" not in err
    assert files_under(target) == before


def test_an_invalid_spec_renders_nothing(
    tmp_path: Path, cli_program: None, capsys: pytest.CaptureFixture
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: tenantguard\n")
    (project / "Pulumi.qa.yaml").write_text("config:\n  tenantguard:spec: missing-spec\n")
    target = tmp_path / "out"
    code = cli.main(["render", "qa", "--out", str(target), "--project-dir", str(project)])
    assert code == 1
    err = capsys.readouterr().err
    assert "there is no spec for stack 'missing-spec'" in err
    assert not target.exists()


def test_a_bad_spec_lists_every_problem_and_the_loaders_note(
    tmp_path: Path, cli_program: None, capsys: pytest.CaptureFixture
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    text = (REPO / "stacks" / "dev.yaml").read_text()
    assert "  ha: false\n" in text
    (specs / "lab.yaml").write_text(text.replace("  ha: false\n", "  ha: maybe\n"))
    with pytest.raises(stacks.SpecError) as expected:
        stacks.load("lab", directory=specs)
    assert expected.value.note, "a schema error defers the cross-section checks"
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: tenantguard\n")
    target = tmp_path / "out"
    argv = ["render", "lab", "--stacks-dir", str(specs), "--project-dir", str(project)]
    assert cli.main([*argv, "--out", str(target)]) == 1
    err = capsys.readouterr().err
    for problem in expected.value.problems:
        assert str(problem) in err
    assert expected.value.note in err
    assert "Traceback" not in err
    assert not target.exists()


@pytest.mark.parametrize("stack", ["../escape", "a/b", ".hidden", ""])
def test_a_stack_name_cannot_point_outside(
    stack: str, tmp_path: Path, cli_program: None, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["render", stack]) == 1
    assert f"stack name {stack!r} is not allowed" in capsys.readouterr().err
    assert not (REPO / "escape").exists()


def test_stacks_dir_and_offline_defaults_without_a_stack_file(
    tmp_path: Path, cli_program: None, capsys: pytest.CaptureFixture
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(REPO / "stacks" / "dev.yaml", specs / "lab.yaml")
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: tenantguard\n")
    argv = ["render", "lab", "--stacks-dir", str(specs), "--project-dir", str(project)]
    assert cli.main([*argv, "--out", str(tmp_path / "out")]) == 0, capsys.readouterr().err
    namespace = load(tmp_path / "out" / "kubernetes" / "_cluster" / "Namespace-payments-api.yaml")
    assert namespace["metadata"]["name"] == "payments-api"
    assert "lab" in capsys.readouterr().out


def test_python_dash_m_render_is_the_same_in_any_process(tmp_path: Path, dev_out: Path) -> None:
    for seed in ("1", "2"):
        out = tmp_path / f"seed-{seed}"
        result = subprocess.run(
            [sys.executable, "-m", "tenantguard", "render", "dev", "--out", str(out)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == f"Wrote {len(files_under(out)) - 1} files to {out}"
        assert files_under(out) == files_under(dev_out)


# ------------------------------------------------------------------- tree and config


def test_the_cli_prints_the_resource_tree_and_a_summary(
    tmp_path: Path, cli_program: None, dev_recording: Recording, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["render", "dev", "--out", str(tmp_path / "dev")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    depth = {line.strip(): (len(line) - len(line.lstrip())) // 2 for line in lines if line.strip()}
    by_urn = {r.urn: r for r in dev_recording.resources}
    for resource in dev_recording.resources:
        entry = f"{resource.type} {resource.name}"
        assert entry in depth, entry
        parent = by_urn.get(resource.parent)
        expected = 0 if parent is None else depth[f"{parent.type} {parent.name}"] + 1
        assert depth[entry] == expected, entry
    total = len(dev_recording.resources)
    namespaces = len(dev_recording.of_type("kubernetes:core/v1:Namespace"))
    summary = next(line for line in lines if line.startswith(f"{total} resources: "))
    assert f"{namespaces} kubernetes:core/v1:Namespace" in summary
    assert (
        lines[-1]
        == f"Wrote {len(list((tmp_path / 'dev').rglob('*.*'))) - 1} files to {tmp_path / 'dev'}"
    )


def test_resource_tree_nests_children_and_sorts_siblings() -> None:
    def registered(urn: str, type_: str, name: str, parent: str) -> Registered:
        return Registered(urn, type_, name, {}, {}, parent, True, [], {}, [], "", False, False)

    recording = Recording(
        resources=[
            registered("u3", "b:x:Y", "child-b", "u1"),
            registered("u1", "t:index:Group", "group", "stack"),
            registered("u2", "a:x:Y", "child-a", "u1"),
            registered("u4", "a:x:Y", "root-a", "stack"),
        ]
    )
    assert resource_tree(recording) == [
        "a:x:Y root-a",
        "t:index:Group group",
        "  a:x:Y child-a",
        "  b:x:Y child-b",
    ]


def test_config_comes_from_the_stack_file_over_offline_defaults(tmp_path: Path) -> None:
    seen: list[dict[str, str | None]] = []

    def program() -> None:
        seen.append(
            {
                "spec": pulumi.Config("tenantguard").get("spec"),
                "pceUrl": pulumi.Config("illumio").get("pceUrl"),
                "apiSecret": pulumi.Config("illumio").get("apiSecret"),
            }
        )

    (tmp_path / "Pulumi.yaml").write_text("name: tenantguard\n")
    render_stack("dev", out_dir=tmp_path / "a", project_dir=tmp_path, program=program)
    assert seen[-1] == {
        "spec": "dev",
        "pceUrl": OFFLINE_DEFAULTS["illumio:pceUrl"],
        "apiSecret": None,
    }
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  illumio:pceUrl: https://pce.lab.example:8443\n"
        "  illumio:apiSecret:\n    secure: v1:abc\n"
    )
    render_stack("dev", out_dir=tmp_path / "b", project_dir=tmp_path, program=program)
    assert seen[-1] == {"spec": "dev", "pceUrl": "https://pce.lab.example:8443", "apiSecret": None}


@pytest.fixture(autouse=True)
def _no_leftover_config() -> Iterator[None]:
    yield
    pulumi.runtime.set_all_config({})


def test_each_project_gets_a_readable_table_of_its_allowed_flows(dev_out: Path) -> None:
    """`segmentation/<rule set>.md`: what the PCE will allow, named by labels and IP lists
    (not placeholders), one file per project's rule set."""
    tables = sorted((dev_out / "segmentation").glob("*.md"))
    assert [t.stem for t in tables] == sorted(
        f"tenantguard-dev-eu1-{ns}"
        for ns in ("payments-api", "ledger-dev", "analytics-ingest", "analytics-dashboards")
    )
    ledger = (dev_out / "segmentation" / "tenantguard-dev-eu1-ledger-dev.md").read_text()
    assert "| within the project | the project | the project | TCP any, UDP any, ICMP any |" in (
        ledger
    )
    assert "| cluster DNS | the project | IP list tenantguard-dev-eu1-dns | UDP 53, TCP 53 |" in (
        ledger
    )
    assert (
        "| from project payments/api | app=payments-api and env=dev and loc=eu-west-1 "
        "| the project | TCP 5432 | yes |"
    ) in ledger
    assert "<" not in ledger, "every PCE object is named, no placeholder is left"
    api = (dev_out / "segmentation" / "tenantguard-dev-eu1-payments-api.md").read_text()
    assert "from project" not in api, "no other project reaches payments/api by default"
