"""Apps: what each app becomes, valid for the pinned Kubernetes, and admitted by every policy.

The proof that apps pass the policies by construction evaluates every rendered app (of the
shipped stacks, and of a project that enables every library policy) against every policy
its project gets and the stack's baseline policies, with the CEL evaluator of the policy
tests, as a Deployment (Kyverno's autogen rewrite) and as the Pod its ReplicaSet creates.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.policies import catalog, render, render_set
from components.segmentation.network_policies import NAMESPACE_NAME_LABEL
from components.tenancy.apps import (
    APP_LABEL,
    ILLUMIO_ANNOTATION_PREFIX,
    parse_image,
)
from components.tenancy.manifests import (
    namespace_manifest,
    project_manifests,
    project_policy_refs,
)
from components.tenancy.models import (
    PlatformPolicy,
    PolicyRef,
    ProjectSpec,
    TenantSpec,
    effective_quota,
)
from components.tenancy.validation import validate_tenants
from stacks import load
from tests.components.k8s_schema import validate_manifests
from tests.components.policies.cel import evaluate_policy

APIS = ["validatingpolicy", "clusterpolicy"]
PLATFORM = PlatformPolicy.model_validate(
    {
        "imageAllowlist": ["ghcr.io/acme", "docker.io/library"],
        "egressBaseline": ["10.0.0.0/8"],
        "quotaMax": {"requests": {"cpu": "4", "memory": "8Gi"}, "limits": {"memory": "16Gi"}},
        "ingressClass": "public",
        "ingressNamespace": "edge",
    }
)
EVERY_POLICY_PARAMETERS: dict[str, dict[str, Any]] = {
    "restrict-image-registries": {"registries": ["ghcr.io/acme"]},
    "require-labels": {"labels": ["app.kubernetes.io/name", "app.kubernetes.io/version", "team"]},
}


def every_policy_project() -> tuple[TenantSpec, ProjectSpec]:
    """A project that lists every library policy, with apps in every shape the spec allows."""
    project = ProjectSpec.model_validate(
        {
            "name": "shop",
            "psaLevel": "restricted",
            "labelRestrictions": {"role": ["web", "worker"]},
            "policies": [
                {"name": t.name, "parameters": EVERY_POLICY_PARAMETERS.get(t.name, {})}
                for t in catalog()
            ],
            "apps": [
                {
                    "name": "web",
                    "image": "ghcr.io/acme/web:2.1.0",
                    "host": "shop.example.com",
                    "path": "/shop",
                    "tlsSecretName": "shop-tls",
                    "replicas": 3,
                    "labels": {"team": "shop"},
                    "illumioLabels": {"role": "web"},
                    "env": {"LOG_LEVEL": "debug"},
                    "runAsUser": 10001,
                },
                {
                    "name": "worker",
                    "image": "ghcr.io/acme/worker:1.0@sha256:" + "a" * 64,
                    "port": 9000,
                    "labels": {"team": "shop"},
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "64Mi"},
                        "limits": {"memory": "128Mi"},
                    },
                },
                {
                    "name": "pinned",
                    "image": "ghcr.io/acme/tool@sha256:" + "b" * 64,
                    "replicas": 0,
                    "labels": {"team": "shop", "app.kubernetes.io/version": "2024-05"},
                },
            ],
        }
    )
    tenant = TenantSpec(name="acme", projects=[project])
    return tenant, project


def as_pod(deployment: dict[str, Any]) -> dict[str, Any]:
    """The Pod a Deployment's ReplicaSet creates from its template (also admitted)."""
    template = copy.deepcopy(deployment["spec"]["template"])
    metadata = {**template["metadata"], "name": deployment["metadata"]["name"] + "-abc12"}
    metadata["namespace"] = deployment["metadata"]["namespace"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}


def policy_manifests(
    refs: list[PolicyRef], baseline: list[PolicyRef], namespace: str, api: str
) -> list[dict[str, Any]]:
    """Every policy manifest registered for the project (kubectl debug companions too)."""
    policies = [
        manifest
        for ref in refs
        for manifest in render_set(
            ref.name, ref.parameters, namespace=namespace, api=api, failure_action="Enforce"
        )
    ]
    policies += [
        manifest
        for ref in baseline
        for manifest in render_set(ref.name, ref.parameters, api=api, failure_action="Enforce")
    ]
    return policies


