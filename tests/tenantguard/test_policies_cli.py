"""`tenantguard policies list|show`: the catalogue, rendering in both APIs, --param parsing."""

from __future__ import annotations

import json

import pytest
import yaml
from pydantic import Field

from components.policies import PolicyParameterError, catalog, render, validate_parameters
from components.policies.parameters import TemplateParameters
from components.policies.template import PolicyBody, PolicyTemplate
from tenantguard import cli
from tenantguard.policy_commands import UsageError, parse_params
from tests.components.kyverno_schema import validate_kyverno


def run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------- list


def test_list_table_has_every_template_with_its_category_and_parameters(
    capsys: pytest.CaptureFixture,
) -> None:
    code, out, err = run(["policies", "list"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "CATEGORY", "PARAMETERS", "DESCRIPTION"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {template.name for template in catalog()}
    assert "registries" in rows["restrict-image-registries"]
    assert "Best Practices" in rows["restrict-image-registries"]
    assert "labels" in rows["require-labels"]
    assert "Pod Security Standards (Baseline)" in rows["disallow-host-path"]


def test_list_json_describes_templates_and_their_parameter_types(
    capsys: pytest.CaptureFixture,
) -> None:
    code, out, _ = run(["policies", "list", "--output", "json"], capsys)
    assert code == 0
    data = {item["name"]: item for item in json.loads(out)}
    assert set(data) == {template.name for template in catalog()}
    registries = data["restrict-image-registries"]
    assert registries["category"] == "Best Practices"
    assert registries["parameters"] == [
        {
            "name": "registries",
            "type": "list of text",
            "required": True,
            "description": registries["parameters"][0]["description"],
        }
    ]
    assert "registry prefixes" in registries["parameters"][0]["description"]
    assert data["disallow-host-path"]["parameters"] == []


# ---------------------------------------------------------------------------- show


def test_show_prints_the_library_rendering_as_yaml(capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(
        [
            "policies",
            "show",
            "restrict-image-registries",
            "--param",
            "registries=docker.io,ghcr.io",
        ],
        capsys,
    )
    assert code == 0 and err == ""
    manifest = yaml.safe_load(out)
    assert manifest == render("restrict-image-registries", {"registries": ["docker.io", "ghcr.io"]})
    assert manifest["kind"] == "ValidatingPolicy"
    assert list(manifest)[:2] == ["apiVersion", "kind"]
    validate_kyverno(manifest)


def test_show_clusterpolicy_namespaced_enforce(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(
        [
            "policies",
            "show",
            "require-labels",
            "-p",
            "labels=team",
            "--api",
            "clusterpolicy",
            "--namespace",
            "payments-api",
            "--failure-action",
            "Enforce",
        ],
        capsys,
    )
    assert code == 0
    manifest = yaml.safe_load(out)
    expected = render(
        "require-labels",
        {"labels": ["team"]},
        namespace="payments-api",
        api="clusterpolicy",
        failure_action="Enforce",
    )
    assert manifest == expected
    assert manifest["kind"] == "Policy"
    assert manifest["metadata"]["namespace"] == "payments-api"
    validate_kyverno(manifest)


def test_show_json_output(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(["policies", "show", "disallow-host-path", "-o", "json"], capsys)
    assert code == 0
    assert json.loads(out) == render("disallow-host-path")


@pytest.mark.parametrize(
    "params",
    [
        ["registries=docker.io,ghcr.io/acme"],
        ["registries=[docker.io, ghcr.io/acme]"],
        ['registries=["docker.io","ghcr.io/acme"]'],
        ["registries=docker.io", "registries=ghcr.io/acme"],
        ["registries= docker.io , ghcr.io/acme ,"],
    ],
)
def test_list_parameters_in_every_accepted_spelling(
    params: list[str], capsys: pytest.CaptureFixture
) -> None:
    argv = ["policies", "show", "restrict-image-registries"]
    for param in params:
        argv += ["--param", param]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    expected = render("restrict-image-registries", {"registries": ["docker.io", "ghcr.io/acme"]})
    assert yaml.safe_load(out) == expected


class _TypedParameters(TemplateParameters):
    owner: str = Field(description="text")
    strict: bool = Field(default=False, description="a flag")
    replicas: int = Field(default=1, description="a count")
    ports: tuple[int, ...] = Field(default=(), description="numbers")


_TYPED = PolicyTemplate(
    name="typed",
    title="Typed",
    category="Test",
    description="For parameter parsing.",
    severity="low",
    build=lambda _: PolicyBody(validations=()),
    parameters=_TypedParameters,
)


def test_parameters_follow_the_models_field_types() -> None:
    parsed = parse_params(
        _TYPED, ["owner=true", "strict=true", "replicas=3", "ports=80,443", "extra=5"]
    )
    assert parsed == {
        "owner": "true",
        "strict": True,
        "replicas": 3,
        "ports": [80, 443],
        "extra": "5",
    }
    model = _TypedParameters.model_validate({k: v for k, v in parsed.items() if k != "extra"})
    assert model.ports == (80, 443) and model.strict is True


def test_a_scalar_parameter_given_twice_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="given twice"):
        parse_params(_TYPED, ["owner=a", "owner=b"])


# --------------------------------------------------------------------------- errors


def _library_message(name: str, params: dict) -> str:
    with pytest.raises(PolicyParameterError) as caught:
        validate_parameters(name, params)
    return str(caught.value)


@pytest.mark.parametrize(
    ("argv", "params"),
    [
        (["restrict-image-registries"], {}),
        (["restrict-image-registries", "-p", "registries="], {"registries": []}),
        (["restrict-image-registries", "-p", "registries=HTTP://X"], {"registries": ["HTTP://X"]}),
        (["disallow-host-path", "-p", "foo=bar"], {"foo": "bar"}),
        (["nope"], {}),
    ],
)
def test_bad_parameters_print_the_librarys_message_and_exit_1(
    argv: list[str], params: dict, capsys: pytest.CaptureFixture
) -> None:
    code, out, err = run(["policies", "show", *argv], capsys)
    assert code == 1
    assert out == ""
    assert err == f"error: {_library_message(argv[0], params)}\n"


def test_a_bad_namespace_exits_1(capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(["policies", "show", "disallow-host-path", "--namespace", "Bad_NS"], capsys)
    assert code == 1
    assert err.startswith("error: render(): namespace")


@pytest.mark.parametrize(
    "argv",
    [
        ["policies", "show", "require-labels", "--param", "labels"],
        ["policies", "show", "require-labels", "--api", "kyverno2"],
        ["policies", "show", "require-labels", "--failure-action", "Deny"],
        ["policies"],
        ["policies", "show"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert "error:" in err
