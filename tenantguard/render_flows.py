"""The render's per-project table of allowed flows (`segmentation/<rule set>.md`), read from
the registered RuleSets: what the PCE will allow, in words a reviewer can check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tenantguard.recording_mocks import Recording
from tenantguard.render_output import RenderedFile

RULE_SET_TYPE = "pulumi-python:dynamic/illumio:RuleSet"
_PLACEHOLDER = re.compile(r"^<(\w+) (\S+)\.href>$")
"""How the render's mocks answer an href: `<Label label-app-shop.href>`."""


def object_names(recording: Recording) -> dict[str, str]:
    """Resource name -> how a table names the PCE object (`app=shop`, `IP list x`)."""
    names: dict[str, str] = {}
    for resource in recording.resources:
        kind = resource.type.rsplit(":", 1)[-1]
        if kind == "Label":
            names[resource.name] = f"{resource.inputs.get('key')}={resource.inputs.get('value')}"
        elif kind == "IpList":
            names[resource.name] = f"IP list {resource.inputs.get('name')}"
    return names


def _ports(services: list[dict[str, Any]]) -> str:
    shown = []
    for service in services:
        proto = str(service.get("proto", "")).upper()
        port, to_port = service.get("port"), service.get("to_port")
        if port is None:
            shown.append(f"{proto} any")
        elif to_port is not None and to_port != port:
            shown.append(f"{proto} {int(port)}-{int(to_port)}")
        else:
            shown.append(f"{proto} {int(port)}")
    return ", ".join(shown)


def _peer(actors: list[Any], names: Mapping[str, str]) -> str:
    if actors == ["ams"]:
        return "the project"
    shown = []
    for actor in actors:
        match = _PLACEHOLDER.match(str(actor))
        shown.append(names.get(match.group(2), str(actor)) if match else str(actor))
    return " and ".join(shown)


def flow_table(inputs: dict[str, Any], names: Mapping[str, str] | None = None) -> str:
    """One rule set's Markdown table: each rule's flow, who connects to whom, and ports."""
    lines = [
        f"# {inputs.get('name')}",
        "",
        str(inputs.get("description") or ""),
        "",
        "| flow | from | to | ports | reaches beyond the scope |",
        "|---|---|---|---|---|",
    ]
    names = names or {}
    for rule in inputs.get("rules") or []:
        flow = str(rule.get("description", "")).split(": ", 1)[-1]
        lines.append(
            f"| {flow} | {_peer(rule.get('consumers') or [], names)} | "
            f"{_peer(rule.get('providers') or [], names)} | {_ports(rule.get('services') or [])} | "
            f"{'yes' if rule.get('unscoped_consumers') else 'no'} |"
        )
    lines += ["", "Everything else is dropped once the project's enforcement mode is full.", ""]
    return "\n".join(lines)


def flow_files(recording: Recording) -> list[RenderedFile]:
    """A flow table per registered RuleSet, named after the rule set."""
    names = object_names(recording)
    return [
        RenderedFile(
            f"segmentation/{resource.inputs.get('name')}.md", flow_table(resource.inputs, names)
        )
        for resource in recording.of_type(RULE_SET_TYPE)
    ]
