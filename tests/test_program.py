"""The whole program (`__main__.py` and `tenantguard.program.main`) under mocks, for the
shipped dev and prod stacks: exports, resource counts that follow the spec, and the
readable errors a user gets for a bad spec or missing config."""

from __future__ import annotations

import runpy
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from components.segmentation.intent import identity_labels
from components.tenancy.durations import ttl_seconds
from components.tenancy.models import project_namespace
from stacks import PlatformSpec, load
from tenantguard import program
from tests.components.mocked import (
    CLUSTER_HREF,
    CLUSTER_TOKEN,
    CLUSTER_TYPE,
    CLUSTER_UUID,
    K8S_PROVIDER_TYPE,
    LABEL_TYPE,
    NAMESPACE_TYPE,
    PROFILE_TYPE,
    RELEASE_TYPE,
    VAULT_PROVIDER_TYPE,
    VAULT_TYPE,
    failure_actions,
    run,
)
from tests.pulumi_mocks import Recording

REPO = Path(__file__).resolve().parents[1]
MAIN = REPO / "__main__.py"
DEV_CONFIG: dict[str, str] = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]
CONFIG: dict[str, str] = {
    "illumio:pceUrl": "https://pce.internal.example:8443",
    "kubernetes:context": "prod-eu1",
    "vault:address": "https://vault.internal.example:8200",
    "vault:token": "hvs.prod-token-4e2a",
}
EXPORTS = {
    "cluster_href",
    "cluster_id",
    "cluster_token",
    "kyverno_version",
    "kyverno_app_version",
    "project_namespaces",
    "project_profiles",
    "project_kubeconfigs",
}


def via_main_py() -> None:
    runpy.run_path(str(MAIN))


RUNNERS: dict[str, Callable[[], Any]] = {"__main__.py": via_main_py, "main()": program.main}


@pytest.fixture(scope="module")
def dev() -> Recording:
    return run(via_main_py, stack="dev", config=DEV_CONFIG)


@pytest.fixture(scope="module")
def prod() -> Recording:
    return run(program.main, stack="prod", config=CONFIG)


def expected_labels(spec: PlatformSpec) -> set[tuple[str, str]]:
    """Every distinct Illumio key=value the spec uses: platform, tenant, each project's own
    identity (`app: <tenant app>-<project>`) and restriction labels."""
    labels = set(spec.cluster.illumio.labels.items())
    for tenant in spec.tenants:
        labels |= set(tenant.illumio_labels().items()) - {("app", tenant.illumio_labels()["app"])}
        for project in tenant.projects:
            labels |= set(identity_labels(tenant, project, spec.cluster.illumio.labels).items())
            for key, values in project.label_restrictions.items():
                labels |= {(key, value) for value in values}
    return labels


