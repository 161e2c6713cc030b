"""The tenancy models accept the spec's camelCase, refuse typos, and derive names and quotas."""

import pytest
from pydantic import ValidationError

from components.tenancy.models import (
    PlatformPolicy,
    ProjectSpec,
    Quota,
    ServiceAccount,
    TenantSpec,
    effective_allowlist,
    effective_quota,
    project_namespace,
)


def test_camel_case_keys_from_yaml_and_snake_case_in_python_are_the_same_model():
    from_yaml = ProjectSpec.model_validate(
        {"name": "web", "psaLevel": "restricted", "serviceAccounts": [{"name": "ci"}]}
    )
    from_python = ProjectSpec(name="web", psa_level="restricted", service_accounts=[{"name": "ci"}])
    assert from_yaml == from_python


def test_unknown_keys_are_errors_not_silently_ignored():
    with pytest.raises(ValidationError) as err:
        ProjectSpec.model_validate({"name": "web", "quotaa": {}})
    assert err.value.errors()[0]["type"] == "extra_forbidden"
    assert err.value.errors()[0]["loc"] == ("quotaa",)


@pytest.mark.parametrize("bad", ["Web", "web_1", "-web", "web-", "a" * 64, ""])
def test_names_must_be_dns_labels(bad):
    with pytest.raises(ValidationError, match="DNS-1123 label"):
        TenantSpec(name=bad)


def test_quantities_are_checked_where_they_are_written():
    with pytest.raises(ValidationError, match="Kubernetes quantity") as err:
        Quota.model_validate({"requests": {"cpu": "two"}})
    assert err.value.errors()[0]["loc"] == ("requests", "cpu")


def test_numbers_in_yaml_become_quantity_strings():
    quota = Quota.model_validate({"requests": {"cpu": 2, "memory": "4Gi"}, "pods": 10})
    assert quota.hard() == {"requests.cpu": "2", "requests.memory": "4Gi", "pods": "10"}


def test_token_duration_must_be_a_go_duration():
    assert ServiceAccount(name="ci", token_duration="8760h").token_duration == "8760h"
    with pytest.raises(ValidationError, match="duration such as 24h"):
        ServiceAccount(name="ci", token_duration="1 year")


def test_namespace_defaults_to_tenant_dash_project_and_can_be_overridden():
    tenant = TenantSpec(name="acme")
    assert project_namespace(tenant, ProjectSpec(name="web")) == "acme-web"
    assert (
        project_namespace(tenant, ProjectSpec(name="web", namespace="storefront")) == "storefront"
    )


def test_tenant_app_label_defaults_to_its_name_and_can_be_set():
    assert TenantSpec(name="acme").illumio_labels() == {"app": "acme"}
    assert TenantSpec(name="acme", labels={"app": "acme-shop"}).illumio_labels() == {
        "app": "acme-shop"
    }


def test_effective_quota_fills_unset_amounts_from_the_platform_ceiling():
    platform = PlatformPolicy.model_validate(
        {
            "quotaMax": {
                "requests": {"cpu": "8", "memory": "16Gi"},
                "limits": {"cpu": "16"},
                "pods": 50,
            }
        }
    )
    project = ProjectSpec.model_validate({"name": "web", "quota": {"requests": {"cpu": "2"}}})
    assert effective_quota(project, platform).hard() == {
        "requests.cpu": "2",
        "requests.memory": "16Gi",
        "limits.cpu": "16",
        "pods": "50",
    }
    assert effective_quota(ProjectSpec(name="api"), platform) == platform.quota_max


def test_effective_allowlist_prefers_the_tenant_list():
    platform = PlatformPolicy(image_allowlist=["docker.io", "ghcr.io"])
    assert effective_allowlist(TenantSpec(name="a"), platform) == ["docker.io", "ghcr.io"]
    narrowed = TenantSpec(name="a", image_allowlist=["ghcr.io/acme"])
    assert effective_allowlist(narrowed, platform) == ["ghcr.io/acme"]


def test_validation_errors_never_echo_the_value_that_was_given():
    from stacks.spec import ClusterSpec

    with pytest.raises(ValidationError) as err:
        ClusterSpec.model_validate({"name": "c", "apiServer": "https://admin:hunter2@k8s:6443"})
    assert "hunter2" not in str(err.value)
    assert "apiServer" in str(err.value)


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ({"": "x"}, "label key '' is not"),
        ({"k" * 65: "x"}, "is not an Illumio label key"),
        ({"bu": ""}, "label 'bu' has an empty value"),
        ({"bu": "v" * 256}, "is not an Illumio label value of 1 to 255 characters"),
        ({"bu": " padded"}, "without control characters or leading or trailing spaces"),
    ],
)
def test_tenant_labels_need_short_keys_and_values(labels, reason):
    with pytest.raises(ValidationError, match=reason) as err:
        TenantSpec(name="acme", labels=labels)
    assert err.value.errors()[0]["loc"] == ("labels",)
