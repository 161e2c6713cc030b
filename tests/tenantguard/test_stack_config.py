"""tenantguard.stack_config: the plain config of Pulumi.<stack>.yaml, secure values skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from providers.illumio.settings import PceSettings
from tenantguard.stack_config import (
    StackConfigError,
    find_project_dir,
    load_stack_config,
    project_name,
)

REPO = Path(__file__).resolve().parents[2]

STACK_FILE = """\
config:
  illumio:pceUrl: https://pce.lab.example:8443
  illumio:orgId: 7
  illumio:apiKey: api_0123456789
  illumio:apiSecret:
    secure: v1:AbCdEf0123456789
  illumio:insecureSkipTlsVerify: false
  replicas: 3
  vault:settings:
    address: https://vault.lab.example
    nested:
      secure: v1:Zz
  kyverno:tags: [a, b]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: lab-project\nruntime: python\n")
    (tmp_path / "Pulumi.lab.yaml").write_text(STACK_FILE)
    return tmp_path


def test_reads_the_repository_dev_stack() -> None:
    config = load_stack_config("dev", REPO)
    assert config.path == REPO / "Pulumi.dev.yaml"
    assert config.values["illumio:pceUrl"] == "https://pce.internal.example:8443"
    assert config.values["illumio:orgId"] == "1"
    assert config.values["tenantguard:spec"] == "dev"


def test_plain_values_become_text_and_secure_ones_are_skipped(project: Path) -> None:
    config = load_stack_config("lab", project)
    assert config.values == {
        "illumio:pceUrl": "https://pce.lab.example:8443",
        "illumio:orgId": "7",
        "illumio:apiKey": "api_0123456789",
        "illumio:insecureSkipTlsVerify": "false",
        "lab-project:replicas": "3",
        "kyverno:tags": json.dumps(["a", "b"]),
    }
    assert config.secure_keys == ("illumio:apiSecret", "vault:settings")
    assert "v1:AbCdEf0123456789" not in repr(config)


def test_the_secret_comes_from_the_environment_like_the_providers(project: Path) -> None:
    config = load_stack_config("lab", project)
    settings = PceSettings.load(config.values, env={"ILLUMIO_API_SECRET": "s3cret-value"})
    assert settings.pce_url == "https://pce.lab.example:8443"
    assert settings.org_id == 7
    assert settings.api_secret.get_secret_value() == "s3cret-value"


def test_a_missing_stack_file_or_project_gives_no_values(project: Path, tmp_path: Path) -> None:
    assert load_stack_config("other", project).path is None
    assert load_stack_config("other", project).values == {}
    empty = tmp_path / "no-project"
    empty.mkdir()
    assert load_stack_config("lab", empty).values == {}


def test_finds_the_project_directory_from_a_subdirectory(project: Path) -> None:
    nested = project / "a" / "b"
    nested.mkdir(parents=True)
    assert find_project_dir(nested) == project.resolve()
    assert project_name(project) == "lab-project"


def test_invalid_yaml_names_file_and_line(project: Path) -> None:
    (project / "Pulumi.bad.yaml").write_text("config:\n  a: [1,\n  b: 2\n")
    with pytest.raises(StackConfigError, match=r"Pulumi\.bad\.yaml:\d+: not valid YAML"):
        load_stack_config("bad", project)


def test_config_that_is_not_a_mapping_is_refused(project: Path) -> None:
    (project / "Pulumi.list.yaml").write_text("config:\n  - a\n")
    with pytest.raises(StackConfigError, match="`config:` is not a mapping"):
        load_stack_config("list", project)


def test_a_stack_file_without_config_is_empty(project: Path) -> None:
    (project / "Pulumi.bare.yaml").write_text("encryptionsalt: v1:abc\n")
    config = load_stack_config("bare", project)
    assert config.path == project / "Pulumi.bare.yaml"
    assert config.values == {}
