"""Rules for a project's apps, checked with the tenancy rules before anything registers.

An app is refused when its pods could not pass the policies its project gets (and the
baseline policies, when the caller hands them in): an image outside an allowlist or without
a tag or digest, a label `require-labels` asks for that cannot be derived, a missing request
or limit. Also refused: names that clash in the project, replicas x requests beyond the
project's quota, and (across the stack, in `validate_tenants`) a host another app serves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from components.tenancy.app_models import AppSpec
from components.tenancy.apps import (
    NAME_LABEL,
    VERSION_LABEL,
    container_resources,
    is_label_value,
    parse_image,
    pod_labels,
    reserved_label_keys,
)
from components.tenancy.manifests import (
    RESTRICT_REGISTRIES_POLICY,
    project_labels,
    project_policy_refs,
)
from components.tenancy.models import (
    PlatformPolicy,
    PolicyRef,
    ProjectSpec,
    TenantSpec,
    effective_allowlist,
    effective_quota,
)
from components.tenancy.problems import Problem, registry_allowed
from components.tenancy.quantity import parse_quantity

REQUIRE_LABELS_POLICY = "require-labels"
_HOST = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
HOST_RULE = (
    "a DNS name of lowercase letters, digits, '-' and '.', at most 253 characters, such as "
    "api.dev.example.com (no wildcard: it would capture other apps' hosts)"
)
_PATH = re.compile(r"^/[A-Za-z0-9/._~%!$&'()*+,;=:@-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_WORDS = re.compile(
    r"password|passwd|passphrase|secret|token|apikey|accesskey|privatekey|clientkey|credential"
)
_REQUIRED = (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
"""What every app container declares (the library's require-requests-limits asks for these)."""


def _looks_secret(name: str) -> bool:
    return bool(_SECRET_WORDS.search(re.sub(r"[^a-z0-9]", "", name.lower())))


def _allowlists(
    tenant: TenantSpec, refs: Sequence[tuple[str, PolicyRef]], platform: PlatformPolicy
) -> list[tuple[str, list[str]]]:
    """Every registry list an app image must lie within, with words naming it."""
    lists: list[tuple[str, list[str]]] = []
    allowlist = effective_allowlist(tenant, platform)
    if allowlist:
        lists.append((f"the image allowlist of tenant {tenant.name!r}", allowlist))
    for owner, ref in refs:
        if ref.name == RESTRICT_REGISTRIES_POLICY:
            registries = [str(r) for r in ref.parameters.get("registries") or []]
            lists.append((f"{owner} {ref.name!r}", registries))
    return lists


def _image_problems(
    app: AppSpec, at: str, who: str, allowlists: list[tuple[str, list[str]]]
) -> list[Problem]:
    try:
        image = parse_image(app.image)
    except ValueError as exc:
        return [Problem(f"{at}.image", f"{who}: {exc}")]
    if image.tag is None and image.digest is None:
        return [
            Problem(
                f"{at}.image",
                f"{who}: image {app.image!r} has no tag or digest; allowed: a pinned image such "
                f"as {image.repository}:1.4.2 or {image.repository}@sha256:<digest>",
            )
        ]
    if image.tag == "latest" and image.digest is None:
        return [
            Problem(
                f"{at}.image",
                f"{who}: image {app.image!r} uses the mutable tag 'latest'; allowed: a version "
                "tag or a digest",
            )
        ]
    for what, registries in allowlists:
        if not registry_allowed(image.repository, registries):
            return [
                Problem(
                    f"{at}.image",
                    f"{who}: image {app.image!r} is outside {what}; allowed: images under "
                    f"{', '.join(registries)}",
                )
            ]
    return []


def _label_problems(
    app: AppSpec,
    at: str,
    who: str,
    tenant: TenantSpec,
    project: ProjectSpec,
    refs: Sequence[tuple[str, PolicyRef]],
) -> list[Problem]:
    from components.policies.parameters import check_label_key

    problems: list[Problem] = []
    own = project_labels(tenant, project)
    reserved = reserved_label_keys(own)
    for key, value in app.labels.items():
        try:
            check_label_key(key)
        except ValueError as exc:
            problems.append(Problem(f"{at}.labels.{key}", f"{who}: {exc}"))
            continue
        if key in reserved:
            problems.append(
                Problem(
                    f"{at}.labels.{key}",
                    f"{who}: label {key!r} is set by the platform; allowed: keys other than "
                    f"{', '.join(sorted(reserved))}",
                )
            )
        elif not is_label_value(value):
            problems.append(
                Problem(
                    f"{at}.labels.{key}",
                    f"{who}: {value!r} is not a label value; allowed: at most 63 letters, "
                    "digits, '-', '_' or '.', starting and ending with a letter or digit",
                )
            )
    labels = pod_labels(app, own)
    for owner, ref in refs:
        if ref.name != REQUIRE_LABELS_POLICY:
            continue
        for key in ref.parameters.get("labels") or []:
            if labels.get(key):
                continue
            hint = (
                " (it is derived from the image tag, and this image has none that is a label value)"
                if key == VERSION_LABEL
                else ""
            )
            problems.append(
                Problem(
                    f"{at}.labels",
                    f"{who}: {owner} {ref.name!r} requires label {key!r} on every pod{hint}; "
                    f"allowed: set labels.{key} (the platform sets {NAME_LABEL} and "
                    f"{VERSION_LABEL} itself)",
                )
            )
    return problems


def _illumio_problems(app: AppSpec, at: str, who: str, project: ProjectSpec) -> list[Problem]:
    problems: list[Problem] = []
    restricted = project.label_restrictions
    for key, value in app.illumio_labels.items():
        if key not in restricted:
            allowed = ", ".join(restricted) or "none (the project restricts no label key)"
            problems.append(
                Problem(
                    f"{at}.illumioLabels.{key}",
                    f"{who}: label key {key!r} is not one the project lets its pods choose "
                    f"(labelRestrictions); allowed keys: {allowed}",
                )
            )
        elif restricted[key] and value not in restricted[key]:
            problems.append(
                Problem(
                    f"{at}.illumioLabels.{key}",
                    f"{who}: {key}={value} is outside the project's labelRestrictions; "
                    f"allowed: {', '.join(restricted[key])}",
                )
            )
    return problems


def _resource_problems(app: AppSpec, at: str, who: str, project: ProjectSpec) -> list[Problem]:
    problems: list[Problem] = []
    resolved = container_resources(app, project.container_defaults)
    default_of = {"requests": "defaultRequest", "limits": "defaultLimit"}
    for scope, resource in _REQUIRED:
        if resolved[scope][resource] is None:
            problems.append(
                Problem(
                    f"{at}.resources.{scope}.{resource}",
                    f"{who}: no {scope}.{resource}, here or in the project's "
                    f"containerDefaults.{default_of[scope]}.{resource}; allowed: a quantity "
                    "such as 250m or 256Mi in either place",
                )
            )
    for resource in ("cpu", "memory"):
        request, limit = resolved["requests"][resource], resolved["limits"][resource]
        if request and limit and parse_quantity(request) > parse_quantity(limit):
            problems.append(
                Problem(
                    f"{at}.resources.requests.{resource}",
                    f"{who}: request {request} is above the limit {limit} (the app's or the "
                    "project's default); allowed: a request of at most its limit",
                )
            )
    return problems


def _quota_problems(
    project: ProjectSpec, platform: PlatformPolicy, where: str, path: str
) -> list[Problem]:
    """replicas x each app's amounts, summed over the project's apps, within its quota."""
    problems: list[Problem] = []
    quota = effective_quota(project, platform)
    hard = quota.hard()
    apps = list(enumerate(project.apps))
    for scope in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            cap = hard.get(f"{scope}.{resource}")
            if cap is None:
                continue
            total = parse_quantity("0")
            for k, app in apps:
                amount = container_resources(app, project.container_defaults)[scope][resource]
                who = f"{where}, app {app.name!r}"
                if amount is None:
                    if (scope, resource) in _REQUIRED:  # reported by _resource_problems
                        continue
                    problems.append(
                        Problem(
                            f"{path}.apps[{k}].resources.{scope}.{resource}",
                            f"{who}: the project quota sets {scope}.{resource}, so every pod "
                            f"needs one; allowed: set it here or in containerDefaults",
                        )
                    )
                    continue
                total += app.replicas * parse_quantity(amount)
                if total > parse_quantity(cap):
                    problems.append(
                        Problem(
                            f"{path}.apps[{k}].replicas",
                            f"{who}: {app.replicas} replica(s) x {scope}.{resource} {amount} "
                            f"bring the project's apps above its quota {scope}.{resource} "
                            f"{cap}; allowed: apps whose replicas x {scope}.{resource} total at "
                            f"most {cap}",
                        )
                    )
                    break
    for field, count, what in (
        ("pods", sum(app.replicas for _, app in apps), "replicas"),
        ("services", len(apps), "apps (one Service each)"),
    ):
        cap_count = getattr(quota, field)
        if cap_count is not None and count > cap_count:
            problems.append(
                Problem(
                    f"{path}.apps",
                    f"{where}: {count} {what} exceed the project quota {field} {cap_count}; "
                    f"allowed: at most {cap_count}",
                )
            )
    return problems


def app_problems(
    tenant: TenantSpec,
    project: ProjectSpec,
    platform: PlatformPolicy,
    *,
    where: str,
    path: str,
    baseline_policies: Sequence[PolicyRef] = (),
) -> list[Problem]:
    """Every problem with the project's apps (`path` is the project's spec path)."""
    if not project.apps:
        return []
    refs = [("the project's policy", ref) for ref in project_policy_refs(tenant, project, platform)]
    refs += [("baseline policy", ref) for ref in baseline_policies]
    allowlists = _allowlists(tenant, refs, platform)
    problems: list[Problem] = []
    names: set[str] = set()
    for k, app in enumerate(project.apps):
        at = f"{path}.apps[{k}]"
        who = f"{where}, app {app.name!r}"
        if app.name in names:
            problems.append(
                Problem(
                    f"{at}.name",
                    f"{who}: the name is used twice in this project; allowed: "
                    "a name of its own for every app of the project",
                )
            )
        names.add(app.name)
        if not app.name[0].isalpha():
            problems.append(
                Problem(
                    f"{at}.name",
                    f"{who}: the name is also the Service's name, which must start with a "
                    "letter; allowed: a DNS-1123 label starting with a letter",
                )
            )
        problems += _image_problems(app, at, who, allowlists)
        if app.host is not None and (len(app.host) > 253 or not _HOST.match(app.host)):
            problems.append(Problem(f"{at}.host", f"{who}: {app.host!r} is not {HOST_RULE}"))
        if not _PATH.match(app.path):
            problems.append(
                Problem(
                    f"{at}.path",
                    f"{who}: {app.path!r} is not an Ingress path; allowed: a path starting "
                    "with '/', without spaces, such as / or /api",
                )
            )
        if app.host is None and (app.tls_secret_name or app.path != "/"):
            problems.append(
                Problem(
                    f"{at}.host",
                    f"{who}: tlsSecretName and path configure the Ingress, which only an app "
                    "with a host gets; allowed: set host, or leave them out",
                )
            )
        for name in app.env:
            if not _ENV_NAME.match(name):
                problems.append(
                    Problem(
                        f"{at}.env.{name}",
                        f"{who}: {name!r} is not an environment variable name; allowed: "
                        "letters, digits and '_', not starting with a digit",
                    )
                )
            elif _looks_secret(name):
                problems.append(
                    Problem(
                        f"{at}.env.{name}",
                        f"{who}: environment variable {name!r} looks like a secret, and env "
                        "values are plain text in the spec, the state and the Deployment; "
                        "allowed: non-secret settings only (secrets reach the app from a "
                        "Secret its own pipeline manages)",
                    )
                )
        problems += _label_problems(app, at, who, tenant, project, refs)
        problems += _illumio_problems(app, at, who, project)
        problems += _resource_problems(app, at, who, project)
    problems += _quota_problems(project, platform, where, path)
    return problems


def host_problems(
    project: ProjectSpec, hosts: dict[str, str], *, where: str, path: str
) -> list[Problem]:
    """Apps whose host another app of the stack already serves; records the others in
    `hosts` (host -> who serves it), which the caller shares across every tenant."""
    problems: list[Problem] = []
    for k, app in enumerate(project.apps):
        if app.host is None:
            continue
        who = f"{where}, app {app.name!r}"
        if app.host in hosts:
            problems.append(
                Problem(
                    f"{path}.apps[{k}].host",
                    f"{who}: host {app.host!r} is already served by {hosts[app.host]}; "
                    "allowed: a host no other app of the stack uses",
                )
            )
        else:
            hosts[app.host] = who
    return problems
