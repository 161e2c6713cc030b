"""render_set(): the main policy plus, for ValidatingPolicies, the `kubectl debug` companion.

`kubectl debug` PATCHes `pods/ephemeralcontainers`, which admission sees as an UPDATE of
that subresource with the whole Pod as object. The main ValidatingPolicy never matches it
(the hole), the companion does and judges the ephemeral containers; the main policy keeps
its pod-controller autogen. Legacy ClusterPolicies need no companion: Kyverno matches the
subresource for rules on Pods itself.
"""

from __future__ import annotations

import copy
import inspect
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from components.policies import catalog, render, render_set
from components.policies.render import POD_CONTROLLERS
from tests.components.kyverno_schema import KyvernoSchemas
from tests.components.policies.cel import as_controller, evaluate_policy, rule_matches

NAMES = [t.name for t in catalog()]
PARAMETERS = {t.name: t.samples().parameters for t in catalog()}
REGISTRIES = {"registries": ["ghcr.io/acme", "docker.io/library"]}
WITH_COMPANION = {
    "disallow-privileged-containers",
    "disallow-capabilities",
    "restrict-seccomp",
    "disallow-privilege-escalation",
    "require-run-as-nonroot",
    "disallow-latest-tag",
    "restrict-image-registries",
    "require-drop-all",
}
HARDENED = {
    "allowPrivilegeEscalation": False,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
SIZED = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}}


def _container(name: str, image: str, **security: Any) -> dict[str, Any]:
    return {"name": name, "image": image, "securityContext": {**HARDENED, **security}}


def _running_pod() -> dict[str, Any]:
    """A pod every template allows, as it runs before anyone debugs it."""
    app = _container("app", "ghcr.io/acme/api:2.3.1")
    app["resources"] = SIZED
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "team-a",
            "labels": {"app.kubernetes.io/name": "web", "team": "a"},
        },
        "spec": {"containers": [app]},
    }


def _debugged(debug: dict[str, Any]) -> dict[str, Any]:
    """The pod as the ephemeralcontainers subresource UPDATE presents it: debug container added."""
    pod = _running_pod()
    pod["spec"]["ephemeralContainers"] = [{**debug, "targetContainerName": "app"}]
    return pod


def _compliant_debug() -> dict[str, Any]:
    return _container("debugger", "busybox:1.36")


def _without(field: str) -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        debug = _compliant_debug()
        del debug["securityContext"][field]
        return debug

    return make


def _with(**security: Any) -> Callable[[], dict[str, Any]]:
    return lambda: _container("debugger", "busybox:1.36", **security)


VIOLATIONS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "privileged (kubectl debug --profile=sysadmin)": (
        "disallow-privileged-containers",
        _with(privileged=True),
    ),
    "SYS_ADMIN added": (
        "disallow-capabilities",
        _with(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
    ),
    "NET_ADMIN added (kubectl debug --profile=netadmin)": (
        "disallow-capabilities",
        _with(capabilities={"drop": ["ALL"], "add": ["NET_ADMIN", "NET_RAW"]}),
    ),
    "unconfined seccomp": ("restrict-seccomp", _with(seccompProfile={"type": "Unconfined"})),
    "privilege escalation allowed": (
        "disallow-privilege-escalation",
        _with(allowPrivilegeEscalation=True),
    ),
    "runs as root": ("require-run-as-nonroot", _without("runAsNonRoot")),
    "explicitly root": ("require-run-as-nonroot", _with(runAsNonRoot=False, runAsUser=0)),
    "latest tag": (
        "disallow-latest-tag",
        lambda: _container("debugger", "nicolaka/netshoot:latest"),
    ),
    "untagged debug image": ("disallow-latest-tag", lambda: _container("debugger", "busybox")),
    "unapproved registry": (
        "restrict-image-registries",
        lambda: _container("debugger", "quay.io/tools/netshoot:1"),
    ),
    "Docker Hub namespace outside docker.io/library": (
        "restrict-image-registries",
        lambda: _container("debugger", "docker.io/nicolaka/netshoot:0.13"),
    ),
    "capabilities not dropped": ("require-drop-all", _without("capabilities")),
}


