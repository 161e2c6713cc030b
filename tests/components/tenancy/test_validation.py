"""Cross-checks report each problem with its spec path, tenant, project and what is allowed."""

import pytest

from components.tenancy.models import PlatformPolicy, TenantSpec
from components.tenancy.validation import (
    Problem,
    TenancyValidationError,
    check_cidr,
    registry_allowed,
    validate_tenants,
)

PLATFORM = PlatformPolicy.model_validate(
    {
        "imageAllowlist": ["docker.io", "ghcr.io/acme"],
        "egressBaseline": ["10.0.0.0/8"],
        "quotaMax": {"requests": {"cpu": "4", "memory": "8Gi"}, "pods": 20},
    }
)


def problems_for(tenants, platform=PLATFORM, **kwargs):
    return validate_tenants([TenantSpec.model_validate(t) for t in tenants], platform, **kwargs)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def test_a_clean_spec_has_no_problems():
    assert problems_for([{"name": "acme", "projects": [{"name": "web"}, {"name": "api"}]}]) == []


def test_quota_above_the_ceiling_names_path_tenant_project_and_limit():
    p = only(
        problems_for(
            [
                {"name": "a"},
                {
                    "name": "acme",
                    "projects": [{"name": "web", "quota": {"requests": {"cpu": "4500m"}}}],
                },
            ]
        )
    )
    assert p.path == "tenants[1].projects[0].quota.requests.cpu"
    assert "tenant 'acme', project 'web'" in p.message
    assert "at most 4" in p.message


def test_quota_in_other_units_below_the_ceiling_is_fine():
    quota = {"requests": {"cpu": "3500m", "memory": "8192Mi"}, "pods": 20}
    assert problems_for([{"name": "acme", "projects": [{"name": "web", "quota": quota}]}]) == []


def test_pod_count_above_the_ceiling():
    p = only(problems_for([{"name": "acme", "projects": [{"name": "web", "quota": {"pods": 21}}]}]))
    assert p.path == "tenants[0].projects[0].quota.pods"


def test_tenant_registry_outside_the_platform_allowlist():
    p = only(problems_for([{"name": "acme", "imageAllowlist": ["ghcr.io/other"]}]))
    assert p.path == "tenants[0].imageAllowlist[0]"
    assert "allowed: docker.io, ghcr.io/acme" in p.message


def test_policy_registry_parameter_outside_the_platform_allowlist():
    policies = [{"name": "restrict-image-registries", "parameters": {"registries": ["quay.io"]}}]
    p = only(problems_for([{"name": "acme", "projects": [{"name": "web", "policies": policies}]}]))
    assert p.path == "tenants[0].projects[0].policies[0].parameters.registries[0]"
    assert "'quay.io' is outside the platform allowlist" in p.message


def test_invalid_cidr_in_the_egress_baseline():
    platform = PLATFORM.model_copy(
        update={"egress_baseline": ["10.0.0.0/8", "10.1.2.3/8", "bogus"]}
    )
    problems = problems_for([], platform)
    assert [p.path for p in problems] == [
        "platformPolicy.egressBaseline[1]",
        "platformPolicy.egressBaseline[2]",
    ]
    assert "host bits set" in problems[0].message
    assert "10.0.0.0/8" in problems[0].message


def test_unknown_role_type_lists_the_allowed_ones():
    accounts = [{"name": "ci", "role": "owner"}]
    p = only(
        problems_for([{"name": "acme", "projects": [{"name": "web", "serviceAccounts": accounts}]}])
    )
    assert p.path == "tenants[0].projects[0].serviceAccounts[0].role"
    assert "service account 'ci'" in p.message
    assert "allowed: view, edit, admin, cluster-admin, custom" in p.message


def test_custom_role_needs_rules_or_a_role_name_but_not_both():
    accounts = [
        {"name": "a", "role": "custom"},
        {
            "name": "b",
            "role": "custom",
            "roleName": "reader",
            "rules": [{"resources": ["pods"], "verbs": ["get"]}],
        },
        {"name": "c", "role": "custom", "roleName": "reader"},
    ]
    problems = problems_for(
        [{"name": "acme", "projects": [{"name": "web", "serviceAccounts": accounts}]}]
    )
    assert [p.path for p in problems] == [
        "tenants[0].projects[0].serviceAccounts[0].role",
        "tenants[0].projects[0].serviceAccounts[1].roleName",
    ]
    assert "needs either rules" in problems[0].message


