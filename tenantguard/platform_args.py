"""How a stack spec becomes `components.PlatformArgs`, and every problem that stops it,
found before any resource registers.

No resources are registered here: the program calls `platform_args` and hands the result to
`components.Platform`, so the components never import the spec; tests check the mapping
without a Pulumi runtime. Where the spec and a component word the same
setting differently (`cluster.kubelink.values` vs `KubelinkSettings.extra_values`, and the
Kubelink `enabled` default), the mapping is written out field by field.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import SecretStr, ValidationError
from pydantic.alias_generators import to_camel

from components.illumio.kubelink_values import ILLUMIO_NAMESPACE, KubelinkSettings, pce_host_port
from components.illumio.onboarding import ClusterOnboardingArgs, PairingSettings
from components.kyverno.release import KyvernoArgs, kyverno_problems
from components.platform import PlatformArgs, PlatformValidationError, project_key
from components.policies import validate_parameters
from components.targets import ClusterEndpoint, SecretInput, StrInput, VaultTarget
from components.tenancy.validation import Problem
from stacks.section_rules import section_problems
from stacks.spec import KubelinkSpec, PlatformSpec

PCE_URL_KEY = "illumio:pceUrl"
"""Where the PCE URL comes from, named in problems (the Pulumi config key)."""


def kubelink_settings(spec: KubelinkSpec) -> KubelinkSettings:
    """The ClusterOnboarding chart settings for the spec's `cluster.kubelink`, field by field.

    The spec defaults `enabled` to True (a stack onboards its cluster unless told not to)
    while `KubelinkSettings` defaults it to False (a program reusing the component opts in);
    the value is always passed, so neither default leaks into the other. The spec's `values`
    are the component's `extra_values`.
    """
    return KubelinkSettings(
        enabled=spec.enabled,
        chart=spec.chart,
        version=spec.version,
        container_runtime=spec.container_runtime,
        container_manager=spec.container_manager,
        network_type=spec.network_type,
        cluster_mode=spec.cluster_mode,
        ignore_cert=spec.ignore_cert,
        ca_bundle=spec.ca_bundle,
        extra_values=dict(spec.values),
    )


def webhook_excluded_namespaces(spec: PlatformSpec) -> list[str]:
    """Namespaces Kyverno's webhooks skip: the spec's, plus illumio-system with Kubelink on.

    The C-VEN DaemonSet is privileged on the host network by design; a baseline policy
    such as disallow-privileged-containers would otherwise refuse it.
    """
    excluded = list(spec.kyverno.webhook_excluded_namespaces)
    if spec.cluster.kubelink.enabled and ILLUMIO_NAMESPACE not in excluded:
        excluded.append(ILLUMIO_NAMESPACE)
    return excluded


def kyverno_args(spec: PlatformSpec) -> KyvernoArgs:
    """The Kyverno component's arguments for the spec's `kyverno` section."""
    section = spec.kyverno
    return KyvernoArgs(
        namespace=section.namespace,
        chart_version=section.chart_version,
        high_availability=section.ha,
        excluded_namespaces=webhook_excluded_namespaces(spec),
        policies=list(section.baseline_policies),
        policy_api=section.policy_api,
        failure_action=section.failure_action,
        values=dict(section.values),
    )


def onboarding_args(
    spec: PlatformSpec,
    *,
    pce_url: str,
    existing_token: SecretStr | StrInput | None = None,
    pairing_labels: Mapping[str, StrInput] | None = None,
) -> ClusterOnboardingArgs:
    """ClusterOnboarding's arguments: the spec's cluster, its pairing profile and Kubelink,
    and credentials in Vault at `<mount>/<pathPrefix>/clusters/<cluster>`.

    `pairing_labels` (key -> label href) are assigned to the cluster's nodes as they pair.
    """
    cluster = spec.cluster
    return ClusterOnboardingArgs(
        cluster_name=cluster.name,
        description=cluster.description,
        existing_token=existing_token,
        pce_url=pce_url,
        namespace=ILLUMIO_NAMESPACE,
        pairing=PairingSettings(
            name=cluster.pairing_profile_name,
            enabled=cluster.illumio.pairing_profile.enabled,
            enforcement_mode=cluster.illumio.enforcement_mode,
            visibility_level=cluster.illumio.visibility_level,
            assign_labels=dict(pairing_labels) if pairing_labels else None,
        ),
        vault=vault_target(spec),
        kubelink=kubelink_settings(cluster.kubelink),
    )


def vault_target(spec: PlatformSpec) -> VaultTarget:
    """The KV v2 mount and prefix every secret of the stack goes under."""
    return VaultTarget(mount=spec.vault.mount, path_prefix=spec.vault.path_prefix)


def cluster_endpoint(spec: PlatformSpec) -> ClusterEndpoint:
    """What the projects' kubeconfigs point at: the API server and its CA, named after the
    cluster (the spec requires caData as soon as any project has a service account)."""
    return ClusterEndpoint(
        server=spec.cluster.api_server,
        certificate_authority=spec.cluster.ca_data,
        name=spec.cluster.name,
    )


def _field_path(model_field: str, prefix: str, renamed: Mapping[str, str]) -> str:
    return renamed.get(model_field) or f"{prefix}.{to_camel(model_field)}"


def _model_problems(
    exc: ValidationError, prefix: str, renamed: Mapping[str, str] | None = None
) -> list[Problem]:
    """A component model's validation errors at their spec paths."""
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        path = _field_path(loc[0], prefix, renamed or {}) if loc else prefix
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        problems.append(Problem(".".join([path, *loc[1:]]), message))
    return problems


