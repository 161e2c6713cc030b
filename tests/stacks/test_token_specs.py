"""Expiring tokens in a stack spec: the loader reports each duration and mount refusal with
file, line and field path, and the shipped stacks respect the default ceiling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from components.tenancy.durations import DEFAULT_MAX_TOKEN_DURATION, duration_seconds
from stacks import load, load_file
from tests.stacks.conftest import VALID_SPEC, edit, line_of

ACCOUNT = "          - name: deployer\n            role: edit\n"


def timed(duration: str, spec: str = VALID_SPEC) -> str:
    return edit(spec, ACCOUNT, ACCOUNT + f"            tokenDuration: {duration}\n")


@pytest.mark.parametrize("duration", ["10m", "24h", "168h", "8760h"])
def test_the_seed_durations_load(write_spec: Callable[..., Path], duration: str) -> None:
    spec = load_file(write_spec(timed(duration)))
    account = spec.tenants[0].projects[0].service_accounts[0]
    assert account.token_duration == duration
    assert spec.platform_policy.max_token_duration == DEFAULT_MAX_TOKEN_DURATION
    assert spec.vault.kubernetes_mount is None


@pytest.mark.parametrize(
    ("duration", "reason"),
    [
        ("87600h", "is above the platform ceiling 8760h"),
        ("5m", "is below Kubernetes' 10-minute minimum for TokenRequest"),
    ],
)
def test_a_duration_outside_the_bounds_is_refused_at_its_line(
    spec_problems, duration: str, reason: str
) -> None:
    text = timed(duration)
    (problem,) = spec_problems(text)
    assert problem.path == "tenants[0].projects[0].serviceAccounts[0].tokenDuration"
    assert problem.line == line_of(text, "tokenDuration:")
    assert problem.file.endswith("test.yaml")
    assert reason in problem.message
    assert problem.message.endswith("allowed: 10m to 8760h (platformPolicy.maxTokenDuration)")
    assert "tenant 'alpha', project 'web', service account 'deployer'" in problem.message


def test_a_lower_platform_ceiling_is_applied(spec_problems) -> None:
    text = edit(
        timed("168h"),
        "  allowClusterAdmin: false\n",
        "  allowClusterAdmin: false\n  maxTokenDuration: 24h\n",
    )
    (problem,) = spec_problems(text)
    assert problem.line == line_of(text, "tokenDuration:")
    assert "above the platform ceiling 24h; allowed: 10m to 24h" in problem.message


def test_a_ceiling_below_the_minimum_is_refused_at_its_line(spec_problems) -> None:
    text = edit(
        VALID_SPEC,
        "  allowClusterAdmin: false\n",
        "  allowClusterAdmin: false\n  maxTokenDuration: 5m\n",
    )
    (problem,) = spec_problems(text)
    assert (problem.path, problem.line) == (
        "platformPolicy.maxTokenDuration",
        line_of(text, "maxTokenDuration:"),
    )
    assert "at least 10m" in problem.message


def test_a_kubernetes_mount_equal_to_the_kv_mount_is_refused(spec_problems) -> None:
    text = edit(
        timed("24h"),
        "  pathPrefix: tenantguard/test\n",
        "  pathPrefix: tenantguard/test\n  kubernetesMount: secret\n",
    )
    (problem,) = spec_problems(text)
    assert problem.path == "vault.kubernetesMount"
    assert problem.line == line_of(text, "kubernetesMount:")
    assert "is the KV v2 mount" in problem.message


def test_a_cluster_name_that_makes_no_mount_needs_an_explicit_mount(
    spec_problems, write_spec: Callable[..., Path]
) -> None:
    text = edit(timed("24h"), "  name: test-cluster\n", "  name: test cluster\n")
    (problem,) = spec_problems(text)
    assert problem.path == "vault.kubernetesMount"
    assert "from cluster name 'test cluster'" in problem.message
    fixed = edit(
        text,
        "  pathPrefix: tenantguard/test\n",
        "  pathPrefix: tenantguard/test\n  kubernetesMount: kubernetes-test\n",
    )
    assert load_file(write_spec(fixed)).vault.kubernetes_mount == "kubernetes-test"
    # without a timed account no engine is mounted, so the name needs no mount
    load_file(write_spec(edit(VALID_SPEC, "  name: test-cluster\n", "  name: test cluster\n")))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_shipped_stacks_respect_the_default_ceiling(stack: str) -> None:
    spec = load(stack)
    assert spec.platform_policy.max_token_duration == DEFAULT_MAX_TOKEN_DURATION
    durations = [
        account.token_duration
        for tenant in spec.tenants
        for project in tenant.projects
        for account in project.service_accounts
        if account.token_duration
    ]
    assert durations
    ceiling = duration_seconds(DEFAULT_MAX_TOKEN_DURATION)
    assert all(600 <= duration_seconds(d) <= ceiling for d in durations)