def _parameters(name: str) -> dict[str, Any]:
    return REGISTRIES if name == "restrict-image-registries" else PARAMETERS[name]


def _companion(name: str, **kwargs: Any) -> dict[str, Any]:
    _main, companion = render_set(name, _parameters(name), **kwargs)
    return companion


def _debug(manifest: dict[str, Any], debug: dict[str, Any]):
    """The verdict on `kubectl debug` adding `debug` to the running pod."""
    return evaluate_policy(
        manifest,
        _debugged(debug),
        operation="UPDATE",
        old_object=_running_pod(),
        subresource="ephemeralcontainers",
    )


# --- the set ---------------------------------------------------------------------------


def test_render_set_takes_exactly_renders_arguments() -> None:
    ours, theirs = inspect.signature(render_set), inspect.signature(render)
    assert list(ours.parameters.values()) == list(theirs.parameters.values())


@pytest.mark.parametrize("name", NAMES)
def test_the_legacy_api_gets_only_the_main_policy(name: str) -> None:
    for namespace, action in itertools.product([None, "team-a"], ["Audit", "Enforce"]):
        kwargs = {"namespace": namespace, "api": "clusterpolicy", "failure_action": action}
        assert render_set(name, PARAMETERS[name], **kwargs) == [
            render(name, PARAMETERS[name], **kwargs)
        ]


@pytest.mark.parametrize("name", NAMES)
def test_the_main_policy_comes_first_and_unchanged(name: str) -> None:
    for namespace, action in itertools.product([None, "team-a"], ["Audit", "Enforce"]):
        kwargs = {"namespace": namespace, "failure_action": action}
        manifests = render_set(name, PARAMETERS[name], **kwargs)
        assert manifests[0] == render(name, PARAMETERS[name], **kwargs)
        assert len(manifests) == (2 if name in WITH_COMPANION else 1)


def test_exactly_the_container_templates_get_a_companion() -> None:
    got = {name for name in NAMES if len(render_set(name, PARAMETERS[name])) == 2}
    assert got == WITH_COMPANION


