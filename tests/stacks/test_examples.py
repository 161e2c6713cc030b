"""The shipped stacks, `stacks/dev.yaml` and `stacks/prod.yaml`, load and show what they claim."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.tenancy.models import project_namespace
from stacks import PlatformSpec, available_stacks, load
from stacks.loader import STACKS_DIRECTORY

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def dev() -> PlatformSpec:
    return load("dev")


@pytest.fixture(scope="module")
def prod() -> PlatformSpec:
    return load("prod")


def projects(spec: PlatformSpec) -> list:
    return [project for tenant in spec.tenants for project in tenant.projects]


def test_both_examples_ship_in_the_stacks_package() -> None:
    assert STACKS_DIRECTORY == REPO / "stacks"
    assert {"dev", "prod"} <= set(available_stacks(STACKS_DIRECTORY))


def test_dev(dev: PlatformSpec) -> None:
    assert dev.cluster.name == "dev-eu1"
    assert dev.cluster.api_server == "https://k8s-api.dev.internal.example:6443"
    assert dev.cluster.ca_data is not None
    assert dev.cluster.illumio.labels == {"env": "dev", "loc": "eu-west-1"}
    assert dev.cluster.kubelink.enabled and dev.cluster.kubelink.version
    assert dev.cluster.kubelink.ca_bundle is not None and not dev.cluster.kubelink.ignore_cert
    assert dev.kyverno.failure_action == "Audit"
    assert dev.kyverno.policy_api == "validatingpolicy"
    assert len(dev.kyverno.baseline_policies) >= 2
    assert len(dev.tenants) == 2 and len(projects(dev)) == 4
    assert dev.platform_policy.egress_baseline and dev.platform_policy.image_allowlist
    assert dev.platform_policy.quota_max.hard()
    assert dev.vault.path_prefix == "tenantguard/dev"

    accounts = [account for project in projects(dev) for account in project.service_accounts]
    roles = {account.role for account in accounts}
    assert {"view", "edit", "admin", "custom"} <= roles
    assert any(account.role == "custom" and account.rules for account in accounts)
    assert any(project.namespace for project in projects(dev))
    assert any(project.label_restrictions for project in projects(dev))
    assert any(project.policies for project in projects(dev))
    assert any(tenant.image_allowlist for tenant in dev.tenants)


def test_prod(prod: PlatformSpec) -> None:
    assert prod.cluster.name == "prod-eu1"
    assert prod.cluster.illumio.enforcement_mode == "full"
    assert prod.cluster.illumio.labels["env"] == "prod"
    assert prod.kyverno.failure_action == "Enforce"
    assert prod.kyverno.ha is True
    assert prod.cluster.kubelink.enabled and prod.cluster.kubelink.version
    assert {project.enforcement_mode for project in projects(prod)} == {"full"}
    assert prod.platform_policy.default_psa_level == "restricted"
    assert prod.platform_policy.allow_cluster_admin is False
    assert prod.vault.path_prefix == "tenantguard/prod"


def test_dev_and_prod_do_not_share_a_cluster_or_vault_path(
    dev: PlatformSpec, prod: PlatformSpec
) -> None:
    assert dev.cluster.name != prod.cluster.name
    assert dev.cluster.api_server != prod.cluster.api_server
    assert dev.cluster.ca_data != prod.cluster.ca_data
    assert dev.vault.path_prefix != prod.vault.path_prefix


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_project_has_its_own_namespace(stack: str) -> None:
    spec = load(stack)
    namespaces = [
        project_namespace(tenant, project) for tenant in spec.tenants for project in tenant.projects
    ]
    assert len(namespaces) == len(set(namespaces))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_examples_use_internal_example_hosts_only(stack: str) -> None:
    spec = load(stack)
    assert spec.cluster.api_server.startswith("https://k8s-api.")
    assert ".internal.example:" in spec.cluster.api_server
    for registry in spec.platform_policy.image_allowlist:
        assert registry.startswith(
            ("registry.internal.example", "ghcr.io/example-org", "docker.io")
        )


def test_pulumi_stack_configs_name_a_loadable_spec() -> None:
    named: list[str] = []
    for config in sorted(REPO.glob("Pulumi.*.yaml")):
        values = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("config", {})
        stack = values.get("tenantguard:spec")
        if stack is not None:
            named.append(stack)
            assert isinstance(load(stack), PlatformSpec), config.name
    assert "dev" in named