def test_rules_on_a_non_custom_role_are_refused_rather_than_ignored():
    accounts = [{"name": "a", "role": "view", "roleName": "reader"}]
    p = only(
        problems_for([{"name": "acme", "projects": [{"name": "web", "serviceAccounts": accounts}]}])
    )
    assert "apply only to role 'custom'" in p.message


def test_cluster_admin_only_when_the_platform_allows_it():
    tenants = [
        {
            "name": "acme",
            "projects": [
                {"name": "ops", "serviceAccounts": [{"name": "root", "role": "cluster-admin"}]}
            ],
        }
    ]
    p = only(problems_for(tenants))
    assert "allowClusterAdmin is false" in p.message
    allowing = PLATFORM.model_copy(update={"allow_cluster_admin": True})
    assert problems_for(tenants, allowing) == []


def test_two_projects_with_the_same_namespace_across_tenants():
    tenants = [
        {"name": "acme", "projects": [{"name": "web"}]},
        {"name": "beta", "projects": [{"name": "shop", "namespace": "acme-web"}]},
    ]
    p = only(problems_for(tenants))
    assert p.path == "tenants[1].projects[0].namespace"
    assert "already used by tenant 'acme', project 'web'" in p.message


def test_reserved_namespaces_are_refused():
    p = only(
        problems_for([{"name": "acme", "projects": [{"name": "web", "namespace": "kube-system"}]}])
    )
    assert "reserved" in p.message


def test_duplicate_tenants_projects_and_accounts():
    tenants = [
        {
            "name": "acme",
            "projects": [
                {"name": "web", "serviceAccounts": [{"name": "ci"}, {"name": "ci"}]},
                {"name": "web", "namespace": "acme-web-2"},
            ],
        },
        {"name": "acme"},
    ]
    paths = [p.path for p in problems_for(tenants)]
    assert "tenants[0].projects[0].serviceAccounts[1].name" in paths
    assert "tenants[0].projects[1].name" in paths
    assert "tenants[1].name" in paths


def test_a_key_is_either_assigned_or_restricted():
    tenants = [
        {
            "name": "acme",
            "projects": [{"name": "web", "labelRestrictions": {"env": ["dev"], "role": []}}],
        }
    ]
    p = only(problems_for(tenants, platform_labels={"env": "dev", "loc": "eu"}))
    assert p.path == "tenants[0].projects[0].labelRestrictions.env"


def test_policy_checker_errors_are_reported_with_their_path():
    def checker(name, parameters):
        if name != "disallow-latest-tag":
            raise ValueError(f"unknown policy template {name!r}")

    tenants = [
        {
            "name": "acme",
            "projects": [
                {"name": "web", "policies": [{"name": "disallow-latest-tag"}, {"name": "nope"}]}
            ],
        }
    ]
    p = only(problems_for(tenants, check_policy=checker))
    assert p.path == "tenants[0].projects[0].policies[1]"
    assert "unknown policy template 'nope'" in p.message


def test_the_error_lists_every_problem():
    error = TenancyValidationError([Problem("a.b", "first"), Problem("c", "second")])
    assert "2 problem(s)" in str(error)
    assert "a.b: first" in str(error) and "c: second" in str(error)


@pytest.mark.parametrize(
    ("registry", "allowed"),
    [
        ("docker.io", True),
        ("docker.io/library", True),
        ("ghcr.io/acme", True),
        ("ghcr.io/acme/tools", True),
        ("ghcr.io/acmecorp", False),
        ("ghcr.io", False),
        ("quay.io", False),
    ],
)
def test_registry_allowed_matches_whole_path_segments(registry, allowed):
    assert registry_allowed(registry, ["docker.io", "ghcr.io/acme"]) is allowed