def test_render_set_refuses_what_render_refuses() -> None:
    with pytest.raises(ValueError, match="api must be one of"):
        render_set("disallow-host-path", api="ValidatingPolicy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="render\\(\\): namespace"):
        render_set("disallow-host-path", namespace="Team_A")
    with pytest.raises(ValueError, match="parameter 'registries'"):
        render_set("restrict-image-registries", {"registries": "docker.io"})


@pytest.mark.parametrize("name", sorted(WITH_COMPANION))
def test_companion_name_kind_and_metadata(name: str) -> None:
    for namespace in (None, "team-a"):
        main, companion = render_set(name, PARAMETERS[name], namespace=namespace)
        assert companion["metadata"]["name"] == f"{name}-ephemeral"
        assert len(companion["metadata"]["name"]) <= 63
        assert (companion["apiVersion"], companion["kind"]) == (main["apiVersion"], main["kind"])
        assert companion["metadata"].get("namespace") == namespace
        labels = companion["metadata"]["labels"]
        assert labels["tenantguard.io/policy-template"] == name
        assert labels["tenantguard.io/policy-companion"] == "ephemeralcontainers"
        assert labels["app.kubernetes.io/managed-by"] == "tenantguard"
        assert "kubectl debug" in companion["metadata"]["annotations"]["policies.kyverno.io/title"]


@pytest.mark.parametrize("name", sorted(WITH_COMPANION))
def test_companion_matches_only_the_subresource_and_main_keeps_autogen(name: str) -> None:
    for action, expected in (("Audit", ["Audit"]), ("Enforce", ["Deny"])):
        main, companion = render_set(name, PARAMETERS[name], failure_action=action)
        assert companion["spec"]["validationActions"] == expected
        assert companion["spec"]["matchConstraints"] == {
            "resourceRules": [
                {
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": ["UPDATE"],
                    "resources": ["pods/ephemeralcontainers"],
                }
            ]
        }
        assert "autogen" not in companion["spec"]
        [rule] = main["spec"]["matchConstraints"]["resourceRules"]
        assert rule["resources"] == ["pods"]
        assert not any("/" in r for r in rule["resources"])
        assert main["spec"]["autogen"] == {"podControllers": {"controllers": list(POD_CONTROLLERS)}}


@pytest.mark.parametrize(
    ("name", "namespace", "action"),
    list(itertools.product(sorted(WITH_COMPANION), [None, "team-a"], ["Audit", "Enforce"])),
)
def test_companions_validate_against_the_kyverno_crds(
    kyverno_schemas: KyvernoSchemas, name: str, namespace: str | None, action: str
) -> None:
    for manifest in render_set(name, PARAMETERS[name], namespace=namespace, failure_action=action):
        assert kyverno_schemas.problems(manifest) == []


@pytest.mark.parametrize("name", sorted(WITH_COMPANION))
def test_companion_keeps_the_template_messages(name: str) -> None:
    main, companion = render_set(name, PARAMETERS[name])
    assert [v["message"] for v in companion["spec"]["validations"]] == [
        v["message"] for v in main["spec"]["validations"]
    ]


# --- kubectl debug, judged ----------------------------------------------------------------


def test_the_running_pod_and_the_compliant_debug_container_pass_every_template() -> None:
    for name in NAMES:
        if name == "disallow-nodeport-services":
            continue
        main = render(name, _parameters(name), failure_action="Enforce")
        assert evaluate_policy(main, _running_pod()).allowed, name
        assert evaluate_policy(main, _debugged(_compliant_debug())).allowed, name


@pytest.mark.parametrize("name", sorted(WITH_COMPANION))
def test_a_compliant_debug_container_is_allowed_by_every_companion(name: str) -> None:
    verdict = _debug(_companion(name, failure_action="Enforce"), _compliant_debug())
    assert verdict.matched and verdict.allowed, verdict.failures


@pytest.mark.parametrize("case", VIOLATIONS, ids=list(VIOLATIONS))
def test_a_violating_debug_container_is_denied_by_the_companion(case: str) -> None:
    name, debug = VIOLATIONS[case]
    companion = _companion(name, failure_action="Enforce")
    verdict = _debug(companion, debug())
    assert verdict.matched and not verdict.allowed
    main = render(name, _parameters(name), failure_action="Enforce")
    assert set(verdict.failures) <= {v["message"] for v in main["spec"]["validations"]}
    # The same pod created directly is denied by the main policy: the rules are the same.
    assert not evaluate_policy(main, _debugged(debug())).allowed


@pytest.mark.parametrize("case", VIOLATIONS, ids=list(VIOLATIONS))
def test_without_the_companion_the_validating_policy_misses_kubectl_debug(case: str) -> None:
    name, debug = VIOLATIONS[case]
    main = render(name, _parameters(name), failure_action="Enforce")
    assert not _debug(main, debug()).matched


@pytest.mark.parametrize("case", VIOLATIONS, ids=list(VIOLATIONS))
def test_a_legacy_cluster_policy_judges_kubectl_debug_itself(case: str) -> None:
    name, debug = VIOLATIONS[case]
    [legacy] = render_set(name, _parameters(name), api="clusterpolicy", failure_action="Enforce")
    verdict = _debug(legacy, debug())
    assert verdict.matched and not verdict.allowed
    assert _debug(legacy, _compliant_debug()).allowed


@pytest.mark.parametrize("name", sorted(WITH_COMPANION))
def test_the_companion_ignores_everything_but_the_subresource(name: str) -> None:
    companion = _companion(name)
    bad = _debugged(VIOLATIONS[next(c for c in VIOLATIONS if VIOLATIONS[c][0] == name)][1]())
    for operation in ("CREATE", "UPDATE"):
        assert not evaluate_policy(companion, bad, operation=operation).matched
    assert not evaluate_policy(companion, bad, subresource="ephemeralcontainers").matched  # CREATE
    assert not evaluate_policy(
        companion, bad, operation="UPDATE", subresource="status", old_object=_running_pod()
    ).matched
    for kind in ("Deployment", "CronJob"):
        assert not evaluate_policy(companion, as_controller(bad, kind)).matched


def test_the_companion_judges_only_ephemeral_containers() -> None:
    companion = _companion("disallow-privileged-containers", failure_action="Enforce")
    pod = _debugged(_compliant_debug())
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = True  # admitted earlier
    assert _debug_pod(companion, pod).allowed
    seccomp = _companion("restrict-seccomp", failure_action="Enforce")
    unconfined_pod = _debugged(_without("seccompProfile")())
    unconfined_pod["spec"]["securityContext"] = {"seccompProfile": {"type": "Unconfined"}}
    assert not _debug_pod(seccomp, unconfined_pod).allowed  # inherited by the debug container
    nonroot = _companion("require-run-as-nonroot", failure_action="Enforce")
    inherits = _debugged(_without("runAsNonRoot")())
    inherits["spec"]["securityContext"] = {"runAsNonRoot": True}
    assert _debug_pod(nonroot, inherits).allowed


def _debug_pod(manifest: dict[str, Any], pod: dict[str, Any]):
    old = copy.deepcopy(pod)
    old["spec"].pop("ephemeralContainers")
    return evaluate_policy(
        manifest, pod, operation="UPDATE", old_object=old, subresource="ephemeralcontainers"
    )


def test_a_namespaced_companion_applies_in_its_namespace_only() -> None:
    companion = _companion("disallow-privileged-containers", namespace="team-a")
    privileged = _with(privileged=True)()
    assert _debug(companion, privileged).matched
    elsewhere = _companion("disallow-privileged-containers", namespace="team-b")
    assert not _debug(elsewhere, privileged).matched


# --- the evaluator matches like the API server -----------------------------------------


@pytest.mark.parametrize(
    ("resources", "subresource", "matched"),
    [
        (["pods"], "", True),
        (["pods"], "ephemeralcontainers", False),
        (["pods/ephemeralcontainers"], "ephemeralcontainers", True),
        (["pods/ephemeralcontainers"], "", False),
        (["pods/ephemeralcontainers"], "status", False),
        (["pods/*"], "", True),
        (["pods/*"], "ephemeralcontainers", True),
        (["*"], "", True),
        (["*"], "ephemeralcontainers", False),
        (["*/ephemeralcontainers"], "ephemeralcontainers", True),
        (["*/*"], "ephemeralcontainers", True),
        (["services/*"], "ephemeralcontainers", False),
    ],
)
def test_rule_matching_follows_the_api_server(
    resources: list[str], subresource: str, matched: bool
) -> None:
    rule = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": []}
    rule["resources"] = resources
    assert rule_matches(rule, "", "v1", "pods", subresource, "UPDATE") is matched
    assert rule_matches(rule, "", "v1", "pods", subresource, "CREATE") is False
    assert rule_matches({**rule, "operations": ["*"]}, "", "v1", "pods", subresource, "CREATE") is (
        matched
    )


def test_listing_the_subresource_in_the_main_policy_would_switch_autogen_off() -> None:
    main = render("disallow-privileged-containers", failure_action="Enforce")
    deployment = as_controller(_debugged(_with(privileged=True)()), "Deployment")
    assert evaluate_policy(main, deployment).matched
    widened = copy.deepcopy(main)
    widened["spec"]["matchConstraints"]["resourceRules"][0]["resources"].append(
        "pods/ephemeralcontainers"
    )
    assert not evaluate_policy(widened, deployment).matched
