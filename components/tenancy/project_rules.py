"""Rules of one project on its own: its quota under the platform ceiling, its service
accounts' role types, and its container defaults."""

from __future__ import annotations

from components.tenancy.durations import token_duration_problem
from components.tenancy.models import (
    PlatformPolicy,
    ProjectSpec,
    Quota,
)
from components.tenancy.problems import Problem
from components.tenancy.quantity import parse_quantity
from components.tenancy.spec_base import ROLE_TYPES, ResourceAmounts


def quota_problems(quota: Quota, ceiling: Quota, where: str, path: str) -> list[Problem]:
    problems: list[Problem] = []
    for scope in ("requests", "limits"):
        mine: ResourceAmounts = getattr(quota, scope)
        cap: ResourceAmounts = getattr(ceiling, scope)
        for resource in ("cpu", "memory"):
            value, limit = getattr(mine, resource), getattr(cap, resource)
            if value is None or limit is None:
                continue
            if parse_quantity(value) > parse_quantity(limit):
                problems.append(
                    Problem(
                        f"{path}.{scope}.{resource}",
                        f"{where}: {scope}.{resource} {value} is above the platform ceiling "
                        f"{limit}; allowed: at most {limit}",
                    )
                )
    counts = (
        ("pods", "pods"),
        ("services", "services"),
        ("persistent_volume_claims", "persistentVolumeClaims"),
    )
    for field, alias in counts:
        value, limit = getattr(quota, field), getattr(ceiling, field)
        if value is not None and limit is not None and value > limit:
            problems.append(
                Problem(
                    f"{path}.{alias}",
                    f"{where}: {alias} {value} is above the platform ceiling {limit}; "
                    f"allowed: at most {limit}",
                )
            )
    return problems


def service_account_problems(
    project: ProjectSpec, platform: PlatformPolicy, where: str, path: str
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for k, account in enumerate(project.service_accounts):
        at = f"{path}.serviceAccounts[{k}]"
        who = f"{where}, service account {account.name!r}"
        if account.name in seen:
            problems.append(Problem(f"{at}.name", f"{who}: the name is used twice in this project"))
        seen.add(account.name)
        if account.role not in ROLE_TYPES:
            problems.append(
                Problem(
                    f"{at}.role",
                    f"{who}: unknown role type {account.role!r}; allowed: {', '.join(ROLE_TYPES)}",
                )
            )
            continue
        if account.role == "custom":
            if not account.rules and not account.role_name:
                problems.append(
                    Problem(
                        f"{at}.role",
                        f"{who}: role 'custom' needs either rules (a Role is made from them) "
                        "or roleName (an existing Role or ClusterRole to bind)",
                    )
                )
            elif account.rules and account.role_name:
                problems.append(
                    Problem(
                        f"{at}.roleName",
                        f"{who}: give either rules or roleName for role 'custom', not both",
                    )
                )
        elif account.rules or account.role_name:
            problems.append(
                Problem(
                    f"{at}.role",
                    f"{who}: rules and roleName apply only to role 'custom', not {account.role!r}",
                )
            )
        if account.token_duration is not None:
            reason = token_duration_problem(account.token_duration, platform.max_token_duration)
            if reason is not None:
                problems.append(Problem(f"{at}.tokenDuration", f"{who}: {reason}"))
        if account.role == "cluster-admin" and not platform.allow_cluster_admin:
            problems.append(
                Problem(
                    f"{at}.role",
                    f"{who}: role 'cluster-admin' is not allowed by the platform policy "
                    "(platformPolicy.allowClusterAdmin is false); use admin, edit, view or custom",
                )
            )
    return problems


def container_default_problems(project: ProjectSpec, where: str, path: str) -> list[Problem]:
    problems: list[Problem] = []
    defaults = project.container_defaults
    for resource in ("cpu", "memory"):
        request = getattr(defaults.default_request, resource)
        limit = getattr(defaults.default_limit, resource)
        if request and limit and parse_quantity(request) > parse_quantity(limit):
            problems.append(
                Problem(
                    f"{path}.containerDefaults.defaultRequest.{resource}",
                    f"{where}: default request {request} is above the default limit {limit}; "
                    "allowed: a request of at most its limit",
                )
            )
    return problems
