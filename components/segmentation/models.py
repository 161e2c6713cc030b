"""What a project may talk to (the spec's `tenants[].projects[].segmentation`): one intent
that drives both the project's NetworkPolicies and its Illumio rules."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from components.tenancy.spec_base import (
    DnsLabel,
    IllumioLabelMap,
    SpecModel,
)

Protocol = Literal["TCP", "UDP"]


class FlowPort(SpecModel):
    """A port, or a range up to `toPort`, and its protocol, that a flow may use."""

    port: int = Field(ge=1, le=65535)
    to_port: int | None = Field(default=None, ge=1, le=65535)
    protocol: Protocol = "TCP"

    @field_validator("to_port")
    @classmethod
    def _range(cls, value: int | None, info: Any) -> int | None:
        start = info.data.get("port")
        if value is not None and start is not None and value < start:
            raise ValueError(f"toPort {value} is below port {start}; allowed: port <= toPort")
        return value


class AllowFromProject(SpecModel):
    """Another project whose workloads may open connections to this one, on `ports`."""

    tenant: DnsLabel | None = Field(
        default=None, description="the other project's tenant (default: this project's)"
    )
    project: DnsLabel
    ports: list[FlowPort] = Field(min_length=1)


class AllowFromNamespace(SpecModel):
    """A platform namespace (monitoring, a gateway) whose pods may connect, on `ports`."""

    namespace: DnsLabel
    ports: list[FlowPort] = Field(min_length=1)
    illumio_labels: IllumioLabelMap = Field(
        default_factory=dict,
        description="a mapping of label key to value: the Illumio labels of that namespace's "
        "workloads, so the PCE rule names the same peers as the NetworkPolicy",
    )


class SegmentationSpec(SpecModel):
    """What a project may talk to; one intent drives its NetworkPolicies and Illumio rules.

    By default: everything within the project, DNS, and egress to the platform's egress
    baseline; nothing between projects unless `allowFrom` says so.
    """

    labels: IllumioLabelMap = Field(
        default_factory=dict,
        description="a mapping of label key to value overriding the project's identity "
        "labels (default app: <tenant app>-<project>), unique across the stack",
    )
    allow_dns: bool = True
    allow_egress_baseline: bool = True
    egress_cidrs: list[str] | None = Field(
        default=None,
        description="a list of CIDR networks within the platform's egressBaseline that this "
        "project may reach (default: the whole baseline)",
    )
    allow_from: list[AllowFromProject] = Field(default_factory=list)
    allow_from_namespaces: list[AllowFromNamespace] = Field(default_factory=list)