def assert_follows_the_spec(recording: Recording, spec: PlatformSpec) -> None:
    projects = [(t, p) for t in spec.tenants for p in t.projects]
    accounts = sum(len(p.service_accounts) for _, p in projects)
    counts = Counter(recording.types())
    timed = [(t, p, a) for t, p in projects for a in p.service_accounts if a.token_duration]
    assert timed, "the shipped stacks have service accounts whose tokens expire"
    # + kyverno + illumio-system + tenantguard-system (the token issuer's)
    assert counts[NAMESPACE_TYPE] == len(projects) + 3
    assert counts["vault:kubernetes/secretBackend:SecretBackend"] == 1
    roles = recording.of_type("vault:kubernetes/secretBackendRole:SecretBackendRole")
    assert sorted((r.inputs["name"], r.inputs["tokenMaxTtl"]) for r in roles) == sorted(
        (f"{project_namespace(t, p)}.{a.name}", ttl_seconds(a.token_duration)) for t, p, a in timed
    )
    token_secrets = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"])
        for r in recording.of_type("kubernetes:core/v1:Secret")
        if r.inputs.get("type") == "kubernetes.io/service-account-token"
    }
    assert token_secrets == {("tenantguard-system", "tenantguard-token-issuer-token")} | {
        (project_namespace(t, p), f"{a.name}-token")
        for t, p in projects
        for a in p.service_accounts
        if not a.token_duration
    }
    assert counts[PROFILE_TYPE] == len(projects)
    labels = [(r.inputs["key"], r.inputs["value"]) for r in recording.of_type(LABEL_TYPE)]
    assert len(labels) == len(set(labels)) == len(expected_labels(spec))
    assert set(labels) == expected_labels(spec)
    assert counts[VAULT_TYPE] == 1 + accounts  # the cluster's credentials + one per account
    assert counts[RELEASE_TYPE] == 2  # Kyverno and Kubelink
    assert counts[K8S_PROVIDER_TYPE] == counts[VAULT_PROVIDER_TYPE] == 1
    namespaces = {r.inputs["metadata"]["name"] for r in recording.of_type(NAMESPACE_TYPE)}
    assert (
        set(spec.namespaces()) | {"kyverno", "illumio-system", "tenantguard-system"} == namespaces
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_exports_names_values_and_secrets(stack: str, request: pytest.FixtureRequest) -> None:
    recording: Recording = request.getfixturevalue(stack)
    spec = load(stack)
    exports = recording.exports
    assert set(exports) == EXPORTS
    assert recording.secret_exports == {"cluster_token", "project_kubeconfigs"}
    assert (exports["cluster_href"], exports["cluster_id"]) == (CLUSTER_HREF, CLUSTER_UUID)
    assert exports["cluster_token"] == CLUSTER_TOKEN
    assert exports["kyverno_version"] == spec.kyverno.chart_version
    assert exports["kyverno_app_version"]
    keys = {f"{t.name}/{p.name}" for t in spec.tenants for p in t.projects}
    assert set(exports["project_namespaces"]) == set(exports["project_profiles"]) == keys
    assert set(exports["project_namespaces"].values()) == set(spec.namespaces())
    for key, profile in exports["project_profiles"].items():
        namespace = exports["project_namespaces"][key]
        assert profile == f"{CLUSTER_HREF}/container_workload_profiles/{namespace}"
    for tenant in spec.tenants:
        for project in tenant.projects:
            kubeconfigs = exports["project_kubeconfigs"][f"{tenant.name}/{project.name}"]
            assert set(kubeconfigs) == {a.name for a in project.service_accounts}
            for text in kubeconfigs.values():
                assert yaml.safe_load(text)["clusters"][0]["cluster"]["server"] == (
                    spec.cluster.api_server
                )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_resources_follow_the_spec(stack: str, request: pytest.FixtureRequest) -> None:
    assert_follows_the_spec(request.getfixturevalue(stack), load(stack))


def test_dev_reads_exactly_its_stack_config(dev: Recording) -> None:
    provider = dev.of_type(K8S_PROVIDER_TYPE)[0].inputs
    assert provider["context"] == DEV_CONFIG["kubernetes:context"]
    vault = dev.of_type(VAULT_PROVIDER_TYPE)[0].inputs
    assert vault["address"] == DEV_CONFIG["vault:address"]
    assert vault["skipChildToken"] == "true"
    kubelink = dev.named("platform-onboarding-kubelink", RELEASE_TYPE)
    assert "values" in kubelink.additional_secret_outputs
    assert (
        dev.named("platform-kyverno-release").inputs["values"]["admissionController"]["replicas"]
        == 1
    )
    assert failure_actions(dev) == {"Audit"}


def test_dev_stack_config_holds_no_plaintext_secret() -> None:
    secret_keys = {"illumio:apiSecret", "vault:token", "kubernetes:kubeconfig"}
    assert not secret_keys & set(DEV_CONFIG)
    assert not any("existingClusterToken" in key for key in DEV_CONFIG)


def test_prod_runs_ha_kyverno_and_enforces(prod: Recording) -> None:
    values = prod.named("platform-kyverno-release").inputs["values"]
    assert values["admissionController"]["replicas"] == 3
    assert values["admissionController"]["podDisruptionBudget"]["enabled"] is True
    assert failure_actions(prod) == {"Deny"}
    profiles = prod.of_type(PROFILE_TYPE)
    assert {p.inputs["enforcement_mode"] for p in profiles} == {"full"}


@pytest.mark.parametrize("runner", RUNNERS)
def test_both_entry_points_build_the_same_platform(runner: str) -> None:
    recording = run(RUNNERS[runner], stack="qa", config={**CONFIG, "tenantguard:spec": "prod"})
    assert set(recording.exports) == EXPORTS
    assert_follows_the_spec(recording, load("prod"))


# --- what a user sees when something is wrong ---------------------------------------------


def failing(runner: Callable[[], Any], **kwargs: Any) -> pulumi.RunError:
    """Run the program expecting a RunError (Pulumi prints it without a traceback)."""
    caught: list[pulumi.RunError] = []

    def guarded() -> None:
        try:
            runner()
        except pulumi.RunError as exc:
            caught.append(exc)

    recording = run(guarded, **kwargs)
    assert caught, "the program ran"
    assert recording.resources == [], [r.name for r in recording.resources]
    return caught[0]


@pytest.mark.parametrize("runner", RUNNERS)
def test_an_unknown_spec_names_the_stacks_there_are(runner: str) -> None:
    error = failing(RUNNERS[runner], stack="staging", config=CONFIG)
    assert str(error).startswith("1 problem in the stack spec; nothing was changed:")
    assert "there is no spec for stack 'staging'" in str(error)
    assert "dev, prod" in str(error)
    assert "Traceback" not in str(error)


def failing_spec(directory: Path, text: str) -> pulumi.RunError:
    """Run the program on spec `text` (as `<directory>/broken.yaml`), expecting a RunError."""
    (directory / "broken.yaml").write_text(text)
    return failing(
        lambda: program.main(spec_directory=directory),
        stack="dev",
        config={**CONFIG, "tenantguard:spec": "broken"},
    )


def test_a_bad_spec_surfaces_every_problem_with_file_and_line(tmp_path: Path) -> None:
    text = (REPO / "stacks" / "dev.yaml").read_text()
    text = text.replace(
        "enforcementMode: visibility_only\n        visibilityLevel",
        ("enforcementMode: idle\n        visibilityLevel"),
        1,
    )
    text = text.replace("  ha: false\n", "  ha: maybe\n")
    message = str(failing_spec(tmp_path, text))
    assert message.startswith("1 problem in the stack spec")
    assert f"{tmp_path / 'broken.yaml'}:" in message
    assert "kyverno.ha" in message and "allowed: true or false" in message
    # once the schema passes, the rules across sections report too
    error = failing_spec(tmp_path, text.replace("  ha: maybe\n", "  ha: false\n"))
    assert "tenants[0].projects[1].enforcementMode" in str(error)
    assert "cannot be 'idle'" in str(error)


@pytest.mark.parametrize("runner", RUNNERS)
def test_missing_pce_url_names_the_key_and_the_command(runner: str) -> None:
    config = {key: value for key, value in DEV_CONFIG.items() if key != "illumio:pceUrl"}
    error = failing(RUNNERS[runner], stack="dev", config=config)
    assert isinstance(error, program.MissingConfigError)
    assert error.keys == ["illumio:pceUrl"]
    assert "Missing required configuration for stack 'dev'" in str(error)
    assert "pulumi config set illumio:pceUrl https://pce.example.com:8443" in str(error)


def test_every_missing_setting_is_listed_at_once() -> None:
    error = failing(program.main, stack="dev", config={})
    assert isinstance(error, program.MissingConfigError)
    assert error.keys == [
        "illumio:pceUrl",
        "kubernetes:kubeconfig",
        "kubernetes:context",
        "vault:address",
    ]
    assert "pulumi config set --secret kubernetes:kubeconfig" in str(error)
    assert "pulumi config set kubernetes:context" in str(error)


def test_a_pce_url_that_cannot_work_is_refused_with_its_key() -> None:
    error = failing(program.main, stack="dev", config={**CONFIG, "illumio:pceUrl": "pce:8443"})
    assert "1 problem in the platform spec; nothing was registered" in str(error)
    assert "illumio:pceUrl: pce_url must be an https:// or http:// URL" in str(error)


def test_kubeconfig_and_existing_token_from_config_stay_secret() -> None:
    kubeconfig = "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
    config = {
        **CONFIG,
        "kubernetes:kubeconfig": kubeconfig,
        "tenantguard:existingClusterToken": "1_adopted-cluster-token",
    }
    recording = run(program.main, stack="prod", config=config)
    provider = recording.of_type(K8S_PROVIDER_TYPE)[0].inputs
    assert rpc.is_rpc_secret(provider["kubeconfig"])
    assert rpc.unwrap_rpc_secret(provider["kubeconfig"]) == kubeconfig
    cluster = recording.of_type(CLUSTER_TYPE)[0].inputs
    assert rpc.is_rpc_secret(cluster["existing_token"])
    assert rpc.unwrap_rpc_secret(cluster["existing_token"]) == "1_adopted-cluster-token"