def platform_problems(spec: PlatformSpec, *, pce_url: str) -> list[Problem]:
    """Every problem with the spec and the connection values, in one list.

    The spec's own rules (`stacks.section_problems`, which include the tenancy rules across
    ALL tenants) come first; once they pass, the component argument models are built too,
    so a rule only a component knows still fails here, before anything registers.
    """
    problems = list(section_problems(spec, check_policy=validate_parameters))
    try:
        pce_host_port(pce_url)
    except ValueError as exc:
        problems.append(Problem(PCE_URL_KEY, str(exc)))
    if problems:
        return problems
    try:
        kubelink_settings(spec.cluster.kubelink)
    except ValidationError as exc:
        problems += _model_problems(
            exc, "cluster.kubelink", {"extra_values": "cluster.kubelink.values"}
        )
    problems += kyverno_problems(kyverno_args(spec))
    return problems


def platform_args(
    spec: PlatformSpec,
    *,
    pce_url: str,
    kubeconfig: SecretInput | None = None,
    kube_context: str | None = None,
    vault_address: str | None = None,
    vault_token: SecretInput | None = None,
    vault_skip_child_token: bool | None = None,
    existing_cluster_token: SecretInput | None = None,
    psa_version: str = "latest",
) -> PlatformArgs:
    """The Platform's arguments for a validated spec and its connection values.

    Raises PlatformValidationError naming every problem at its spec path (or Pulumi config
    key) before anything is built, so nothing registers from a spec that cannot work.
    """
    problems = platform_problems(spec, pce_url=pce_url)
    if problems:
        raise PlatformValidationError(problems)
    return PlatformArgs(
        onboarding=onboarding_args(spec, pce_url=pce_url, existing_token=existing_cluster_token),
        kyverno=kyverno_args(spec) if spec.kyverno.enabled else None,
        tenants=list(spec.tenants),
        platform=spec.platform_policy,
        cluster=cluster_endpoint(spec),
        vault=vault_target(spec),
        platform_labels=dict(spec.cluster.illumio.labels),
        policy_api=spec.kyverno.policy_api,
        failure_action=spec.kyverno.failure_action,
        kubeconfig=kubeconfig,
        kube_context=kube_context,
        vault_address=vault_address,
        vault_token=vault_token,
        vault_skip_child_token=vault_skip_child_token,
        psa_version=psa_version,
        kubernetes_mount=spec.vault.kubernetes_mount,
    )


__all__ = [
    "PCE_URL_KEY",
    "PlatformValidationError",
    "cluster_endpoint",
    "kubelink_settings",
    "kyverno_args",
    "onboarding_args",
    "platform_args",
    "platform_problems",
    "project_key",
    "vault_target",
    "webhook_excluded_namespaces",
]
