"""App refusals: each names the field path and says what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from components.tenancy.models import PlatformPolicy, PolicyRef, TenantSpec
from components.tenancy.validation import Problem, validate_tenants

PLATFORM = PlatformPolicy.model_validate(
    {
        "imageAllowlist": ["ghcr.io/acme", "registry.example.com"],
        "quotaMax": {"requests": {"cpu": "2", "memory": "4Gi"}, "pods": 10, "services": 3},
    }
)
APP = {"name": "web", "image": "ghcr.io/acme/web:1.0", "host": "web.example.com"}
P = "tenants[0].projects[0]"


def tenant(apps: list[dict[str, Any]], name: str = "acme", **project: Any) -> TenantSpec:
    return TenantSpec.model_validate(
        {"name": name, "projects": [{"name": "shop", "apps": apps, **project}]}
    )


def problems(*tenants: TenantSpec, **kwargs: Any) -> list[Problem]:
    return validate_tenants(list(tenants), PLATFORM, **kwargs)


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, found
    return found[0]


def test_a_valid_app_has_no_problems() -> None:
    assert problems(tenant([APP])) == []


@pytest.mark.parametrize(
    ("image", "says"),
    [
        ("docker.io/library/nginx:1.27", "is outside the image allowlist of tenant 'acme'"),
        ("ghcr.io/acmecorp/web:1", "is outside the image allowlist"),
        ("ghcr.io/acme/web", "has no tag or digest"),
        ("ghcr.io/acme/web:latest", "mutable tag 'latest'"),
        ("web:1.0", "does not start with a registry host"),
    ],
)
def test_images_outside_the_allowlist_or_unpinned_are_refused(image: str, says: str) -> None:
    problem = only(problems(tenant([{**APP, "image": image}])))
    assert problem.path == f"{P}.apps[0].image"
    assert says in problem.message
    assert "allowed" in problem.message or "write" in problem.message


def test_the_tenant_allowlist_and_the_projects_own_registry_policy_both_apply() -> None:
    narrowed = tenant([APP]).model_copy(update={"image_allowlist": ["registry.example.com"]})
    assert "allowed: images under registry.example.com" in only(problems(narrowed)).message
    own = tenant(
        [APP],
        policies=[
            {"name": "restrict-image-registries", "parameters": {"registries": ["ghcr.io/acme/x"]}}
        ],
    )
    problem = only(problems(own))
    assert "the project's policy 'restrict-image-registries'" in problem.message
    assert problem.message.endswith("allowed: images under ghcr.io/acme/x")


def test_baseline_policies_apply_to_apps_when_handed_in() -> None:
    baseline = [
        PolicyRef(
            name="restrict-image-registries", parameters={"registries": ["registry.example.com"]}
        ),
        PolicyRef(name="require-labels", parameters={"labels": ["team"]}),
    ]
    found = problems(tenant([APP]), baseline_policies=baseline)
    assert [p.path for p in found] == [f"{P}.apps[0].image", f"{P}.apps[0].labels"]
    assert "baseline policy 'restrict-image-registries'" in found[0].message
    assert "baseline policy 'require-labels' requires label 'team'" in found[1].message
    assert "allowed: set labels.team" in found[1].message


def test_hosts_are_unique_across_tenants() -> None:
    a, b = tenant([APP]), tenant([{**APP, "name": "other"}], name="beta")
    problem = only(problems(a, b))
    assert problem.path == "tenants[1].projects[0].apps[0].host"
    assert "already served by tenant 'acme', project 'shop', app 'web'" in problem.message
    assert "allowed: a host no other app of the stack uses" in problem.message


def test_app_names_are_unique_in_their_project() -> None:
    problem = only(problems(tenant([APP, {**APP, "host": "other.example.com"}])))
    assert problem.path == f"{P}.apps[1].name"
    assert "used twice" in problem.message and "allowed" in problem.message


@pytest.mark.parametrize(
    ("app", "path", "says"),
    [
        ({"replicas": 5, "resources": {"requests": {"cpu": "500m"}}}, "replicas", "requests.cpu 2"),
        ({"replicas": 11, "resources": {"requests": {"cpu": "1m"}}}, "", "pods 10"),
    ],
)
def test_replicas_times_requests_must_fit_the_project_quota(app, path, says) -> None:
    problem = only(problems(tenant([{**APP, **app}])))
    assert problem.path == f"{P}.apps" + (f"[0].{path}" if path else "")
    assert says in problem.message and "allowed: " in problem.message


def test_the_quota_counts_every_app_of_the_project() -> None:
    apps = [
        {
            **APP,
            "name": f"a{i}",
            "host": None,
            "resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1Gi"}},
        }
        for i in range(5)
    ]
    assert problems(tenant(apps[:3])) == []
    found = problems(tenant(apps))
    assert [p.path for p in found] == [f"{P}.apps[4].replicas", f"{P}.apps"]
    assert "requests.memory 4Gi" in found[0].message
    assert "5 apps (one Service each) exceed the project quota services 3" in found[1].message


def test_labels_require_labels_asks_for_must_be_derivable_or_given() -> None:
    policy = {"name": "require-labels", "parameters": {"labels": ["app.kubernetes.io/version"]}}
    digest = {**APP, "image": "ghcr.io/acme/web@sha256:" + "a" * 64}
    problem = only(problems(tenant([digest], policies=[policy])))
    assert problem.path == f"{P}.apps[0].labels"
    assert "derived from the image tag" in problem.message
    given = {**digest, "labels": {"app.kubernetes.io/version": "2024-05"}}
    assert problems(tenant([given], policies=[policy])) == []
    assert problems(tenant([APP], policies=[policy])) == []


def test_labels_the_platform_sets_cannot_be_overridden() -> None:
    problem = only(problems(tenant([{**APP, "labels": {"tenantguard.io/app": "x"}}])))
    assert problem.path == f"{P}.apps[0].labels.tenantguard.io/app"
    assert "set by the platform" in problem.message


def test_illumio_labels_stay_within_the_projects_restrictions() -> None:
    restricted = {"labelRestrictions": {"role": ["api", "worker"]}}
    ok = tenant([{**APP, "illumioLabels": {"role": "api"}}], **restricted)
    assert problems(ok) == []
    wrong = tenant([{**APP, "illumioLabels": {"role": "db"}}], **restricted)
    assert only(problems(wrong)).message.endswith("allowed: api, worker")
    unrestricted = tenant([{**APP, "illumioLabels": {"env": "dev"}}], **restricted)
    problem = only(problems(unrestricted))
    assert problem.path == f"{P}.apps[0].illumioLabels.env"
    assert "allowed keys: role" in problem.message


def test_env_names_that_look_secret_are_refused() -> None:
    problem = only(problems(tenant([{**APP, "env": {"DB_PASSWORD": "x", "MODE": "fast"}}])))
    assert problem.path == f"{P}.apps[0].env.DB_PASSWORD"
    assert "looks like a secret" in problem.message and "allowed" in problem.message


def test_requests_must_resolve_and_stay_within_limits() -> None:
    no_memory = tenant(
        [APP], containerDefaults={"defaultRequest": {"cpu": "100m"}, "defaultLimit": {}}
    )
    found = problems(no_memory)
    assert [p.path for p in found] == [
        f"{P}.apps[0].resources.requests.memory",
        f"{P}.apps[0].resources.limits.memory",
    ]
    above = tenant([{**APP, "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "500m"}}}])
    assert only(problems(above)).path == f"{P}.apps[0].resources.requests.cpu"


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("host", "*.example.com", "host"),
        ("host", "Web.example.com", "host"),
        ("path", "api", "path"),
        ("name", "1web", "name"),
    ],
)
def test_host_path_and_name_forms(field: str, value: str, path: str) -> None:
    problem = only(problems(tenant([{**APP, field: value}])))
    assert problem.path == f"{P}.apps[0].{path}"
    assert "allowed" in problem.message or "is not" in problem.message


def test_tls_and_path_need_a_host() -> None:
    problem = only(problems(tenant([{**APP, "host": None, "tlsSecretName": "web-tls"}])))
    assert problem.path == f"{P}.apps[0].host"


def test_the_ingress_namespace_may_not_be_a_project_namespace() -> None:
    platform = PLATFORM.model_copy(update={"ingress_namespace": "acme-shop"})
    problem = only(validate_tenants([tenant([APP])], platform))
    assert problem.path == "platformPolicy.ingressNamespace"
