"""Container image references: Docker's normalisation, the allowlist rule, and the CEL for both.

Reference grammar (Docker's): `[host[:port]/]path[:tag][@digest]`. Normalisation follows
Docker's `reference.ParseNormalizedNamed` (distribution/reference `splitDockerDomain`):

- The first path segment is a registry host only if it contains `.` or `:`, is `localhost`,
  or has an uppercase letter (repository paths are lowercase, so `Acme/api` is pulled from
  the host `Acme`). Otherwise the image is on Docker Hub: `acme/api` is `docker.io/acme/api`.
- `index.docker.io` is Docker Hub's legacy name and becomes `docker.io`.
- On Docker Hub, a repository of one segment is an official image under `library/`: `nginx`,
  `nginx:1.27`, `library/nginx`, `docker.io/nginx`, `docker.io/library/nginx` and
  `index.docker.io/nginx` are all `docker.io/library/nginx`.
- `registry-1.docker.io` (the host Docker Hub's API is served from) is NOT an alias in
  Docker's normalisation, so it is a registry of its own here too: list it to allow it. No
  `library/` is added under it.

Allowlist entries (registry prefixes) are normalised the same way: `index.docker.io[/path]`
is `docker.io[/path]`. `docker.io` allows every Docker Hub image however it is spelt;
`docker.io/library` allows the official images (`nginx`, `docker.io/nginx`, ...);
`docker.io/library/nginx` allows only the official nginx image; `docker.io/<namespace>`
(`docker.io/bitnami`) allows that Docker Hub namespace, so `docker.io/nginx` means the user
or organisation `nginx`, not the official image. An entry must start with a registry host,
so a bare `library` or `bitnami` is refused with a hint to write `docker.io/library`.

The Python functions (`normalize_reference`, `image_allowed`) and the CEL (`from_registries`)
implement this independently: standard CEL cannot cut a string, so the CEL tests every
spelling of a prefix instead of rewriting the image. The tests prove the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from components.policies.expressions import cel_string, cel_string_list

DOCKER_HUB = "docker.io"
DOCKER_HUB_LEGACY = "index.docker.io"
DOCKER_HUB_HOSTS: tuple[str, ...] = (DOCKER_HUB, DOCKER_HUB_LEGACY)
"""The spellings of Docker Hub's host that Docker's normalisation folds into `docker.io`."""
OFFICIAL_NAMESPACE = "library"
"""Docker Hub's namespace of official images (`nginx` is `docker.io/library/nginx`)."""

# RE2 and Python agree on these patterns: anchored, no escapes, no look-around.
HOST_PREFIX_PATTERN = "^(localhost|[^/]*[.:A-Z][^/]*)/"
"""An image whose first segment is a registry host (it has `.`, `:` or an uppercase letter,
or is localhost)."""
TWO_SLASHES_PATTERN = "^[^/]*/[^/]*/"
"""A reference with at least two `/`: on an explicit Docker Hub host, a nested repository."""
TAG_PATTERN = "^[^@]*:[A-Za-z0-9_][A-Za-z0-9_.-]*(@.*)?$"
"""An image with a tag: a `:` in the last path segment, before any digest (a registry port
is followed by `/`, so it is never taken for a tag)."""

_HOST_COMPONENT = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_HOST = rf"{_HOST_COMPONENT}(\.{_HOST_COMPONENT})*(:[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
_REGISTRY_PREFIX = re.compile(rf"^{_HOST}(/{_PATH_COMPONENT})*$")
REGISTRY_PREFIX_RULE = (
    "a registry host, optionally with a path, in lowercase and without tag or digest, "
    "such as docker.io, ghcr.io/acme or registry.example.com:5000/team"
)


def _is_host(segment: str) -> bool:
    """Docker's test for a first path segment that names a registry host (ASCII case only)."""
    return (
        segment == "localhost"
        or "." in segment
        or ":" in segment
        or any("A" <= char <= "Z" for char in segment)
    )


def _fold_hub_alias(prefix: str) -> str:
    """`prefix` with Docker Hub's legacy host `index.docker.io` written as `docker.io`."""
    host, slash, path = prefix.partition("/")
    return DOCKER_HUB + slash + path if host == DOCKER_HUB_LEGACY else prefix


def check_registry_prefix(value: str) -> str:
    """`value` normalised if it is a registry prefix, else ValueError naming the rule.

    Normalised: no trailing `/`, and `index.docker.io` written `docker.io`. A prefix must
    start with a registry host; a Docker Hub namespace is written `docker.io/<namespace>`
    (`docker.io/library` for the official images).
    """
    prefix = value[:-1] if value.endswith("/") else value
    if not _REGISTRY_PREFIX.match(prefix):
        raise ValueError(f"{value!r} is not {REGISTRY_PREFIX_RULE}")
    host = prefix.split("/", 1)[0]
    if not ("." in host or ":" in host or host == "localhost"):
        raise ValueError(
            f"{value!r} does not start with a registry host (a host has a '.' or ':' or is "
            f"localhost); for a Docker Hub namespace write {DOCKER_HUB}/{prefix}"
        )
    return _fold_hub_alias(prefix)


def normalize_reference(image: str) -> str:
    """`image` as Docker normalises it: explicit host, `docker.io` for Docker Hub, `library/`.

    `nginx:1.27` -> `docker.io/library/nginx:1.27`, `index.docker.io/acme/api` ->
    `docker.io/acme/api`, `ghcr.io/acme/api:1` unchanged. Tag and digest are kept.
    """
    first, slash, rest = image.partition("/")
    host, remainder = (first, rest) if slash and _is_host(first) else (DOCKER_HUB, image)
    if host == DOCKER_HUB_LEGACY:
        host = DOCKER_HUB
    if host == DOCKER_HUB and "/" not in remainder:
        remainder = f"{OFFICIAL_NAMESPACE}/{remainder}"
    return f"{host}/{remainder}"


