"""Rules that span tenants, projects and the platform policy, checked before anything registers.

Each problem carries a spec path (`tenants[1].projects[0].quota.requests.cpu`) and a
message that names the tenant and project and says what is allowed, so the same
checks serve the components (raised as one error) and the stack loader (which adds
the file name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from components.formats import check_cidr
from components.segmentation.rules import segmentation_problems
from components.tenancy.app_rules import app_problems, host_problems
from components.tenancy.models import (
    PlatformPolicy,
    PolicyRef,
    TenantSpec,
    project_namespace,
)
from components.tenancy.problems import Problem, TenancyValidationError, registry_allowed
from components.tenancy.project_rules import (
    container_default_problems,
    quota_problems,
    service_account_problems,
)

RESERVED_NAMESPACES: frozenset[str] = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "illumio-system",
        "kyverno",
        "tenantguard-system",  # the token issuer's (components.tenancy.token_issuer)
    }
)
REGISTRY_PARAMETER_POLICIES: frozenset[str] = frozenset({"restrict-image-registries"})

PolicyChecker = Callable[[str, Mapping[str, object]], None]
"""Validates a policy name and its parameters; raises ValueError with a readable reason."""


def validate_platform_policy(
    platform: PlatformPolicy, path: str = "platformPolicy"
) -> list[Problem]:
    """Problems with the platform policy on its own."""
    problems: list[Problem] = []
    for i, cidr in enumerate(platform.egress_baseline):
        reason = check_cidr(cidr)
        if reason:
            problems.append(Problem(f"{path}.egressBaseline[{i}]", reason))
    problems += _registry_list_problems(platform.image_allowlist, f"{path}.imageAllowlist", "")
    return problems


def _registry_list_problems(registries: Sequence[str], path: str, where: str) -> list[Problem]:
    """Entries that the image policy could not enforce, checked by the policy library's own rule."""
    from components.policies.images import check_registry_prefix

    problems: list[Problem] = []
    for i, registry in enumerate(registries):
        try:
            check_registry_prefix(registry)
        except ValueError as exc:
            problems.append(Problem(f"{path}[{i}]", f"{where}{exc}"))
    return problems


