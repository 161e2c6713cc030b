"""The templates' CEL, evaluated with cel-python the way Kyverno binds it.

Shipped samples must be judged right by both APIs, on Pods and, through Kyverno's autogen
rewrite, on every pod controller. Parameters reach the CEL only as escaped literals: hostile
values (quotes, backslashes, text that Kyverno's autogen would rewrite) stay data.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from components.policies import catalog, get_template, render
from components.policies.expressions import cel_string, cel_string_list
from components.policies.images import (
    from_registries,
    has_digest,
    has_tag,
    image_allowed,
    normalize_reference,
)
from components.policies.template import PolicyTemplate
from tests.components.policies.cel import (
    CelEvaluationError,
    as_controller,
    evaluate_expression,
    evaluate_policy,
    rewrite_for_controller,
    to_python,
)

TEMPLATES = catalog()
NAMES = [t.name for t in TEMPLATES]
APIS = ["validatingpolicy", "clusterpolicy"]
CONTROLLERS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]


def _shapes(template: PolicyTemplate, obj: dict[str, Any]) -> list[dict[str, Any]]:
    if not template.target.autogen:
        return [obj]
    return [obj, *(as_controller(obj, kind) for kind in CONTROLLERS)]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("template", TEMPLATES, ids=NAMES)
def test_good_samples_are_allowed(template: PolicyTemplate, api: str) -> None:
    samples = template.samples()
    manifest = render(template.name, samples.parameters, api=api)
    for sample in samples.good:
        for obj in _shapes(template, sample.object):
            verdict = evaluate_policy(manifest, obj)
            assert verdict.matched, f"{sample.description} ({obj['kind']}) was not matched"
            assert verdict.allowed, f"{sample.description} ({obj['kind']}): {verdict.failures}"


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("template", TEMPLATES, ids=NAMES)
def test_bad_samples_are_denied_with_the_template_message(
    template: PolicyTemplate, api: str
) -> None:
    samples = template.samples()
    manifest = render(template.name, samples.parameters, api=api, failure_action="Enforce")
    messages = {
        v.message
        for v in template.body(template.parameters.model_validate(samples.parameters)).validations
    }
    for sample in samples.bad:
        for obj in _shapes(template, sample.object):
            verdict = evaluate_policy(manifest, obj)
            assert verdict.matched, f"{sample.description} ({obj['kind']}) was not matched"
            assert not verdict.allowed, f"{sample.description} ({obj['kind']}) was allowed"
            assert set(verdict.failures) <= messages


@pytest.mark.parametrize("template", TEMPLATES, ids=NAMES)
def test_update_with_old_object_is_judged_on_the_new_object(template: PolicyTemplate) -> None:
    samples = template.samples()
    manifest = render(template.name, samples.parameters)
    good, bad = samples.good[0].object, samples.bad[0].object
    assert evaluate_policy(manifest, bad, operation="UPDATE", old_object=good).failures
    assert evaluate_policy(manifest, good, operation="UPDATE", old_object=bad).allowed


def test_policies_ignore_what_they_do_not_match() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"type": "NodePort"},
    }
    assert not evaluate_policy(render("disallow-nodeport-services"), pod).matched
    assert not evaluate_policy(render("disallow-host-path"), service).matched
    namespaced = render("disallow-host-path", namespace="team-a")
    assert not evaluate_policy(
        namespaced, {**pod, "metadata": {"name": "p", "namespace": "b"}}
    ).matched
    assert evaluate_policy(
        namespaced, {**pod, "metadata": {"name": "p", "namespace": "team-a"}}
    ).matched


# --- the harness behaves like cel-go ---------------------------------------------------


def test_has_on_a_missing_parent_is_an_error_as_in_cel_go() -> None:
    assert to_python(evaluate_expression("has(a.b)", {"a": {}})) is False
    assert to_python(evaluate_expression("has(a.b.c)", {"a": {"b": {"c": 1}}})) is True
    with pytest.raises(CelEvaluationError):
        evaluate_expression("has(a.b.c)", {"a": {}})
    assert to_python(evaluate_expression("has(a.b) && has(a.b.c)", {"a": {}})) is False


def test_autogen_rewrite_moves_pod_fields_under_the_template() -> None:
    expressions = ["object.spec.containers", "object.metadata.labels", "oldObject.spec.volumes"]
    assert rewrite_for_controller(expressions, "Deployment") == [
        "object.spec.template.spec.containers",
        "object.spec.template.metadata.labels",
        "oldObject.spec.template.spec.volumes",
    ]
    assert rewrite_for_controller(expressions[:1], "CronJob") == [
        "object.spec.jobTemplate.spec.template.spec.containers"
    ]


def test_cel_errors_surface_instead_of_passing() -> None:
    manifest = render("disallow-host-path")
    manifest["spec"]["validations"][0]["expression"] = "object.spec.volumes.size() == 0"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}}
    with pytest.raises(CelEvaluationError):
        evaluate_policy(manifest, pod)
    manifest["spec"]["validations"][0]["expression"] = "'not a boolean'"
    with pytest.raises(CelEvaluationError, match="not a boolean"):
        evaluate_policy(manifest, pod)


# --- quoting -------------------------------------------------------------------------

HOSTILE = [
    "",
    'quote"inside',
    "single'quote",
    "back\\slash",
    "trailing backslash\\",
    '\\"',
    '" + "injected',
    '"] || true || ["',
    "') || true || ('",
    "new\nline\ttab\rreturn",
    "nul\x00byte\x7fdel",
    "unicode é ü 漢字 \u2028",
    "emoji \U0001f600",
    "object.spec.containers",
    "oldObject.metadata.name",
    "OBJECT.spec",
    "\\x2e",
    "${variables.x}",
    "r'raw'",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_cel_string_evaluates_back_to_exactly_the_value(value: str) -> None:
    assert to_python(evaluate_expression(cel_string(value), {})) == value


def test_cel_string_round_trips_random_text() -> None:
    rng = random.Random(20240611)
    alphabet = ['"', "'", "\\", ".", "\n", "\x00", "é", "\U0001f600", "object", "a", "/", ":", " "]
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(200)]
    assert to_python(evaluate_expression(cel_string_list(values), {})) == values


@pytest.mark.parametrize("value", HOSTILE)
def test_cel_string_survives_kyverno_autogen_rewrite(value: str) -> None:
    [rewritten] = rewrite_for_controller([cel_string(value)], "CronJob")
    assert to_python(evaluate_expression(rewritten, {})) == value


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        cel_string("bad\ud800")


def _with_body(name: str, valid: dict[str, Any], hostile: Any) -> dict[str, Any]:
    """A rendered policy whose CEL comes from `hostile` parameters that skipped validation."""
    template = get_template(name)
    body = template.body(template.parameters.model_construct(**hostile))
    manifest = render(name, valid)
    manifest["spec"]["variables"] = [
        {"name": v.name, "expression": v.expression} for v in body.variables
    ]
    manifest["spec"]["validations"] = [
        {"expression": v.expression, "message": v.message} for v in body.validations
    ]
    return manifest


def _pod(images: list[str], labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", **({"labels": labels} if labels is not None else {})},
        "spec": {
            "containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
        },
    }


def test_a_hostile_registry_stays_a_literal() -> None:
    hostile = 'ghcr.io/acme"].exists(p, true) || ["'
    manifest = _with_body(
        "restrict-image-registries", {"registries": ["ghcr.io/acme"]}, {"registries": (hostile,)}
    )
    assert not evaluate_policy(manifest, _pod(["quay.io/evil/miner:1"])).allowed
    assert not evaluate_policy(manifest, _pod(["ghcr.io/acme/api:1"])).allowed
    assert evaluate_policy(manifest, _pod([hostile + "/api:1"])).allowed


def test_a_hostile_label_key_stays_a_literal() -> None:
    hostile = 'team" in object.metadata.labels || "x\\'
    manifest = _with_body("require-labels", {"labels": ["team"]}, {"labels": (hostile,)})
    assert not evaluate_policy(manifest, _pod(["nginx:1"], {"team": "a", "x\\": "b"})).allowed
    assert evaluate_policy(manifest, _pod(["nginx:1"], {hostile: "yes"})).allowed


def test_parameters_that_look_like_pod_paths_survive_autogen() -> None:
    registries = render("restrict-image-registries", {"registries": ["object.spec.example.com"]})
    good = as_controller(_pod(["object.spec.example.com/app:1"]), "Deployment")
    bad = as_controller(_pod(["object.spec.template.spec.example.com/app:1"]), "Deployment")
    assert evaluate_policy(registries, good).allowed
    assert not evaluate_policy(registries, bad).allowed

    labels = render(
        "require-labels", {"labels": ["object.metadata.example.com/team"]}, api="clusterpolicy"
    )
    labelled = _pod(["nginx:1"], {"object.metadata.example.com/team": "a"})
    assert evaluate_policy(labels, as_controller(labelled, "CronJob")).allowed
    assert not evaluate_policy(labels, as_controller(_pod(["nginx:1"], {}), "CronJob")).allowed


# --- image references ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "normalized"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("nginx:1.25", "docker.io/library/nginx:1.25"),
        ("library/nginx", "docker.io/library/nginx"),
        ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
        ("docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25"),
        ("ghcr.io/acme/api:1", "ghcr.io/acme/api:1"),
        ("localhost/app", "localhost/app"),
        ("localhost:5000/app:1.0", "localhost:5000/app:1.0"),
        ("localhostx/app", "docker.io/localhostx/app"),
        ("10.0.0.5:5000/app", "10.0.0.5:5000/app"),
        ("nginx@sha256:abc", "docker.io/library/nginx@sha256:abc"),
        ("docker.io/nginx", "docker.io/library/nginx"),
        ("index.docker.io/nginx:1", "docker.io/library/nginx:1"),
        ("index.docker.io/acme/api", "docker.io/acme/api"),
        ("registry-1.docker.io/nginx", "registry-1.docker.io/nginx"),
        ("Acme/api:1", "Acme/api:1"),
    ],
)
def test_normalize_reference(image: str, normalized: str) -> None:
    assert normalize_reference(image) == normalized


@pytest.mark.parametrize(
    ("image", "tagged", "digest"),
    [
        ("nginx", False, False),
        ("nginx:1.25", True, False),
        ("nginx:latest", True, False),
        ("localhost:5000/app", False, False),
        ("localhost:5000/app:1.0", True, False),
        ("nginx@sha256:0123abcd", False, True),
        ("localhost:5000/app@sha256:0123abcd", False, True),
        ("nginx:1.25@sha256:0123abcd", True, True),
        ("registry.example.com/a/b/c:v1_2-3.4", True, False),
    ],
)
def test_tag_and_digest_detection(image: str, tagged: bool, digest: bool) -> None:
    assert to_python(evaluate_expression(has_tag("i"), {"i": image})) is tagged
    assert to_python(evaluate_expression(has_digest("i"), {"i": image})) is digest


@pytest.mark.parametrize(
    ("reference", "allowed"),
    [
        ("docker.io/library/nginx:1.25", True),
        ("ghcr.io/acme/api:1", True),
        ("ghcr.io/acme:1", True),
        ("ghcr.io/acme", True),
        ("ghcr.io/acme@sha256:abc", True),
        ("ghcr.io/acme/team/api@sha256:abc", True),
        ("ghcr.io/other/x:1", False),
        ("ghcr.io/acmecorp/x:1", False),
        ("ghcr.io/x", False),
        ("docker.io.evil.com/x:1", False),
        ("localhost:5000/app:1", True),
        ("localhost/app:1", False),
        ("localhost:50000/app:1", False),
    ],
)
def test_registry_prefix_matching(reference: str, allowed: bool) -> None:
    registries = ["docker.io", "ghcr.io/acme", "localhost:5000"]
    expression = from_registries("r", registries)
    assert to_python(evaluate_expression(expression, {"r": reference})) is allowed
    assert image_allowed(reference, registries) is allowed
