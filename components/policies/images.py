"""Container image references: CEL that reads them, and the registry-prefix rule for allowlists.

Reference grammar (Docker's): `[host[:port]/]path[:tag][@digest]`. The first path segment
is a registry host only if it contains `.` or `:` or is `localhost`; otherwise the image
is on Docker Hub, so `nginx:1.25` is `docker.io/library/nginx:1.25` and `acme/api` is
`docker.io/acme/api`. Aliases of Docker Hub (`index.docker.io`, `registry-1.docker.io`)
are not folded into `docker.io`: list them if you use them.
"""

from __future__ import annotations

import re

from components.policies.expressions import cel_string, cel_string_list

DOCKER_HUB = "docker.io"

# RE2 and Python agree on these patterns: anchored, no escapes, no look-around.
HOST_PREFIX_PATTERN = "^(localhost|[^/]*[.:][^/]*)/"
"""An image whose first segment is a registry host (it has `.` or `:`, or is localhost)."""
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


def check_registry_prefix(value: str) -> str:
    """`value` normalised (no trailing `/`) if it is a registry prefix, else ValueError."""
    prefix = value[:-1] if value.endswith("/") else value
    if not _REGISTRY_PREFIX.match(prefix):
        raise ValueError(f"{value!r} is not {REGISTRY_PREFIX_RULE}")
    host = prefix.split("/", 1)[0]
    if not ("." in host or ":" in host or host == "localhost"):
        raise ValueError(
            f"{value!r} does not start with a registry host (a host has a '.' or ':' or is "
            f"localhost); for a Docker Hub namespace write {DOCKER_HUB}/{prefix}"
        )
    return prefix


def normalized_reference(image: str) -> str:
    """CEL: the image reference `image` (CEL text) with its registry host made explicit."""
    return (
        f"({image}.matches({cel_string(HOST_PREFIX_PATTERN)}) ? {image} : "
        f"({image}.contains('/') ? {cel_string(DOCKER_HUB + '/')} + {image} : "
        f"{cel_string(DOCKER_HUB + '/library/')} + {image}))"
    )


def has_digest(image: str) -> str:
    """CEL: the image is pinned by digest (`@sha256:...`)."""
    return f"{image}.contains('@')"


def has_tag(image: str) -> str:
    """CEL: the image names a tag (a registry port such as `localhost:5000/app` is not one)."""
    return f"{image}.matches({cel_string(TAG_PATTERN)})"


def from_registries(reference: str, registries: list[str] | tuple[str, ...]) -> str:
    """CEL: the normalised `reference` lies within one of the registry prefixes.

    A host-only prefix (`docker.io`) covers every repository on that host; a prefix with a
    path (`ghcr.io/acme`) covers that repository and everything below it, so
    `ghcr.io/acme/api:1` and `ghcr.io/acme:1` match but `ghcr.io/acmecorp/x:1` does not.
    """
    starts: list[str] = []
    exact: list[str] = []
    for prefix in registries:
        if "/" in prefix:
            starts += [prefix + "/", prefix + ":", prefix + "@"]
            exact.append(prefix)
        else:
            starts.append(prefix + "/")
    test = f"{cel_string_list(starts)}.exists(p, {reference}.startsWith(p))"
    if exact:
        test += f" || {reference} in {cel_string_list(exact)}"
    return f"({test})"
