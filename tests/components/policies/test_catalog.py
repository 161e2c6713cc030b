"""The catalogue: which templates exist, what they describe, and how bad parameters are refused."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from components.policies import (
    PolicyParameterError,
    PolicyTemplate,
    catalog,
    render,
    validate_parameters,
)
from components.tenancy.models import PlatformPolicy, PolicyRef, ProjectSpec, TenantSpec
from components.tenancy.validation import validate_tenants

REQUIRED = {
    "disallow-privileged-containers",
    "disallow-privilege-escalation",
    "disallow-host-namespaces",
    "disallow-host-path",
    "require-run-as-nonroot",
    "disallow-latest-tag",
    "restrict-image-registries",
    "require-labels",
    "require-requests-limits",
    "disallow-nodeport-services",
}
NAMES = [template.name for template in catalog()]


def test_catalog_lists_at_least_the_ten_required_templates_once_each() -> None:
    assert len(NAMES) >= 10
    assert len(set(NAMES)) == len(NAMES)
    assert set(NAMES) >= REQUIRED


def test_catalog_returns_a_fresh_list() -> None:
    first = catalog()
    first.clear()
    assert [t.name for t in catalog()] == NAMES


@pytest.mark.parametrize("template", catalog(), ids=NAMES)
def test_every_template_is_described_and_typed(template: PolicyTemplate) -> None:
    assert template.name and template.title and template.category and template.description
    assert len(template.name) <= 63 and template.name == template.name.lower()
    assert template.severity in {"low", "medium", "high"}
    assert issubclass(template.parameters, BaseModel)
    assert template.parameters.model_config.get("extra") == "forbid"


@pytest.mark.parametrize("template", catalog(), ids=NAMES)
def test_every_template_ships_good_and_bad_samples_of_its_kind(template: PolicyTemplate) -> None:
    samples = template.samples()
    assert samples.good and samples.bad
    for sample in (*samples.good, *samples.bad):
        assert sample.description
        assert sample.object["kind"] == template.target.kind
    validate_parameters(template.name, samples.parameters)


def test_parameter_models_are_what_the_templates_document() -> None:
    registries = validate_parameters(
        "restrict-image-registries", {"registries": ["docker.io", "ghcr.io/acme/"]}
    )
    assert registries.registries == ("docker.io", "ghcr.io/acme")
    labels = validate_parameters("require-labels", {"labels": ("team", "team", "app")})
    assert labels.labels == ("team", "app")
    assert validate_parameters("disallow-host-path", None).model_dump() == {}
    assert validate_parameters("disallow-host-path", {}).model_dump() == {}


def _error(name: str, parameters: object) -> PolicyParameterError:
    with pytest.raises(PolicyParameterError) as caught:
        validate_parameters(name, parameters)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_unknown_template_lists_the_known_names() -> None:
    error = _error("disallow-everything", {})
    assert "unknown policy template 'disallow-everything'" in str(error)
    for name in NAMES:
        assert name in str(error)
    with pytest.raises(PolicyParameterError, match="unknown policy template 'nope'"):
        render("nope")


def test_missing_parameter_is_named_with_what_it_takes() -> None:
    error = _error("restrict-image-registries", {})
    assert (error.template, error.parameter) == ("restrict-image-registries", "registries")
    assert "parameter 'registries' is missing" in str(error)
    assert "list of registry prefixes" in str(error)
    assert "'require-labels'" in str(_error("require-labels", None))


def test_extra_parameter_is_named_with_the_allowed_ones() -> None:
    error = _error("restrict-image-registries", {"registries": ["docker.io"], "regex": ".*"})
    assert error.parameter == "regex"
    assert "unknown parameter 'regex'; allowed parameters: registries" in str(error)
    none = _error("disallow-latest-tag", {"allow": True})
    assert "policy template 'disallow-latest-tag'" in str(none)
    assert "this template takes none" in str(none)


@pytest.mark.parametrize(
    ("parameters", "found"),
    [
        ({"registries": "docker.io"}, "got str 'docker.io'"),
        ({"registries": {"docker.io"}}, "got set"),
        ({"registries": None}, "got NoneType"),
        ({"registries": ["docker.io", 5]}, "item int 5 is not text"),
    ],
)
def test_wrong_type_says_a_list_is_needed(parameters: dict[str, object], found: str) -> None:
    error = _error("restrict-image-registries", parameters)
    assert error.parameter == "registries"
    assert "must be a list of registry prefixes" in str(error)
    assert found in str(error)


def test_empty_list_needs_at_least_one_item() -> None:
    for name, parameter in (
        ("restrict-image-registries", "registries"),
        ("require-labels", "labels"),
    ):
        error = _error(name, {parameter: []})
        assert error.parameter == parameter
        assert f"parameter {parameter!r} needs at least one item" in str(error)


def test_parameters_must_be_a_mapping() -> None:
    error = _error("require-labels", ["team"])
    assert "parameters must be a mapping" in str(error)


@pytest.mark.parametrize(
    ("registry", "reason"),
    [
        ("Docker.io", "in lowercase"),
        ("acme", "write docker.io/acme"),
        ("ghcr.io/acme/api:1.0", "without tag or digest"),
        ("ghcr.io/acme@sha256:abc", "without tag or digest"),
        ("https://ghcr.io", "is not a registry host"),
        ("ghcr.io/acme corp", "is not a registry host"),
        ('ghcr.io/"] || true || ["', "is not a registry host"),
        ("*.amazonaws.com", "is not a registry host"),
        ("", "is not a registry host"),
    ],
)
def test_invalid_registry_prefixes_are_refused_with_the_rule(registry: str, reason: str) -> None:
    error = _error("restrict-image-registries", {"registries": ["docker.io", registry]})
    assert "item 1:" in str(error)
    assert reason in str(error)


@pytest.mark.parametrize(
    "registry",
    [
        "docker.io",
        "ghcr.io/acme",
        "localhost",
        "localhost:5000/team",
        "10.0.0.5:5000",
        "a.b/c_d/e-f",
    ],
)
def test_valid_registry_prefixes_are_accepted(registry: str) -> None:
    parameters = validate_parameters("restrict-image-registries", {"registries": [registry]})
    assert parameters.registries == (registry,)


@pytest.mark.parametrize(
    "label", ["", "bad key", "team/", "/team", "UPPER.example.com/x", "-team", "a" * 64, 'x"y']
)
def test_invalid_label_keys_are_refused(label: str) -> None:
    error = _error("require-labels", {"labels": ["team", label]})
    assert "item 1:" in str(error) and "is not a Kubernetes label key" in str(error)


@pytest.mark.parametrize("label", ["team", "app.kubernetes.io/name", "Team_1.x", "a" * 63])
def test_valid_label_keys_are_accepted(label: str) -> None:
    assert validate_parameters("require-labels", {"labels": [label]}).labels == (label,)


def test_tenancy_validation_reports_library_errors_at_the_policy_path() -> None:
    tenant = TenantSpec(
        name="acme",
        projects=[
            ProjectSpec(
                name="web",
                policies=[
                    PolicyRef(name="require-labels", parameters={"labels": "team"}),
                    PolicyRef(name="no-such-policy"),
                ],
            )
        ],
    )
    problems = validate_tenants([tenant], PlatformPolicy(), check_policy=validate_parameters)
    by_path = {p.path: p.message for p in problems}
    assert "must be a list of label keys" in by_path["tenants[0].projects[0].policies[0]"]
    assert "unknown policy template" in by_path["tenants[0].projects[0].policies[1]"]


def test_an_unknown_template_close_to_a_known_one_suggests_it():
    with pytest.raises(PolicyParameterError) as error:
        validate_parameters("disallow-latest-tags", {})
    assert (
        "unknown policy template 'disallow-latest-tags' (did you mean 'disallow-latest-tag'?)"
        in (str(error.value))
    )
    with pytest.raises(PolicyParameterError) as error:
        validate_parameters("zzz", {})
    assert "did you mean" not in str(error.value)