def admitted(
    tenant: TenantSpec,
    project: ProjectSpec,
    platform: PlatformPolicy,
    baseline: list[PolicyRef],
    api: str,
) -> int:
    """Evaluate every app object of `project` against every policy; return the verdicts."""
    built = project_manifests(tenant, project, platform, quota=effective_quota(project, platform))
    namespace = built.namespace["metadata"]["name"]
    refs = project_policy_refs(tenant, project, platform)
    namespace_object = namespace_manifest(tenant, project, platform)
    verdicts = 0
    for app in built.apps:
        objects = [app.deployment, as_pod(app.deployment), app.service]
        for policy in policy_manifests(refs, baseline, namespace, api):
            for obj in objects:
                verdict = evaluate_policy(policy, obj, namespace_object=namespace_object)
                name = policy["metadata"]["name"]
                assert verdict.allowed, f"{obj['kind']} {app.app.name} / {name}: {verdict.failures}"
                verdicts += verdict.matched
    return verdicts


@pytest.mark.parametrize("api", APIS)
def test_apps_of_a_project_with_every_library_policy_pass_them_all(api: str) -> None:
    tenant, project = every_policy_project()
    assert validate_tenants([tenant], PLATFORM) == []
    refs = project_policy_refs(tenant, project, PLATFORM)
    assert {ref.name for ref in refs} == {t.name for t in catalog()}
    # 3 apps x (Deployment + Pod) x 12 pod policies, and 3 Services x disallow-nodeport
    assert admitted(tenant, project, PLATFORM, [], api) == 3 * 2 * 12 + 3


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_apps_of_the_shipped_stacks_pass_their_project_and_baseline_policies(stack: str) -> None:
    spec = load(stack)
    baseline = list(spec.kyverno.baseline_policies)
    apps = 0
    for tenant in spec.tenants:
        for project in tenant.projects:
            admitted(tenant, project, spec.platform_policy, baseline, spec.kyverno.policy_api)
            apps += len(project.apps)
    assert apps >= (1 if stack == "dev" else 0)


def test_an_app_breaking_a_policy_would_be_caught() -> None:
    """The proof has teeth: an app object the builders never make is denied."""
    tenant, project = every_policy_project()
    built = project_manifests(tenant, project, PLATFORM, quota=effective_quota(project, PLATFORM))
    deployment = copy.deepcopy(built.apps[0].deployment)
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"].pop(
        "allowPrivilegeEscalation"
    )
    policy = render("disallow-privilege-escalation", namespace=built.namespace["metadata"]["name"])
    assert not evaluate_policy(policy, deployment).allowed


def test_every_app_object_is_valid_for_the_pinned_kubernetes_version() -> None:
    tenant, project = every_policy_project()
    built = project_manifests(tenant, project, PLATFORM, quota=effective_quota(project, PLATFORM))
    objects = [m for app in built.apps for m in app.all()]
    assert [m["kind"] for m in objects] == ["Deployment", "Service", "Ingress"] + [
        "Deployment",
        "Service",
    ] * 2
    assert validate_manifests(built.all()) == len(built.all())
    for stack in ("dev", "prod"):
        spec = load(stack)
        for tenant in spec.tenants:
            for project in tenant.projects:
                quota = effective_quota(project, spec.platform_policy)
                validate_manifests(
                    project_manifests(tenant, project, spec.platform_policy, quota=quota).all()
                )


