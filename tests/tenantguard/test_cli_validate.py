"""`tenantguard validate`: exit 0 with the spec's size, 1 with every problem, 2 for usage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import stacks
from tenantguard import cli

REPO = Path(__file__).resolve().parents[2]

BAD_SPEC = """\
cluster:
  name: lab
  apiServer: http://not-https.example
vault:
  pathPrefix: tenantguard/lab
tenants:
  - name: Payments
    projects:
      - name: api
        psaLevel: lenient
"""


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def _counts(name: str) -> tuple[int, int]:
    spec = stacks.load(name)
    return len(spec.tenants), sum(len(t.projects) for t in spec.tenants)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_valid_stack_prints_ok_with_its_size(stack: str, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["validate", stack]) == 0
    out, err = capsys.readouterr()
    tenants, projects = _counts(stack)
    assert out == f"OK: stacks/{stack}.yaml ({tenants} tenants, {projects} projects)\n"
    assert err == ""


def test_validate_dev_prints_one_ok_line_with_its_counts(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["validate", "dev"]) == 0
    assert capsys.readouterr().out == "OK: stacks/dev.yaml (2 tenants, 4 projects)\n"


def test_a_bad_spec_lists_every_problem_with_file_line_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "lab.yaml").write_text(BAD_SPEC)
    with pytest.raises(stacks.SpecError) as expected:
        stacks.load("lab", directory=tmp_path)

    assert cli.main(["validate", "lab", "--stacks-dir", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    problems = expected.value.problems
    assert len(problems) >= 3
    for problem in problems:
        assert str(problem) in lines
    assert any(":3: cluster.apiServer: " in line for line in lines)
    assert any("tenants[0].projects[0].psaLevel" in line for line in lines)
    assert lines[-1] == f"FAILED: {tmp_path / 'lab.yaml'} ({len(problems)} problems)"


def test_a_spec_file_path_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    copy = tmp_path / "copy.yaml"
    shutil.copy(REPO / "stacks" / "dev.yaml", copy)
    assert cli.main(["validate", str(copy)]) == 0
    assert capsys.readouterr().out == f"OK: {copy} (2 tenants, 4 projects)\n"


def test_stacks_dir_points_elsewhere(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    shutil.copy(REPO / "stacks" / "prod.yaml", tmp_path / "staging.yaml")
    assert cli.main(["validate", "staging", "--stacks-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(f"OK: {tmp_path / 'staging.yaml'} (")


def test_an_unknown_stack_names_the_known_ones(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["validate", "staging"]) == 1
    err = capsys.readouterr().err
    assert "there is no spec for stack 'staging'" in err
    assert "dev, prod" in err


@pytest.mark.parametrize(
    "argv",
    [[], ["validate"], ["validate", "dev", "--bogus"], ["frobnicate"], ["render", "a", "b"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    assert cli.main(argv) == 2
    assert "usage: tenantguard" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("validate", "render", "policies", "pce"):
        assert command in out


def test_validate_takes_several_stacks_and_ends_with_one_summary_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("cluster: [\n", encoding="utf-8")
    assert cli.main(["validate", "dev", str(bad), "prod"]) == 1
    captured = capsys.readouterr()
    assert captured.out.count("OK: ") == 2
    assert captured.err.strip().splitlines()[-1] == "FAILED: 1 of 3 stacks (1 problem)"


def test_validate_all_checks_every_stack_in_the_folder(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["validate", "--all"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "OK: stacks/dev.yaml (2 tenants, 4 projects)",
        "OK: stacks/prod.yaml (2 tenants, 4 projects)",
        "OK: 2 stacks",
    ]


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture) -> None:
    from importlib.metadata import version

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tenantguard {version('tenantguard')}"


@pytest.mark.parametrize(
    ("argv", "debug"),
    [
        (["--debug", "validate", "dev"], True),
        (["validate", "dev", "--debug"], True),
        (["policies", "list", "--debug"], True),
        (["validate", "dev"], False),
    ],
)
def test_debug_is_accepted_before_or_after_the_subcommand(argv: list[str], debug: bool) -> None:
    assert cli.build_parser().parse_args(argv).debug is debug
