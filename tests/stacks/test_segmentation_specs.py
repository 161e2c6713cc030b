"""Segmentation in a stack spec: the loader reports each refusal with file, line and path."""

from __future__ import annotations

import pytest

from tests.stacks.conftest import VALID_SPEC, edit, line_of


def with_segmentation(text: str) -> str:
    return edit(
        VALID_SPEC,
        "          - name: deployer\n            role: edit\n",
        "          - name: deployer\n            role: edit\n        segmentation:\n" + text,
    )


def test_a_flow_from_an_unknown_project_is_refused_at_its_line(spec_problems) -> None:
    text = with_segmentation(
        "          allowFrom:\n            - project: nowhere\n              ports: [{port: 80}]\n"
    )
    (problem,) = spec_problems(text)
    assert problem.path.endswith(".segmentation.allowFrom[0].project")
    assert problem.line == line_of(text, "- project: nowhere")
    assert "has no project 'nowhere'" in problem.message


@pytest.mark.parametrize(
    ("ports", "fragment"),
    [
        ("[{port: 70000}]", "less than or equal to 65535"),
        ("[{port: 80, protocol: SCTP}]", "allowed: one of TCP, UDP"),
        ("[{port: 90, toPort: 80}]", "toPort 80 is below port 90"),
        ("[]", "at least 1 item"),
    ],
)
def test_bad_ports_and_protocols_are_refused(spec_problems, ports: str, fragment: str) -> None:
    text = with_segmentation(
        f"          allowFromNamespaces:\n            - namespace: monitoring\n"
        f"              ports: {ports}\n"
    )
    problems = spec_problems(text)
    assert any(fragment in p.message for p in problems), problems
    assert all(p.line is not None for p in problems)


def test_a_cidr_outside_the_baseline_is_refused_at_its_line(spec_problems) -> None:
    text = with_segmentation("          egressCidrs: [203.0.113.0/24]\n")
    (problem,) = spec_problems(text)
    assert problem.path.endswith(".segmentation.egressCidrs[0]")
    assert problem.line == line_of(text, "egressCidrs: [203.0.113.0/24]")
    assert "outside the platform's egressBaseline" in problem.message
