"""Every rendered manifest is valid against the shared Kyverno CRD schemas.

The negative controls prove the validator is not vacuous: it rejects unknown fields, bad
enums, duplicates in set/map lists and a missing schema, and it refuses Kubernetes schema
extensions it does not understand.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from components.policies import catalog, render
from tests.components import kyverno_schema
from tests.components.kyverno_schema import KyvernoSchemas

COMBINATIONS = list(
    itertools.product(
        [t.name for t in catalog()],
        ["validatingpolicy", "clusterpolicy"],
        [None, "team-a"],
        ["Audit", "Enforce"],
    )
)
PARAMETERS = {t.name: t.samples().parameters for t in catalog()}


@pytest.mark.parametrize(
    ("name", "api", "namespace", "action"),
    COMBINATIONS,
    ids=["-".join(str(p) for p in c) for c in COMBINATIONS],
)
def test_rendered_manifest_validates(
    kyverno_schemas: KyvernoSchemas, name: str, api: str, namespace: str | None, action: str
) -> None:
    manifest = render(name, PARAMETERS[name], api=api, namespace=namespace, failure_action=action)
    assert kyverno_schemas.problems(manifest) == []


def test_every_kind_we_render_has_a_schema_file(kyverno_schemas: KyvernoSchemas) -> None:
    for api, namespace in itertools.product(["validatingpolicy", "clusterpolicy"], [None, "ns"]):
        manifest = render("disallow-host-path", api=api, namespace=namespace)
        assert kyverno_schemas.file_for(manifest["apiVersion"], manifest["kind"]).is_file()


def test_default_shared_dir_is_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(kyverno_schema.SHARED_DIR_ENV, raising=False)
    repo = Path(kyverno_schema.__file__).resolve().parents[2]
    assert kyverno_schema.shared_dir() == (repo.parent / "shared").resolve()
    monkeypatch.setenv(kyverno_schema.SHARED_DIR_ENV, "/somewhere/shared")
    assert kyverno_schema.kyverno_schema_dir() == Path("/somewhere/shared/schemas/kyverno")


def test_validator_rejects_what_kyverno_would(kyverno_schemas: KyvernoSchemas) -> None:
    legacy = render("disallow-host-path", api="clusterpolicy")
    legacy["spec"]["rules"][0]["validate"]["failureAction"] = "Deny"
    legacy["spec"]["rules"][0]["validate"]["cel"]["expression"] = "true"
    problems = kyverno_schemas.problems(legacy)
    assert any("failureAction" in p and "'Deny' is not one of" in p for p in problems)
    assert any("'expression' was unexpected" in p for p in problems)

    policy = render("restrict-image-registries", PARAMETERS["restrict-image-registries"])
    policy["spec"]["validationActions"] = ["Deny", "Deny"]
    policy["spec"]["variables"].append(dict(policy["spec"]["variables"][0]))
    policy["spec"]["validations"][0].pop("expression")
    policy["metadata"]["labels"]["tenantguard.io/policy-template"] = "x" * 64
    problems = kyverno_schemas.problems(policy)
    assert any("duplicate item 'Deny'" in p for p in problems)
    assert any("duplicate map key" in p for p in problems)
    assert any("'expression' is a required property" in p for p in problems)
    assert any("is not a label value" in p for p in problems)

    with pytest.raises(FileNotFoundError, match=r"no schema for policies\.kyverno\.io/v1 Nope"):
        kyverno_schemas.problems({**policy, "kind": "Nope"})


def test_preserve_unknown_fields_lifts_additional_properties(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {  # a CRD root lists these and declares no additionalProperties
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "strict": {"type": "object", "additionalProperties": False},
            "open": {
                "type": "object",
                "additionalProperties": False,
                "x-kubernetes-preserve-unknown-fields": True,
            },
            "either": {"x-kubernetes-int-or-string": True},
        },
    }
    (tmp_path / "example.com_thing_v1.json").write_text(json.dumps(schema))
    schemas = KyvernoSchemas(tmp_path)
    thing = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"}}
    assert schemas.problems({**thing, "open": {"any": 1}, "either": "50%"}) == []
    problems = schemas.problems({**thing, "strict": {"any": 1}, "either": 1.5})
    assert any("'any' was unexpected" in p for p in problems)
    assert any("neither an integer nor a string" in p for p in problems)
    assert any("'stray' was unexpected" in p for p in schemas.problems({**thing, "stray": 1}))


def test_unknown_kubernetes_extension_is_refused(tmp_path: Path) -> None:
    schema = {"type": "object", "x-kubernetes-validations": [{"rule": "self.a > 0"}]}
    (tmp_path / "example.com_thing_v1.json").write_text(json.dumps(schema))
    with pytest.raises(ValueError, match="x-kubernetes-validations is not handled"):
        KyvernoSchemas(tmp_path).problems({"apiVersion": "example.com/v1", "kind": "Thing"})
