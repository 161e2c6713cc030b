"""Resources written here, independently of the shipped samples, judged by the rendered policies.

Every case has a compliant twin that differs only in what the policy is about, so a
policy that denies (or allows) everything fails. Each runs through both APIs, on the Pod
and on Deployment- and CronJob-shaped objects (Kyverno's autogen rewrite).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from components.policies import catalog, render
from tests.components.policies.cel import as_controller, evaluate_policy

APIS = ["validatingpolicy", "clusterpolicy"]
REGISTRIES = {"registries": ["registry.corp.example:5000/platform", "docker.io", "ghcr.io/acme"]}
LABELS = {"labels": ["app.kubernetes.io/name", "tenantguard.io/tenant"]}
SIZED = {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}


def container(name: str = "app", image: str = "nginx:1.27.0", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **fields}


def pod(
    *containers: dict[str, Any], init=(), ephemeral=(), labels=None, **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"containers": list(containers or [container()]), **spec}
    if init:
        body["initContainers"] = list(init)
    if ephemeral:
        body["ephemeralContainers"] = list(ephemeral)
    metadata: dict[str, Any] = {"name": "web", "namespace": "shop"}
    if labels is not None:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": body}


def secured(**extra: Any) -> dict[str, Any]:
    return {"securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, **extra}}


def judge(name: str, obj: dict[str, Any], parameters: dict[str, Any] | None = None) -> list[bool]:
    """Allowed? for every API and, for pods, for the Deployment and CronJob around it."""
    shapes = [obj]
    if obj["kind"] == "Pod":
        shapes += [as_controller(obj, "Deployment"), as_controller(obj, "CronJob")]
    verdicts = []
    for api in APIS:
        manifest = render(name, parameters, api=api, failure_action="Enforce")
        for shape in shapes:
            verdict = evaluate_policy(manifest, copy.deepcopy(shape))
            assert verdict.matched, f"{name} did not match a {shape['kind']}"
            verdicts.append(verdict.allowed)
    return verdicts


def assert_denied(name: str, obj: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
    assert not any(judge(name, obj, parameters)), f"{name} allowed it"


def assert_allowed(
    name: str, obj: dict[str, Any], parameters: dict[str, Any] | None = None
) -> None:
    assert all(judge(name, obj, parameters)), f"{name} denied it"


Case = tuple[str, dict[str, Any] | None, Callable[[], dict[str, Any]], Callable[[], dict[str, Any]]]
CASES: dict[str, Case] = {
    "privileged container": (
        "disallow-privileged-containers",
        None,
        lambda: pod(container(securityContext={"privileged": True})),
        lambda: pod(container(securityContext={"privileged": False})),
    ),
    "privileged init container": (
        "disallow-privileged-containers",
        None,
        lambda: pod(container(), init=[container("migrate", securityContext={"privileged": True})]),
        lambda: pod(container(), init=[container("migrate")]),
    ),
    "privileged ephemeral container": (
        "disallow-privileged-containers",
        None,
        lambda: pod(ephemeral=[container("debug", securityContext={"privileged": True})]),
        lambda: pod(ephemeral=[container("debug", securityContext={"capabilities": {}})]),
    ),
    "latest tag": (
        "disallow-latest-tag",
        None,
        lambda: pod(container(image="ghcr.io/acme/api:latest")),
        lambda: pod(container(image="ghcr.io/acme/api:2.3.1")),
    ),
    "untagged image": (
        "disallow-latest-tag",
        None,
        lambda: pod(container(image="redis")),
        lambda: pod(container(image="redis:7.2.4")),
    ),
    "untagged image behind a registry port": (
        "disallow-latest-tag",
        None,
        lambda: pod(container(image="registry.corp.example:5000/platform/api")),
        lambda: pod(container(image="registry.corp.example:5000/platform/api:1.0")),
    ),
    "latest tag in an init container, digest-only main image": (
        "disallow-latest-tag",
        None,
        lambda: pod(
            container(image="ghcr.io/acme/api@sha256:" + "a" * 64),
            init=[container("init", image="busybox:latest")],
        ),
        lambda: pod(
            container(image="ghcr.io/acme/api@sha256:" + "a" * 64),
            init=[container("init", image="busybox@sha256:" + "b" * 64)],
        ),
    ),
    "registry outside the allowlist": (
        "restrict-image-registries",
        REGISTRIES,
        lambda: pod(container(image="quay.io/acme/api:1")),
        lambda: pod(container(image="ghcr.io/acme/api:1")),
    ),
    "allowed registry with a different path": (
        "restrict-image-registries",
        REGISTRIES,
        lambda: pod(container(image="registry.corp.example:5000/other/api:1")),
        lambda: pod(container(image="registry.corp.example:5000/platform/api:1")),
    ),
    "same host on another port": (
        "restrict-image-registries",
        REGISTRIES,
        lambda: pod(container(image="registry.corp.example:5001/platform/api:1")),
        lambda: pod(container(image="registry.corp.example:5000/platform/sub/api:1")),
    ),
    "look-alike organisation": (
        "restrict-image-registries",
        REGISTRIES,
        lambda: pod(container(image="ghcr.io/acme-evil/api:1")),
        lambda: pod(container(image="ghcr.io/acme/api:1")),
    ),
    "Docker Hub short name is docker.io": (
        "restrict-image-registries",
        {"registries": ["ghcr.io/acme"]},
        lambda: pod(container(image="nginx:1.27.0")),
        lambda: pod(container(image="ghcr.io/acme/nginx:1.27.0")),
    ),
    "disallowed ephemeral debug image": (
        "restrict-image-registries",
        REGISTRIES,
        lambda: pod(ephemeral=[container("debug", image="quay.io/tools/netshoot:1")]),
        lambda: pod(ephemeral=[container("debug", image="library/busybox:1.36")]),
    ),
    "no requests or limits": (
        "require-requests-limits",
        None,
        lambda: pod(container()),
        lambda: pod(container(resources=SIZED)),
    ),
    "no memory request": (
        "require-requests-limits",
        None,
        lambda: pod(container(resources={"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}})),
        lambda: pod(
            container(
                resources={"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
            )
        ),
    ),
    "init container without resources": (
        "require-requests-limits",
        None,
        lambda: pod(container(resources=SIZED), init=[container("init")]),
        lambda: pod(container(resources=SIZED), init=[container("init", resources=SIZED)]),
    ),
    "no labels": (
        "require-labels",
        LABELS,
        lambda: pod(),
        lambda: pod(labels={"app.kubernetes.io/name": "web", "tenantguard.io/tenant": "acme"}),
    ),
    "one required label missing": (
        "require-labels",
        LABELS,
        lambda: pod(labels={"app.kubernetes.io/name": "web"}),
        lambda: pod(labels={"app.kubernetes.io/name": "web", "tenantguard.io/tenant": "acme"}),
    ),
    "required label empty": (
        "require-labels",
        LABELS,
        lambda: pod(labels={"app.kubernetes.io/name": "", "tenantguard.io/tenant": "acme"}),
        lambda: pod(labels={"app.kubernetes.io/name": "w", "tenantguard.io/tenant": "acme"}),
    ),
    "running as root (nothing set)": (
        "require-run-as-nonroot",
        None,
        lambda: pod(container(securityContext={"runAsUser": 0})),
        lambda: pod(
            container(securityContext={"runAsUser": 1000}), securityContext={"runAsNonRoot": True}
        ),
    ),
    "root allowed explicitly": (
        "require-run-as-nonroot",
        None,
        lambda: pod(container(securityContext={"runAsNonRoot": False})),
        lambda: pod(container(securityContext={"runAsNonRoot": True})),
    ),
    "ephemeral container may run as root": (
        "require-run-as-nonroot",
        None,
        lambda: pod(container(**secured()), ephemeral=[container("debug")]),
        lambda: pod(container(**secured()), ephemeral=[container("debug", **secured())]),
    ),
    "privilege escalation allowed by default": (
        "disallow-privilege-escalation",
        None,
        lambda: pod(container(securityContext={"runAsNonRoot": True})),
        lambda: pod(container(**secured())),
    ),
    "host network": (
        "disallow-host-namespaces",
        None,
        lambda: pod(hostNetwork=True),
        lambda: pod(hostNetwork=False),
    ),
    "host path": (
        "disallow-host-path",
        None,
        lambda: pod(volumes=[{"name": "root", "hostPath": {"path": "/"}}]),
        lambda: pod(volumes=[{"name": "tmp", "emptyDir": {"medium": "Memory"}}]),
    ),
    "SYS_ADMIN capability": (
        "disallow-capabilities",
        None,
        lambda: pod(container(securityContext={"capabilities": {"add": ["SYS_ADMIN"]}})),
        lambda: pod(container(securityContext={"capabilities": {"add": ["NET_BIND_SERVICE"]}})),
    ),
    "capabilities not dropped": (
        "require-drop-all",
        None,
        lambda: pod(container(securityContext={"capabilities": {"drop": ["NET_RAW"]}})),
        lambda: pod(container(securityContext={"capabilities": {"drop": ["ALL"]}})),
    ),
    "unconfined seccomp": (
        "restrict-seccomp",
        None,
        lambda: pod(container(securityContext={"seccompProfile": {"type": "Unconfined"}})),
        lambda: pod(container(securityContext={"seccompProfile": {"type": "RuntimeDefault"}})),
    ),
}


def service(**spec: Any) -> dict[str, Any]:
    body = {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}], **spec}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": body,
    }


CASES.update(
    {
        "NodePort service": (
            "disallow-nodeport-services",
            None,
            lambda: service(type="NodePort"),
            lambda: service(type="ClusterIP"),
        ),
        "NodePort service with explicit port": (
            "disallow-nodeport-services",
            None,
            lambda: service(type="NodePort", ports=[{"port": 80, "nodePort": 31000}]),
            lambda: service(type="LoadBalancer"),
        ),
    }
)


def test_every_template_has_a_case_here() -> None:
    assert {name for name, *_ in CASES.values()} == {t.name for t in catalog()}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_violation_is_denied(case: str) -> None:
    name, parameters, violating, _ = CASES[case]
    assert_denied(name, violating(), parameters)


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_compliant_twin_is_allowed(case: str) -> None:
    name, parameters, _, compliant = CASES[case]
    assert_allowed(name, compliant(), parameters)


def test_a_fully_hardened_pod_passes_every_template() -> None:
    hardened = pod(
        container(
            image="ghcr.io/acme/api:2.3.1",
            resources=SIZED,
            **secured(
                capabilities={"drop": ["ALL"]},
                seccompProfile={"type": "RuntimeDefault"},
            ),
        ),
        init=[
            container(
                "init",
                image="docker.io/library/busybox:1.36",
                resources=SIZED,
                **secured(capabilities={"drop": ["ALL"]}),
            )
        ],
        labels={"app.kubernetes.io/name": "web", "tenantguard.io/tenant": "acme"},
    )
    parameters = {"restrict-image-registries": REGISTRIES, "require-labels": LABELS}
    for template in catalog():
        if template.target.kind == "Pod":
            assert_allowed(template.name, hardened, parameters.get(template.name))


def test_a_deployment_is_judged_by_its_pod_template_not_its_own_metadata() -> None:
    unlabelled = as_controller(pod(), "Deployment")
    unlabelled["metadata"]["labels"] = {
        "app.kubernetes.io/name": "web",
        "tenantguard.io/tenant": "a",
    }
    for api in APIS:
        verdict = evaluate_policy(render("require-labels", LABELS, api=api), unlabelled)
        assert verdict.matched and not verdict.allowed


def test_a_statefulset_with_a_privileged_container_is_denied() -> None:
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop"},
        "spec": {
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "containers": [
                        {
                            "name": "db",
                            "image": "postgres:16",
                            "securityContext": {"privileged": True},
                        }
                    ]
                },
            },
        },
    }
    for api in APIS:
        verdict = evaluate_policy(render("disallow-privileged-containers", api=api), statefulset)
        assert verdict.matched and not verdict.allowed