def policy_problems(
    refs: Sequence[PolicyRef],
    platform: PlatformPolicy,
    *,
    path: str,
    subject: Callable[[str], str],
    check_policy: PolicyChecker | None,
) -> list[Problem]:
    """Problems with a list of library policies (a project's, or Kyverno's baseline).

    Each policy must be listed once (twice would register one resource twice), pass
    `check_policy`, and keep any registries within the platform allowlist. `subject(name)`
    words the owner for messages, such as "tenant 'a', project 'b', policy 'x'".
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    for k, ref in enumerate(refs):
        at = f"{path}[{k}]"
        if ref.name in seen:
            problems.append(
                Problem(f"{at}.name", f"{subject(ref.name)} is listed twice; allowed: once")
            )
            continue
        seen.add(ref.name)
        if check_policy is not None:
            try:
                check_policy(ref.name, ref.parameters)
            except ValueError as exc:
                problems.append(Problem(at, f"{subject(ref.name)}: {exc}"))
                continue
        if ref.name in REGISTRY_PARAMETER_POLICIES and platform.image_allowlist:
            for r, registry in enumerate(ref.parameters.get("registries") or []):
                if not registry_allowed(str(registry), platform.image_allowlist):
                    problems.append(
                        Problem(
                            f"{at}.parameters.registries[{r}]",
                            f"{subject(ref.name)}: registry {registry!r} is outside the "
                            f"platform allowlist; allowed: {', '.join(platform.image_allowlist)}",
                        )
                    )
    return problems


def _platform_label_problems(
    tenant: TenantSpec, platform_labels: Mapping[str, str], t_path: str, labels_path: str
) -> list[Problem]:
    """A tenant label on a key the platform already assigns to every profile.

    The platform's value wins on every profile, so a different value is a contradiction
    and an equal one is noise that turns into one when the platform label changes.
    """
    problems: list[Problem] = []
    for key, value in tenant.labels.items():
        if key not in platform_labels:
            continue
        theirs = platform_labels[key]
        clash = (
            f"conflicts with the platform label {key}={theirs}"
            if theirs != value
            else "repeats the platform label"
        )
        problems.append(
            Problem(
                f"{t_path}.labels.{key}",
                f"tenant {tenant.name!r}: label {key}={value} {clash}; label key {key!r} is "
                f"already assigned to every profile by {labels_path}; allowed: keys other "
                f"than {', '.join(platform_labels)}",
            )
        )
    return problems


def validate_tenants(
    tenants: Sequence[TenantSpec],
    platform: PlatformPolicy,
    *,
    path: str = "tenants",
    platform_labels: Mapping[str, str] | None = None,
    platform_labels_path: str = "platformLabels",
    check_policy: PolicyChecker | None = None,
    reserved_namespaces: Iterable[str] = RESERVED_NAMESPACES,
    illumio_profiles: bool = True,
    baseline_policies: Sequence[PolicyRef] = (),
) -> list[Problem]:
    """Every problem across the tenants under the platform policy, in spec order.

    `platform_labels` are the Illumio labels every profile gets (env, loc); a project
    may not also restrict those keys. `check_policy` validates library policy names and
    parameters (normally `components.policies.validate_parameters`). `baseline_policies`
    are the cluster-wide library policies (Kyverno's baseline): apps must pass them too.
    App hosts are unique across all `tenants`.
    """
    problems = validate_platform_policy(platform)
    platform_labels = platform_labels or {}
    if illumio_profiles and "app" in platform_labels:
        problems.append(
            Problem(
                f"{platform_labels_path}.app",
                "label key 'app' is the tenant's own label (it defaults to the tenant name); "
                "allowed: platform-wide keys such as env and loc",
            )
        )
    reserved = set(reserved_namespaces)
    namespaces: dict[str, str] = {}
    hosts: dict[str, str] = {}
    tenant_names: set[str] = set()
    for i, tenant in enumerate(tenants):
        t_path = f"{path}[{i}]"
        if tenant.name in tenant_names:
            problems.append(Problem(f"{t_path}.name", f"tenant {tenant.name!r} is defined twice"))
        tenant_names.add(tenant.name)
        if tenant.image_allowlist is not None:
            problems += _registry_list_problems(
                tenant.image_allowlist, f"{t_path}.imageAllowlist", f"tenant {tenant.name!r}: "
            )
        if tenant.image_allowlist is not None and platform.image_allowlist:
            for r, registry in enumerate(tenant.image_allowlist):
                if not registry_allowed(registry, platform.image_allowlist):
                    problems.append(
                        Problem(
                            f"{t_path}.imageAllowlist[{r}]",
                            f"tenant {tenant.name!r}: registry {registry!r} is outside the "
                            f"platform allowlist; allowed: {', '.join(platform.image_allowlist)}",
                        )
                    )
        if illumio_profiles:
            problems += _platform_label_problems(
                tenant, platform_labels, t_path, platform_labels_path
            )
        assigned_keys = set(tenant.illumio_labels()) | set(platform_labels)
        project_names: set[str] = set()
        for j, project in enumerate(tenant.projects):
            p_path = f"{t_path}.projects[{j}]"
            where = f"tenant {tenant.name!r}, project {project.name!r}"
            if project.name in project_names:
                problems.append(
                    Problem(
                        f"{p_path}.name", f"{where}: the project is defined twice in the tenant"
                    )
                )
            project_names.add(project.name)
            namespace = project_namespace(tenant, project)
            ns_path = f"{p_path}.namespace"
            if namespace in namespaces:
                problems.append(
                    Problem(
                        ns_path,
                        f"{where}: namespace {namespace!r} is already used by "
                        f"{namespaces[namespace]}; every project needs its own namespace "
                        "(set namespace to override)",
                    )
                )
            elif namespace in reserved:
                problems.append(
                    Problem(
                        ns_path,
                        f"{where}: namespace {namespace!r} is reserved for the platform; "
                        "choose another namespace",
                    )
                )
            else:
                namespaces[namespace] = where
            if len(namespace) > 63:
                problems.append(
                    Problem(
                        ns_path,
                        f"{where}: namespace {namespace!r} is longer than 63 characters; "
                        "set a shorter namespace override",
                    )
                )
            if project.quota is not None:
                problems += quota_problems(
                    project.quota, platform.quota_max, where, f"{p_path}.quota"
                )
            problems += container_default_problems(project, where, p_path)
            if illumio_profiles and project.enforcement_mode == "idle":
                problems.append(
                    Problem(
                        f"{p_path}.enforcementMode",
                        f"{where}: a managed Illumio profile cannot be 'idle' (the PCE refuses "
                        "it); allowed: visibility_only, full",
                    )
                )
            for key in project.label_restrictions:
                if key in assigned_keys:
                    problems.append(
                        Problem(
                            f"{p_path}.labelRestrictions.{key}",
                            f"{where}: label key {key!r} is already assigned to the project "
                            "(tenant or platform label); a key is either assigned or restricted",
                        )
                    )
            problems += service_account_problems(project, platform, where, p_path)
            problems += policy_problems(
                project.policies,
                platform,
                path=f"{p_path}.policies",
                subject=lambda name, where=where: f"{where}, policy {name!r}",
                check_policy=check_policy,
            )
            problems += app_problems(
                tenant,
                project,
                platform,
                where=where,
                path=p_path,
                baseline_policies=baseline_policies,
            )
            problems += host_problems(project, hosts, where=where, path=p_path)
    if hosts and platform.ingress_namespace in namespaces:
        problems.append(
            Problem(
                "platformPolicy.ingressNamespace",
                f"namespace {platform.ingress_namespace!r} is the namespace of "
                f"{namespaces[platform.ingress_namespace]}, so its pods would reach every app "
                "with a host; allowed: the ingress controller's own namespace",
            )
        )
    problems += segmentation_problems(
        tenants,
        platform,
        path=path,
        platform_labels=platform_labels,
        illumio_profiles=illumio_profiles,
    )
    return problems


__all__ = [
    "RESERVED_NAMESPACES",
    "PolicyChecker",
    "Problem",
    "TenancyValidationError",
    "check_cidr",
    "policy_problems",
    "registry_allowed",
    "validate_platform_policy",
    "validate_tenants",
]