def test_deployment_service_and_ingress_carry_the_spec() -> None:
    tenant, project = every_policy_project()
    built = project_manifests(tenant, project, PLATFORM, quota=effective_quota(project, PLATFORM))
    web = built.apps[0]
    spec = web.deployment["spec"]
    assert spec["replicas"] == 3
    assert spec["selector"] == {"matchLabels": {APP_LABEL: "web"}}
    template = spec["template"]
    assert template["metadata"]["annotations"] == {f"{ILLUMIO_ANNOTATION_PREFIX}role": "web"}
    labels = template["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "web"
    assert labels["app.kubernetes.io/version"] == "2.1.0"
    assert labels["team"] == "shop"
    (container,) = template["spec"]["containers"]
    assert container["image"] == "ghcr.io/acme/web:2.1.0"
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["env"] == [{"name": "LOG_LEVEL", "value": "debug"}]
    assert container["securityContext"]["runAsUser"] == 10001
    # the project's container defaults fill in what the app leaves out
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    assert template["spec"]["automountServiceAccountToken"] is False
    assert web.service["spec"]["type"] == "ClusterIP"
    assert web.service["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    assert web.service["metadata"]["annotations"] == {"com.illumio.role": "web"}
    assert web.ingress is not None
    ingress = web.ingress["spec"]
    assert ingress["ingressClassName"] == "public"
    (rule,) = ingress["rules"]
    assert rule["host"] == "shop.example.com"
    assert rule["http"]["paths"] == [
        {
            "path": "/shop",
            "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 8080}}},
        }
    ]
    assert ingress["tls"] == [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]
    worker, pinned = built.apps[1], built.apps[2]
    assert worker.ingress is None and pinned.ingress is None
    worker_labels = worker.deployment["spec"]["template"]["metadata"]["labels"]
    assert worker_labels["app.kubernetes.io/version"] == "1.0"
    assert pinned.deployment["spec"]["replicas"] == 0
    assert worker.deployment["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "128Mi"},
    }


def test_only_apps_with_a_host_open_to_the_ingress_namespace_on_their_port() -> None:
    tenant, project = every_policy_project()
    built = project_manifests(tenant, project, PLATFORM, quota=effective_quota(project, PLATFORM))
    names = [p["metadata"]["name"] for p in built.network_policies]
    assert names == [
        "default-deny",
        "allow-dns",
        "allow-same-namespace",
        "allow-egress-baseline",
        "allow-ingress-controller-web",
    ]
    (policy,) = [p for p in built.network_policies if p["metadata"]["name"].endswith("-web")]
    assert policy["spec"] == {
        "podSelector": {"matchLabels": {APP_LABEL: "web"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "edge"}}}],
                "ports": [{"protocol": "TCP", "port": 8080}],
            }
        ],
    }


def test_a_project_without_apps_gets_nothing_new() -> None:
    tenant, project = every_policy_project()
    bare = project.model_copy(update={"apps": []})
    built = project_manifests(tenant, bare, PLATFORM, quota=effective_quota(bare, PLATFORM))
    assert built.apps == []
    assert not [p for p in built.network_policies if "ingress" in p["metadata"]["name"]]
    assert {m["kind"] for m in built.all()}.isdisjoint({"Deployment", "Service", "Ingress"})


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("ghcr.io/acme/api:1.2", ("ghcr.io/acme/api", "1.2", None)),
        (
            "localhost:5000/api@sha256:" + "c" * 64,
            ("localhost:5000/api", None, "sha256:" + "c" * 64),
        ),
        ("docker.io/library/nginx:1.27", ("docker.io/library/nginx", "1.27", None)),
        ("registry.example.com:5000/a/b/c", ("registry.example.com:5000/a/b/c", None, None)),
    ],
)
def test_image_references_are_cut_into_repository_tag_and_digest(image, parts) -> None:
    ref = parse_image(image)
    assert (ref.repository, ref.tag, ref.digest) == parts


@pytest.mark.parametrize(
    ("image", "hint"),
    [
        ("nginx:1.27", "docker.io/library/nginx:1.27"),
        ("acme/api:1", "docker.io/acme/api:1"),
        ("docker.io/nginx:1.27", "docker.io/library/nginx"),
        ("index.docker.io/library/nginx:1", "write docker.io"),
        ("ghcr.io/Acme/api:1", "starts with its registry host"),
        ("ghcr.io/acme/api:1 ", "starts with its registry host"),
    ],
)
def test_images_must_be_written_with_their_registry_host(image, hint) -> None:
    with pytest.raises(ValueError) as info:
        parse_image(image)
    assert hint in str(info.value)