@pytest.mark.parametrize(
    ("registry", "allowlist", "allowed"),
    [
        ("index.docker.io/acme", ["docker.io"], True),
        ("docker.io/acme", ["index.docker.io/acme"], True),
        ("index.docker.io/library", ["docker.io/library"], True),
        ("docker.io/acme", ["docker.io/library"], False),
        ("docker.io/library", ["not a registry", "docker.io"], True),
        ("nginx", ["docker.io"], False),  # not a registry prefix: reported where it is written
    ],
)
def test_registry_allowed_spells_docker_hub_as_the_policy_does(registry, allowlist, allowed):
    """A tenant allowlist that the rendered registry policy would accept within the platform
    allowlist is accepted by validate too, whichever Docker Hub spelling either uses."""
    assert registry_allowed(registry, allowlist) is allowed


def test_check_cidr():
    assert check_cidr("192.168.0.0/16") is None
    assert check_cidr("fd00::/8") is None
    assert "host bits" in check_cidr("192.168.1.1/16")
    assert "use a form such as 10.0.0.0/8" in check_cidr("corp-network")
    assert "write 10.1.2.3/32 for one host" in check_cidr("10.1.2.3")


@pytest.mark.parametrize("entry", ["acme", "Docker.io", "https://ghcr.io", "ghcr.io/*"])
def test_allowlist_entries_the_image_policy_cannot_enforce_are_refused_where_written(entry):
    platform = PLATFORM.model_copy(update={"image_allowlist": ["docker.io", entry]})
    p = only(problems_for([], platform))
    assert p.path == "platformPolicy.imageAllowlist[1]"
    tenant_level = problems_for([{"name": "acme", "imageAllowlist": [entry]}], PlatformPolicy())
    assert [q.path for q in tenant_level] == ["tenants[0].imageAllowlist[0]"]
    assert tenant_level[0].message.startswith("tenant 'acme': ")


# --- Illumio profile rules: one place for the components and the stack loader --------------


def test_idle_is_refused_for_a_managed_profile_and_fine_without_illumio():
    tenants = [{"name": "acme", "projects": [{"name": "web", "enforcementMode": "idle"}]}]
    p = only(problems_for(tenants))
    assert p.path == "tenants[0].projects[0].enforcementMode"
    assert "cannot be 'idle'" in p.message
    assert p.message.endswith("allowed: visibility_only, full")
    assert problems_for(tenants, illumio_profiles=False) == []


def test_default_request_above_the_default_limit():
    defaults = {"defaultRequest": {"memory": "1Gi"}, "defaultLimit": {"memory": "512Mi"}}
    p = only(
        problems_for(
            [{"name": "acme", "projects": [{"name": "web", "containerDefaults": defaults}]}]
        )
    )
    assert p.path == "tenants[0].projects[0].containerDefaults.defaultRequest.memory"
    assert "default request 1Gi is above the default limit 512Mi" in p.message


def test_tenant_label_on_a_platform_key_is_refused_whether_it_contradicts_or_repeats():
    tenants = [
        {"name": "acme", "labels": {"env": "dev", "bu": "retail"}},
        {"name": "globex", "labels": {"env": "prod"}},
    ]
    problems = problems_for(
        tenants, platform_labels={"env": "prod"}, platform_labels_path="cluster.illumio.labels"
    )
    assert [p.path for p in problems] == ["tenants[0].labels.env", "tenants[1].labels.env"]
    assert "env=dev conflicts with the platform label env=prod" in problems[0].message
    assert "env=prod repeats the platform label" in problems[1].message
    for problem in problems:
        assert "already assigned to every profile by cluster.illumio.labels" in problem.message
    assert problems_for(tenants, platform_labels={"env": "prod"}, illumio_profiles=False) == []


def test_platform_label_app_is_refused_once_at_its_own_path():
    p = only(
        problems_for(
            [{"name": "acme"}, {"name": "globex"}],
            platform_labels={"app": "shared"},
            platform_labels_path="cluster.illumio.labels",
        )
    )
    assert p.path == "cluster.illumio.labels.app"


def test_a_policy_listed_twice_is_refused():
    policies = [{"name": "disallow-latest-tag"}, {"name": "disallow-latest-tag"}]
    p = only(problems_for([{"name": "acme", "projects": [{"name": "web", "policies": policies}]}]))
    assert p.path == "tenants[0].projects[0].policies[1].name"
    assert "policy 'disallow-latest-tag' is listed twice" in p.message
