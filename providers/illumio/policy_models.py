"""Pydantic models of the PCE's security-policy objects: rule sets (with rules), IP lists,
pending changes and policy versions. Kept apart from `models` so that module stays small.

Like every PCE model, unknown fields are ignored. A draft object's `update_type` says how
it differs from the active policy (`create`, `update`, `delete`; None when it does not).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from providers.illumio.models import Href, PceModel


def _null_list(value: Any) -> Any:
    return [] if value is None else value


class RuleRecord(PceModel):
    """One rule of a rule set, its fields in the PCE's own shape."""

    href: Href
    enabled: bool = True
    description: str | None = None
    providers: list[dict[str, Any]] = Field(default_factory=list)
    consumers: list[dict[str, Any]] = Field(default_factory=list)
    ingress_services: list[dict[str, Any]] = Field(default_factory=list)
    resolve_labels_as: dict[str, Any] | None = None
    unscoped_consumers: bool = False

    _lists = field_validator("providers", "consumers", "ingress_services", mode="before")(
        classmethod(lambda cls, v: _null_list(v))
    )


class RuleSetRecord(PceModel):
    """A draft (or active) rule set with its rules embedded."""

    href: Href
    name: str
    description: str | None = None
    enabled: bool = True
    scopes: list[list[dict[str, Any]]] = Field(default_factory=list)
    rules: list[RuleRecord] = Field(default_factory=list)
    update_type: str | None = None

    _lists = field_validator("scopes", "rules", mode="before")(
        classmethod(lambda cls, v: _null_list(v))
    )

    @property
    def deleted(self) -> bool:
        """Deleted in draft (its deletion not provisioned yet): gone for a client."""
        return self.update_type == "delete"


class IpListRecord(PceModel):
    """A draft (or active) IP list."""

    href: Href
    name: str
    description: str | None = None
    ip_ranges: list[dict[str, Any]] = Field(default_factory=list)
    fqdns: list[dict[str, Any]] = Field(default_factory=list)
    update_type: str | None = None

    _lists = field_validator("ip_ranges", "fqdns", mode="before")(
        classmethod(lambda cls, v: _null_list(v))
    )

    @property
    def deleted(self) -> bool:
        return self.update_type == "delete"


class PendingChange(PceModel):
    """One pending change: the draft object's href and how it differs from active."""

    href: Href
    update_type: str | None = None
    name: str | None = None


class PolicyVersionRecord(PceModel):
    """A policy version (one provision)."""

    href: Href
    version: int | None = None
    commit_message: str | None = None
    created_at: str | None = None
