"""Docker Hub's implicit host and `library/`: every spelling of an image is judged alike.

Docker normalises `nginx`, `library/nginx`, `docker.io/nginx` and `index.docker.io/nginx`
to `docker.io/library/nginx`. The Python allowlist check (`image_allowed`) and the rendered
CEL (both APIs, through the evaluator) must agree with each other on every spelling against
every allowlist spelling, and with the expectations written out here.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.policies import PolicyParameterError, render, validate_parameters
from components.policies.images import (
    check_registry_prefix,
    image_allowed,
    normalize_reference,
    prefix_allowed,
)
from tests.components.policies.cel import as_controller, evaluate_policy

DIGEST = "@sha256:" + "a" * 64
OFFICIAL_NGINX = [
    "nginx",
    "nginx:1.27",
    "nginx" + DIGEST,
    "nginx:1.27" + DIGEST,
    "library/nginx",
    "library/nginx:1.27",
    "docker.io/nginx",
    "docker.io/nginx:1.27",
    "docker.io/nginx" + DIGEST,
    "docker.io/library/nginx",
    "docker.io/library/nginx:1.27",
    "index.docker.io/nginx",
    "index.docker.io/nginx:1.27",
    "index.docker.io/library/nginx",
    "index.docker.io/library/nginx:1.27",
]
OFFICIAL_REDIS = ["redis:7", "docker.io/redis:7", "index.docker.io/library/redis:7"]
BITNAMI = ["bitnami/redis:7", "docker.io/bitnami/redis:7", "index.docker.io/bitnami/redis:7"]
NGINX_NAMESPACE = ["nginx/unit:1", "docker.io/nginx/unit:1", "index.docker.io/nginx/unit:1"]
ELSEWHERE = [
    "registry-1.docker.io/library/nginx:1.27",
    "registry-1.docker.io/nginx:1.27",
    "ghcr.io/acme/api:1",
    "ghcr.io/library/nginx:1",
    "docker.io.evil.com/library/nginx:1",
    "evil.com/docker.io/library/nginx:1",
    "localhost/nginx:1",
    "localhost:5000/library/nginx:1",
    "Library/nginx:1",
    "Docker.io/library/nginx:1",
    "nginx.example/library/nginx:1",
]
ODD = [
    "library",
    "library:1",
    "docker.io/library",
    "docker.io/library:1",
    "nginxx:1",
    "docker.io/nginxx:1",
    "library/nginx/extra:1",
    "docker.io/library/nginx/extra:1",
    "nginx-unit:1",
]
IMAGES = OFFICIAL_NGINX + OFFICIAL_REDIS + BITNAMI + NGINX_NAMESPACE + ELSEWHERE + ODD

ALLOWLISTS: list[list[str]] = [
    ["docker.io"],
    ["index.docker.io"],
    ["docker.io/"],
    ["docker.io/library"],
    ["index.docker.io/library"],
    ["docker.io/library/"],
    ["docker.io/library/nginx"],
    ["index.docker.io/library/nginx"],
    ["docker.io/bitnami"],
    ["index.docker.io/bitnami"],
    ["docker.io/nginx"],
    ["registry-1.docker.io"],
    ["ghcr.io/acme"],
    ["localhost", "localhost:5000/library"],
    ["ghcr.io/acme", "docker.io/library/redis", "docker.io/bitnami"],
]


def _covered(allowlist: list[str]) -> set[str]:
    """The images above that `allowlist` allows, written out by hand for each allowlist."""
    hub = set(OFFICIAL_NGINX + OFFICIAL_REDIS + BITNAMI + NGINX_NAMESPACE)
    hub |= set(ODD)
    official = set(OFFICIAL_NGINX + OFFICIAL_REDIS) | {
        "library",
        "library:1",
        "docker.io/library",
        "docker.io/library:1",
        "nginxx:1",
        "docker.io/nginxx:1",
        "library/nginx/extra:1",
        "docker.io/library/nginx/extra:1",
        "nginx-unit:1",
    }
    by_entry = {
        "docker.io": hub,
        "docker.io/library": official,
        "docker.io/library/nginx": set(OFFICIAL_NGINX)
        | {"library/nginx/extra:1", "docker.io/library/nginx/extra:1"},
        "docker.io/library/redis": set(OFFICIAL_REDIS),
        "docker.io/bitnami": set(BITNAMI),
        "docker.io/nginx": set(NGINX_NAMESPACE),
        "registry-1.docker.io": {
            "registry-1.docker.io/library/nginx:1.27",
            "registry-1.docker.io/nginx:1.27",
        },
        "ghcr.io/acme": {"ghcr.io/acme/api:1"},
        "localhost": {"localhost/nginx:1"},
        "localhost:5000/library": {"localhost:5000/library/nginx:1"},
    }
    allowed: set[str] = set()
    for entry in allowlist:
        allowed |= by_entry[check_registry_prefix(entry)]
    return allowed


def _pod(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


@pytest.mark.parametrize("image", OFFICIAL_NGINX)
def test_every_spelling_of_the_official_nginx_normalises_alike(image: str) -> None:
    reference = normalize_reference(image)
    assert reference.startswith("docker.io/library/nginx")
    assert reference.removeprefix("docker.io/library/nginx") in {
        "",
        ":1.27",
        DIGEST,
        ":1.27" + DIGEST,
    }


@pytest.mark.parametrize(
    ("entry", "normalised"),
    [
        ("docker.io", "docker.io"),
        ("docker.io/", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("index.docker.io/", "docker.io"),
        ("docker.io/library", "docker.io/library"),
        ("index.docker.io/library", "docker.io/library"),
        ("index.docker.io/library/nginx", "docker.io/library/nginx"),
        ("docker.io/nginx", "docker.io/nginx"),
        ("registry-1.docker.io", "registry-1.docker.io"),
        ("index.docker.io.example.com", "index.docker.io.example.com"),
    ],
)
def test_allowlist_entries_are_normalised(entry: str, normalised: str) -> None:
    assert check_registry_prefix(entry) == normalised
    parsed = validate_parameters("restrict-image-registries", {"registries": [entry]})
    assert parsed.registries == (normalised,)


def test_spellings_of_one_entry_collapse_into_one() -> None:
    parsed = validate_parameters(
        "restrict-image-registries",
        {"registries": ["docker.io/library", "index.docker.io/library", "docker.io/library/"]},
    )
    assert parsed.registries == ("docker.io/library",)


@pytest.mark.parametrize("entry", ["library", "library/nginx", "nginx", "bitnami"])
def test_an_entry_without_a_host_is_refused_with_the_docker_hub_spelling(entry: str) -> None:
    with pytest.raises(ValueError, match=f"write docker.io/{entry}"):
        check_registry_prefix(entry)
    with pytest.raises(PolicyParameterError, match=f"write docker.io/{entry}"):
        render("restrict-image-registries", {"registries": [entry]})


def test_the_reported_bug_nginx_and_docker_io_nginx_agree() -> None:
    allow = ["docker.io/library"]
    assert image_allowed("nginx", allow) and image_allowed("docker.io/nginx", allow)
    manifest = render("restrict-image-registries", {"registries": allow}, failure_action="Enforce")
    assert evaluate_policy(manifest, _pod("nginx")).allowed
    assert evaluate_policy(manifest, _pod("docker.io/nginx")).allowed


@pytest.mark.parametrize("allowlist", ALLOWLISTS, ids=[",".join(a) for a in ALLOWLISTS])
def test_python_check_matches_the_written_expectations(allowlist: list[str]) -> None:
    expected = _covered(allowlist)
    assert {image for image in IMAGES if image_allowed(image, allowlist)} == expected


@pytest.mark.parametrize("api", ["validatingpolicy", "clusterpolicy"])
@pytest.mark.parametrize("allowlist", ALLOWLISTS, ids=[",".join(a) for a in ALLOWLISTS])
def test_rendered_cel_agrees_with_the_python_check(allowlist: list[str], api: str) -> None:
    manifest = render(
        "restrict-image-registries", {"registries": allowlist}, api=api, failure_action="Enforce"
    )
    disagreements = []
    for image in IMAGES:
        python = image_allowed(image, allowlist)
        verdict = evaluate_policy(manifest, _pod(image))
        assert verdict.matched
        if verdict.allowed is not python:
            disagreements.append((image, python))
    assert disagreements == []


def test_one_allowlist_judges_a_pod_mixing_spellings() -> None:
    manifest = render(
        "restrict-image-registries", {"registries": ["index.docker.io/library", "ghcr.io/acme"]}
    )
    pod = _pod("docker.io/nginx:1.27")
    pod["spec"]["initContainers"] = [{"name": "init", "image": "busybox:1.36"}]
    pod["spec"]["containers"].append({"name": "api", "image": "ghcr.io/acme/api:1"})
    assert evaluate_policy(manifest, pod).allowed
    pod["spec"]["containers"].append({"name": "cache", "image": "index.docker.io/bitnami/redis:7"})
    assert not evaluate_policy(manifest, pod).allowed
    assert not evaluate_policy(manifest, as_controller(pod, "CronJob")).allowed
    pod["spec"]["containers"].pop()
    assert evaluate_policy(manifest, as_controller(pod, "CronJob")).allowed


@pytest.mark.parametrize(
    ("prefix", "allowlist", "allowed"),
    [
        ("docker.io/library", ["docker.io"], True),
        ("index.docker.io/library", ["docker.io"], True),
        ("docker.io/library", ["index.docker.io"], True),
        ("docker.io/acme", ["index.docker.io/acme"], True),
        ("docker.io", ["docker.io/library"], False),
        ("registry-1.docker.io", ["docker.io"], False),
        ("ghcr.io/acme/tools", ["ghcr.io/acme"], True),
        ("ghcr.io/acmecorp", ["ghcr.io/acme"], False),
    ],
)
def test_prefix_allowed_normalises_both_sides(
    prefix: str, allowlist: list[str], allowed: bool
) -> None:
    assert prefix_allowed(prefix, allowlist) is allowed


def test_the_image_list_has_no_repeats() -> None:
    assert len(set(IMAGES)) == len(IMAGES)