def _within(reference: str, prefix: str) -> bool:
    """The normalised `reference` lies within the normalised registry `prefix`."""
    if "/" not in prefix:
        return reference.startswith(prefix + "/")
    return reference == prefix or reference.startswith((prefix + "/", prefix + ":", prefix + "@"))


def image_allowed(image: str, registries: Iterable[str]) -> bool:
    """Whether `image` (as written in a pod) comes from one of the registry prefixes.

    Both sides are normalised (see the module docstring), so every spelling of a Docker Hub
    image is judged alike. A host-only prefix (`docker.io`) covers every repository on that
    host; a prefix with a path (`ghcr.io/acme`) covers that repository and everything below
    it (`ghcr.io/acme/api:1`, `ghcr.io/acme:1`, but not `ghcr.io/acmecorp/x`). Raises
    ValueError for an entry that is not a registry prefix. The policy's CEL
    (`from_registries`) decides the same.
    """
    reference = normalize_reference(image)
    return any(_within(reference, check_registry_prefix(entry)) for entry in registries)


def prefix_allowed(prefix: str, allowlist: Iterable[str]) -> bool:
    """Whether the registry `prefix` lies within one allowlist entry (both normalised).

    `docker.io/library` is within `docker.io`, `index.docker.io/acme` within `docker.io/acme`,
    `ghcr.io/acme/tools` within `ghcr.io/acme`, `ghcr.io/acmecorp` not. ValueError for an
    entry or `prefix` that is not a registry prefix.
    """
    candidate = check_registry_prefix(prefix)
    for entry in allowlist:
        base = check_registry_prefix(entry)
        if candidate == base or candidate.startswith(base + "/"):
            return True
    return False


def has_digest(image: str) -> str:
    """CEL: the image is pinned by digest (`@sha256:...`)."""
    return f"{image}.contains('@')"


def has_tag(image: str) -> str:
    """CEL: the image names a tag (a registry port such as `localhost:5000/app` is not one)."""
    return f"{image}.matches({cel_string(TAG_PATTERN)})"


def _any(tests: list[str]) -> str:
    return "(" + " || ".join(tests) + ")" if tests else "false"


def _starts_or_equals(image: str, starts: list[str], exact: list[str]) -> list[str]:
    tests = []
    if starts:
        tests.append(f"{cel_string_list(starts)}.exists(p, {image}.startsWith(p))")
    if exact:
        tests.append(f"{image} in {cel_string_list(exact)}")
    return tests


def _hub_remainder(image: str, starts: list[str], exact: list[str]) -> str:
    """CEL: `image` is on Docker Hub and its path after the host (implicit, `docker.io` or
    `index.docker.io`) starts with one of `starts` or equals one of `exact`."""
    implicit = _any(_starts_or_equals(image, starts, exact))
    explicit = _any(
        _starts_or_equals(
            image,
            [f"{host}/{s}" for host in DOCKER_HUB_HOSTS for s in starts],
            [f"{host}/{e}" for host in DOCKER_HUB_HOSTS for e in exact],
        )
    )
    return f"((!{image}.matches({cel_string(HOST_PREFIX_PATTERN)}) && {implicit}) || {explicit})"


def _on_hub(image: str) -> str:
    hosts = cel_string_list([f"{host}/" for host in DOCKER_HUB_HOSTS])
    return (
        f"(!{image}.matches({cel_string(HOST_PREFIX_PATTERN)}) || "
        f"{hosts}.exists(h, {image}.startsWith(h)))"
    )


def _official(image: str) -> str:
    """CEL, for a Docker Hub image: its path after the host has one segment (`nginx:1`,
    `docker.io/nginx`), so Docker puts it under `library/`."""
    hosts = cel_string_list([f"{host}/" for host in DOCKER_HUB_HOSTS])
    return (
        f"(!{image}.contains('/') || ({hosts}.exists(h, {image}.startsWith(h)) && "
        f"!{image}.matches({cel_string(TWO_SLASHES_PATTERN)})))"
    )


def _within_hub(image: str, path: str) -> str:
    """CEL: the Docker Hub image `image` lies within `docker.io/<path>` once normalised."""
    nested = _hub_remainder(image, [path + "/", path + ":", path + "@"], [path])
    tests = [f"(!{_official(image)} && {nested})"]
    if path == OFFICIAL_NAMESPACE:
        tests.append(f"({_on_hub(image)} && {_official(image)})")
    elif path.startswith(OFFICIAL_NAMESPACE + "/") and "/" not in path[len("library/") :]:
        name = path[len("library/") :]
        tests.append(
            f"({_official(image)} && {_hub_remainder(image, [name + ':', name + '@'], [name])})"
        )
    return _any(tests)


def from_registries(image: str, registries: list[str] | tuple[str, ...]) -> str:
    """CEL: the image reference `image` (CEL text, as written in the pod) lies within one of the
    registry prefixes, with the normalisation and prefix rule of `image_allowed`.

    `registries` should be normalised already (`check_registry_prefix`); `index.docker.io`
    is folded into `docker.io` here as well. Every prefix reaches the CEL as a literal.
    """
    tests: list[str] = []
    for prefix in registries:
        prefix = _fold_hub_alias(prefix)
        host, slash, path = prefix.partition("/")
        if host == DOCKER_HUB:
            tests.append(_within_hub(image, path) if slash else _on_hub(image))
        elif slash:
            tests += _starts_or_equals(image, [prefix + "/", prefix + ":", prefix + "@"], [prefix])
        else:
            tests += _starts_or_equals(image, [prefix + "/"], [])
    return _any(tests)
