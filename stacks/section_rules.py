"""The spec rules that span sections (cluster, Kyverno, tenants), run after each section
parsed on its own; each problem names its spec path."""

from __future__ import annotations

from pydantic.alias_generators import to_camel

from components.formats import (
    CA_DATA_RULE,
    PINNED_VERSION_RULE,
)
from components.illumio.kubelink_values import (
    RESERVED_VALUES,
    reserved_value_source,
)
from components.tenancy.token_manifests import platform_mount_problems
from components.tenancy.validation import (
    RESERVED_NAMESPACES,
    PolicyChecker,
    Problem,
    policy_problems,
    validate_tenants,
)
from stacks.spec import PlatformSpec


def _baseline_policy_problems(
    spec: PlatformSpec, check_policy: PolicyChecker | None
) -> list[Problem]:
    return policy_problems(
        spec.kyverno.baseline_policies,
        spec.platform_policy,
        path="kyverno.baselinePolicies",
        subject=lambda name: f"baseline policy {name!r}",
        check_policy=check_policy,
    )


def _kubelink_setting_path(field: str) -> str:
    return f"cluster.kubelink.{to_camel(field)}"


def _cluster_problems(spec: PlatformSpec) -> list[Problem]:
    problems: list[Problem] = []
    kubelink = spec.cluster.kubelink
    if kubelink.enabled and kubelink.version is None:
        problems.append(
            Problem(
                "cluster.kubelink.version",
                "required when kubelink is enabled, so a later `pulumi up` never upgrades "
                f"Kubelink silently; allowed: {PINNED_VERSION_RULE}, or enabled: false",
            )
        )
    if kubelink.ca_bundle is not None and kubelink.ignore_cert:
        problems.append(
            Problem(
                "cluster.kubelink.caBundle",
                "caBundle and ignoreCert: true exclude each other; allowed: either caBundle "
                "(trust the PCE's private CA) or ignoreCert: true (skip certificate checks)",
            )
        )
    for key in kubelink.values:
        source = reserved_value_source(key, _kubelink_setting_path)
        if source is not None:
            problems.append(
                Problem(
                    f"cluster.kubelink.values.{key}",
                    f"chart value {key!r} is set by tenantguard from {source}; allowed: any "
                    f"chart value except {', '.join(RESERVED_VALUES)}",
                )
            )
    accounts = [
        (tenant.name, project.name)
        for tenant in spec.tenants
        for project in tenant.projects
        if project.service_accounts
    ]
    if spec.cluster.ca_data is None and accounts:
        tenant, project = accounts[0]
        problems.append(
            Problem(
                "cluster.caData",
                f"required when projects have service accounts (tenant {tenant!r}, project "
                f"{project!r} has): their kubeconfigs carry the cluster's CA; allowed: "
                f"{CA_DATA_RULE}",
            )
        )
    return problems


def _kyverno_problems(spec: PlatformSpec) -> list[Problem]:
    problems: list[Problem] = []
    owners = spec.namespaces()
    for i, namespace in enumerate(spec.kyverno.webhook_excluded_namespaces):
        if namespace in owners:
            tenant, project = owners[namespace]
            problems.append(
                Problem(
                    f"kyverno.webhookExcludedNamespaces[{i}]",
                    f"namespace {namespace!r} belongs to tenant {tenant!r}, project "
                    f"{project!r}: excluding it would switch off its policies; allowed: "
                    "namespaces that are not tenant projects",
                )
            )
    return problems


def _vault_problems(spec: PlatformSpec) -> list[Problem]:
    """The Kubernetes secrets engine's mount (needed once an account has a tokenDuration)."""
    mount = spec.vault.kubernetes_mount
    problems = platform_mount_problems(
        spec.tenants, spec.cluster.name, mount, "vault.kubernetesMount"
    )
    if mount is not None and mount == spec.vault.mount:
        problems.append(
            Problem(
                "vault.kubernetesMount",
                f"{mount!r} is the KV v2 mount (vault.mount); allowed: a mount of its own, "
                f"such as kubernetes-{spec.cluster.name}",
            )
        )
    return problems


def section_problems(spec: PlatformSpec, *, check_policy: PolicyChecker | None) -> list[Problem]:
    """Every problem that spans sections, in spec order; empty when the spec is coherent.

    `check_policy` validates a library policy name and parameters (normally
    `components.policies.validate_parameters`); it is applied to the tenants' project
    policies and to the Kyverno baseline policies.
    """
    problems = _cluster_problems(spec)
    problems += _baseline_policy_problems(spec, check_policy)
    problems += _kyverno_problems(spec)
    problems += _vault_problems(spec)
    problems += validate_tenants(
        spec.tenants,
        spec.platform_policy,
        path="tenants",
        platform_labels=spec.cluster.illumio.labels,
        platform_labels_path="cluster.illumio.labels",
        check_policy=check_policy,
        reserved_namespaces=RESERVED_NAMESPACES | {spec.kyverno.namespace},
        illumio_profiles=True,
        baseline_policies=spec.kyverno.baseline_policies if spec.kyverno.enabled else (),
    )
    return problems
