"""Pydantic models of the PCE objects tenantguard reads, shaped like recorded PCE responses.

Unknown fields are ignored (PCE versions add fields freely); hrefs are normalised by
dropping whitespace, which never occurs in a real href but does in documentation copies.
The container-cluster token is a SecretStr so it cannot leak through repr or logs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
)

_WHITESPACE = re.compile(r"\s+")


def _clean_href(value: Any) -> Any:
    return _WHITESPACE.sub("", value) if isinstance(value, str) else value


Href = Annotated[str, BeforeValidator(_clean_href)]


def last_segment(href: str) -> str:
    """The id part of an href: `/orgs/1/labels/7` -> `7`."""
    return href.rstrip("/").rsplit("/", 1)[-1]


class PceModel(BaseModel):
    """Base for PCE payloads: extra fields ignored, instances immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class HrefRef(PceModel):
    """A reference to another object: `{"href": ...}`."""

    href: Href


class NamedRef(PceModel):
    """A reference that also carries a display name (virtual services)."""

    href: Href
    name: str | None = None


class ClusterNode(PceModel):
    name: str
    pod_subnet: str | None = None


class ClusterErrorEntry(PceModel):
    """One entry of a cluster's `errors` (Kubelink problems the PCE recorded)."""

    audit_event: HrefRef | None = None
    duplicate_ids: list[str] = Field(default_factory=list)
    error_type: str | None = None


class ClusterRecord(PceModel):
    """A container cluster. `container_cluster_token` is only set on the create response."""

    href: Href
    name: str
    description: str | None = None
    pce_fqdn: str | None = None
    manager_type: str | None = None
    network_type: str | None = None
    container_runtime: str | None = None
    last_connected: str | None = None
    kubelink_version: str | None = None
    online: bool = False
    nodes: list[ClusterNode] = Field(default_factory=list)
    errors: list[ClusterErrorEntry] = Field(default_factory=list)
    caps: list[str] | None = None
    container_cluster_token: SecretStr | None = Field(default=None, repr=False)

    @property
    def cluster_id(self) -> str:
        """The cluster uuid (Kubelink's `cluster_id`)."""
        return last_segment(self.href)


class LabelRef(PceModel):
    """A label as profiles echo it: href, plus value in newer responses."""

    href: Href
    value: str | None = None


class ProfileLabel(PceModel):
    """One per-key label rule of a workload profile.

    `assignment` pins one label; `restriction` is the allow-list pods may pick from (an
    empty list allows any value); neither means "no label for this key". Older request
    shapes (`assign`, a single `restriction` object, `assign: {}`) are accepted too.
    """

    key: str
    assignment: LabelRef | None = Field(
        default=None, validation_alias=AliasChoices("assignment", "assign")
    )
    restriction: list[LabelRef] | None = None

    @field_validator("assignment", mode="before")
    @classmethod
    def _empty_assignment(cls, value: Any) -> Any:
        if isinstance(value, dict) and not value.get("href"):
            return None
        return value

    @field_validator("restriction", mode="before")
    @classmethod
    def _single_restriction(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [value] if value.get("href") else []
        return value


class WorkloadProfileRecord(PceModel):
    """A container workload profile: one Kubernetes namespace (or the cluster default)."""

    href: Href
    name: str | None = None
    description: str | None = None
    namespace: str | None = None
    enforcement_mode: str | None = None
    visibility_level: str | None = None
    managed: bool = False
    linked: bool | None = None
    log_traffic: bool | None = None
    assign_labels: list[HrefRef] = Field(default_factory=list)
    labels: list[ProfileLabel] = Field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None
    created_by: HrefRef | None = None
    updated_by: HrefRef | None = None

    @field_validator("assign_labels", "labels", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def cluster_href(self) -> str:
        """The href of the cluster this profile belongs to."""
        return self.href.split("/container_workload_profiles/", 1)[0]

    def assigned_labels(self) -> dict[str, str | None]:
        """Per key, the pinned label href (None: the key is explicitly left without a label)."""
        return {
            entry.key: entry.assignment.href if entry.assignment else None
            for entry in self.labels
            if entry.restriction is None
        }

    def label_restrictions(self) -> dict[str, list[str]]:
        """Per key, the allow-listed label hrefs (an empty list allows any value)."""
        return {
            entry.key: [ref.href for ref in entry.restriction]
            for entry in self.labels
            if entry.restriction is not None
        }


class LabelRecord(PceModel):
    """A label (key/value pair)."""

    href: Href
    key: str
    value: str
    created_at: str | None = None
    updated_at: str | None = None
    created_by: HrefRef | None = None
    updated_by: HrefRef | None = None
    deleted: bool = False
    external_data_set: str | None = None
    external_data_reference: str | None = None

    @property
    def label_id(self) -> str:
        return last_segment(self.href)


class PairingProfileRecord(PceModel):
    """A pairing profile (the template C-VEN pairing keys are issued from)."""

    href: Href
    name: str
    description: str | None = None
    enabled: bool = True
    enforcement_mode: str | None = None
    visibility_level: str | None = None
    labels: list[HrefRef] = Field(default_factory=list)
    allowed_uses_per_key: int | str | None = None
    key_lifespan: int | str | None = None
    is_default: bool | None = None
    total_use_count: int | None = None
    last_pairing_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @field_validator("labels", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value


class ServiceBackend(PceModel):
    """A Kubernetes workload that backs a virtual service (reported by Kubelink)."""

    name: str
    kind: str
    namespace: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    virtual_service: NamedRef | None = Field(
        default=None, validation_alias=AliasChoices("virtual_service", "virtual_services")
    )


class PceErrorItem(PceModel):
    """One element of the PCE's error array `[{"token": ..., "message": ...}]`."""

    token: str | None = None
    message: str | None = None


class AsyncJob(PceModel):
    """An asynchronous collection job (`/orgs/<id>/jobs/<id>`)."""

    href: Href | None = None
    job_type: str | None = None
    status: str = "pending"
    result: dict[str, Any] | str | None = None
    requested_at: str | None = None
    terminated_at: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("done", "completed")

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def result_href(self) -> str | None:
        """Where the finished job's collection can be read."""
        if isinstance(self.result, str):
            return _clean_href(self.result) or None
        if isinstance(self.result, dict) and isinstance(self.result.get("href"), str):
            return _clean_href(self.result["href"]) or None
        return None

    @property
    def result_message(self) -> str | None:
        if isinstance(self.result, dict) and self.result.get("message"):
            return str(self.result["message"])
        return None
