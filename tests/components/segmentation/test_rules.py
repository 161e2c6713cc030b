"""What validate refuses in a project's segmentation, each at its spec path."""

from __future__ import annotations

from typing import Any

import pytest

from components.tenancy.models import PlatformPolicy, TenantSpec
from components.tenancy.validation import validate_tenants

PLATFORM = {"egressBaseline": ["10.0.0.0/8"]}


def problems(
    web: dict[str, Any] | None = None, platform: dict[str, Any] | None = None, **extra: Any
) -> list[tuple[str, str]]:
    spec = {
        "name": "shop",
        "projects": [
            {"name": "web", **(web or {})},
            {"name": "db"},
        ],
    }
    found = validate_tenants(
        [TenantSpec.model_validate(spec)],
        PlatformPolicy.model_validate({**PLATFORM, **(platform or {})}),
        platform_labels={"env": "dev"},
        **extra,
    )
    return [(p.path, p.message) for p in found]


def only(found: list[tuple[str, str]]) -> tuple[str, str]:
    assert len(found) == 1, found
    return found[0]


def test_the_defaults_are_accepted_in_every_enforcement_mode():
    assert problems() == []
    assert problems({"enforcementMode": "full"}) == []


@pytest.mark.parametrize(
    ("segmentation", "path", "fragment"),
    [
        (
            {"allowFrom": [{"project": "cache", "ports": [{"port": 6379}]}]},
            "tenants[0].projects[0].segmentation.allowFrom[0].project",
            "tenant 'shop' has no project 'cache'; allowed: one of db, web",
        ),
        (
            {"allowFrom": [{"tenant": "ads", "project": "api", "ports": [{"port": 80}]}]},
            "tenants[0].projects[0].segmentation.allowFrom[0].tenant",
            "no tenant 'ads' in the stack",
        ),
        (
            {"allowFrom": [{"project": "web", "ports": [{"port": 80}]}]},
            "tenants[0].projects[0].segmentation.allowFrom[0].project",
            "a project always reaches itself",
        ),
        (
            {"egressCidrs": ["172.16.0.0/12"]},
            "tenants[0].projects[0].segmentation.egressCidrs[0]",
            "172.16.0.0/12 is outside the platform's egressBaseline; allowed: networks within "
            "10.0.0.0/8",
        ),
        (
            {"egressCidrs": ["10.1.2.3/16"]},
            "tenants[0].projects[0].segmentation.egressCidrs[0]",
            "host bits",
        ),
        (
            {"labels": {"app": "shop-db"}},
            "tenants[0].projects[1].segmentation.labels",
            "is also tenant 'shop', project 'web''s",
        ),
    ],
)
def test_segmentation_mistakes_are_refused_at_their_path(segmentation, path, fragment):
    found = problems({"segmentation": segmentation})
    got_path, message = only(found)
    assert got_path == path
    assert fragment in message


def test_full_enforcement_without_dns_is_refused_and_says_why():
    path, message = only(problems({"enforcementMode": "full", "segmentation": {"allowDns": False}}))
    assert path == "tenants[0].projects[0].enforcementMode"
    assert "drops every flow no active rule allows" in message
    assert "allowed: allowDns: true, or enforcementMode: visibility_only" in message
    assert problems({"segmentation": {"allowDns": False}}) == []  # visibility_only: observed


def test_full_enforcement_needs_the_pce_labels_of_every_namespace_it_admits():
    web = {
        "enforcementMode": "full",
        "segmentation": {
            "allowFromNamespaces": [{"namespace": "monitoring", "ports": [{"port": 9090}]}]
        },
    }
    path, message = only(problems(web))
    assert path == "tenants[0].projects[0].segmentation.allowFromNamespaces[0].illumioLabels"
    assert "namespace 'monitoring'" in message
    web["segmentation"]["allowFromNamespaces"][0]["illumioLabels"] = {"app": "prometheus"}
    assert problems(web) == []


def test_full_enforcement_with_a_hosted_app_needs_the_ingress_controllers_labels():
    web = {
        "enforcementMode": "full",
        "apps": [{"name": "front", "image": "registry.example.com/shop/front:1.0", "host": "x.io"}],
    }
    path, message = only(problems(web))
    assert path == "tenants[0].projects[0].apps[0].host"
    assert "platformPolicy.ingressIllumioLabels" in message
    assert problems(web, {"ingressIllumioLabels": {"app": "ingress-nginx"}}) == []


def test_identity_clashes_are_not_checked_without_illumio():
    assert problems({"segmentation": {"labels": {"app": "shop-db"}}}, illumio_profiles=False) == []
