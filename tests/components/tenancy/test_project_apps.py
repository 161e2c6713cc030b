"""components.Project registers its apps: typed resources, after the namespace, the guards
(quota, limits, NetworkPolicies) and the project's Kyverno policies."""

from __future__ import annotations

from typing import Any

from components.tenancy.project import Project
from tests.components.k8s_schema import validate_manifest
from tests.components.mocked import run
from tests.components.tenancy.test_project import args, manifest_of, spec
from tests.pulumi_mocks import Recording

APPS = [
    {"name": "web", "image": "ghcr.io/acme/web:1.0", "host": "shop.example.com"},
    {"name": "worker", "image": "docker.io/library/busybox:1.36", "port": 9000},
]


def build(**project: Any) -> Recording:
    return run(lambda: Project("acme-shop", args(project=spec(apps=APPS, **project))))


def test_apps_register_as_typed_resources_valid_for_kubernetes() -> None:
    recording = build()
    names = {(r.type, r.name) for r in recording.resources}
    assert {
        ("kubernetes:apps/v1:Deployment", "acme-shop-deployment-web"),
        ("kubernetes:core/v1:Service", "acme-shop-service-web"),
        ("kubernetes:networking.k8s.io/v1:Ingress", "acme-shop-ingress-web"),
        ("kubernetes:apps/v1:Deployment", "acme-shop-deployment-worker"),
        ("kubernetes:core/v1:Service", "acme-shop-service-worker"),
        (
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "acme-shop-netpol-allow-ingress-controller-web",
        ),
    } <= names
    assert not recording.of_type("kubernetes:networking.k8s.io/v1:Ingress")[1:]
    for kind in ("apps/v1:Deployment", "core/v1:Service", "networking.k8s.io/v1:Ingress"):
        for resource in recording.of_type(f"kubernetes:{kind}"):
            validate_manifest(manifest_of(resource))


def test_apps_wait_for_namespace_guards_and_policies_and_belong_to_the_project() -> None:
    recording = build()
    project = recording.named("acme-shop")
    needed = [
        recording.named(name).urn
        for name in (
            "acme-shop-namespace",
            "acme-shop-quota",
            "acme-shop-limits",
            "acme-shop-netpol-default-deny",
            "acme-shop-netpol-allow-ingress-controller-web",
            "acme-shop-policy-disallow-latest-tag",
            "acme-shop-policy-restrict-image-registries",
        )
    ]
    for name in ("deployment-web", "service-web", "ingress-web", "deployment-worker"):
        resource = recording.named(f"acme-shop-{name}")
        assert resource.parent == project.urn
        for urn in needed:
            assert urn in resource.dependencies, (name, urn)
